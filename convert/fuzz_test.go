package convert

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
)

// FuzzConvert: any input is converted or refused with file:line errors, never
// a panic; and whatever converts must be a model the loader accepts (a
// converter that prints an invalid model is a converter bug).
func FuzzConvert(f *testing.F) {
	confs, _ := filepath.Glob("testdata/golden/*.conf")
	for _, c := range confs {
		if b, err := os.ReadFile(c); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(vsHead + " real_server 10.0.1.1 80 { TCP_CHECK { connect_timeout 3 } }\n}\n")
	f.Add("vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1/24 dev eth1 label eth1:x\n }\n}\n")
	f.Add("static_routes {\n src 10.0.0.1 10.2.0.0/16 via 10.0.0.254 dev eth0 metric 5 table 100\n 10.3.0.0/16 nexthop via 10.0.0.1 dev eth0 weight 2 onlink nexthop via 10.0.0.2\n blackhole 10.4.0.0/16\n default via 2001:db8::1 mtu lock 1400 no_track\n to unreachable 10.7.0.0/16\n 10.8.0.0/16 dev eth0 scope 253\n}\n" +
		"vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_routes {\n  10.5.0.0/16 via 10.0.0.1 or 10.0.0.2 dev eth0\n  to 10.6.0.0/16 dev eth0 scope link tos 4\n }\n}\n")
	// An include DAG (each file includes the next twice): exponential
	// work unless includes count toward the work limit.
	f.Add("include d0.conf\n")
	dag := map[string]string{"d24.conf": "global_defs {\n router_id X\n}\n"}
	for i := 0; i < 24; i++ {
		dag[fmt.Sprintf("d%d.conf", i)] = fmt.Sprintf("include d%[1]d.conf\ninclude d%[1]d.conf\n", i+1)
	}
	readFile := func(name string) ([]byte, error) {
		if s, ok := dag[filepath.Base(name)]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	opt := Options{Parse: keepalived.Options{ConfigID: "main", ReadFile: readFile,
		Glob: func(string) ([]string, error) { return nil, nil }}}
	f.Fuzz(func(t *testing.T, s string) {
		res, err := Bytes([]byte(s), "f.conf", opt)
		if res == nil {
			t.Fatalf("no result: %v", err)
		}
		for _, d := range res.Diagnostics {
			if file, _, _ := strings.Cut(d.String(), ":"); file != "f.conf" && dag[filepath.Base(file)] == "" {
				t.Fatalf("diagnostic without position: %s", d)
			}
		}
		if err != nil {
			return
		}
		out, err := res.YAML("f.conf")
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		if _, err := model.Parse(out, "out.yaml"); err != nil {
			t.Fatalf("converted model does not validate: %v\ninput:\n%s\noutput:\n%s", err, s, out)
		}
	})
}

package convert

import (
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
	opt := Options{Parse: keepalived.Options{ConfigID: "main", ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist },
		Glob: func(string) ([]string, error) { return nil, nil }}}
	f.Fuzz(func(t *testing.T, s string) {
		res, err := Bytes([]byte(s), "f.conf", opt)
		if res == nil {
			t.Fatalf("no result: %v", err)
		}
		for _, d := range res.Diagnostics {
			if !strings.HasPrefix(d.String(), "f.conf:") {
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

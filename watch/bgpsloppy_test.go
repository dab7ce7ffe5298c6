package watch

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/model"
)

// TestBGPSloppyWarning: with bgp announcing an IPVS service and the
// kernel's sloppy_tcp at 0, lbx watch (and lbx validate) warn, unless the
// model sets the sysctl (plan/apply and lbx watch then write it; a model
// that sets it to false is warned by model.BGPWarnings instead).
func TestBGPSloppyWarning(t *testing.T) {
	dir := t.TempDir()
	for name, v := range map[string]string{"sloppy_tcp": "0\n", "sloppy_sctp": "1\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := sloppyDir
	sloppyDir = dir
	t.Cleanup(func() { sloppyDir = old })
	cases := []struct {
		name, ipvs string
		want       string // "" no warning about the kernel's value
	}{
		{"left to the kernel", "", "net.ipv4.vs.sloppy_tcp is 0"},
		{"set by the model", "ipvs: {sysctls: {sloppy_tcp: true}}\n", ""},
		{"another setting named", "ipvs: {sysctls: {conn_reuse_mode: 0}}\n", "net.ipv4.vs.sloppy_tcp is 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			y := "version: 1\n" + tc.ipvs + `addresses: [{address: 192.0.2.10/32, interface: lo}]
virtual_servers:
  - {name: web, address: 192.0.2.10, port: 80, scheduler: mh, scheduler_flags: [mh-port], forwarding: dr, real_servers: [{address: 10.0.0.1}]}
bgp:
  announcer: kernel
  kernel: {table: 100}
  announcements: [{prefix: 192.0.2.10/32, when: {virtual_servers: [web]}}]
`
			m, err := model.Parse([]byte(y), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			if err := bgpPreflight(m, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(log.String(), "is 0")
			switch {
			case tc.want == "" && warned:
				t.Errorf("warned: %s", log.String())
			case tc.want != "" && !strings.Contains(log.String(), tc.want):
				t.Errorf("log %q, want %q in it", log.String(), tc.want)
			}
			if strings.Contains(log.String(), "sloppy_sctp is 0") {
				t.Errorf("warned about sloppy_sctp, which is 1: %s", log.String())
			}
		})
	}
}

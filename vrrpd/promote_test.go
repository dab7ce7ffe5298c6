package vrrpd

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPromoteSettings: set writes 1 where an instance asks for it and the
// interface has another value, restore puts back exactly what set changed.
func TestPromoteSettings(t *testing.T) {
	cases := []struct {
		name        string
		have        map[string]string // interface -> value before
		insts       []*Instance
		set, restor map[string]string // values after set, after restore
	}{
		{"off is set and put back", map[string]string{"eth0": "0"},
			[]*Instance{{Interface: "eth0", PromoteSecondaries: true}},
			map[string]string{"eth0": "1"}, map[string]string{"eth0": "0"}},
		{"already on is left as it is", map[string]string{"eth0": "1"},
			[]*Instance{{Interface: "eth0", PromoteSecondaries: true}},
			map[string]string{"eth0": "1"}, map[string]string{"eth0": "1"}},
		{"an instance that does not ask changes nothing", map[string]string{"eth0": "0", "eth1": "0"},
			[]*Instance{{Interface: "eth0"}, {Interface: "eth1", PromoteSecondaries: true}},
			map[string]string{"eth0": "0", "eth1": "1"}, map[string]string{"eth0": "0", "eth1": "0"}},
		{"two instances on one interface: one change", map[string]string{"eth0": "0"},
			[]*Instance{{Interface: "eth0", PromoteSecondaries: true}, {Interface: "eth0", PromoteSecondaries: true}},
			map[string]string{"eth0": "1"}, map[string]string{"eth0": "0"}},
		{"a missing interface is skipped", map[string]string{"eth0": "0"},
			[]*Instance{{Interface: "nope", PromoteSecondaries: true}, {Interface: "eth0", PromoteSecondaries: true}},
			map[string]string{"eth0": "1"}, map[string]string{"eth0": "0"}},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPromoteSettings()
			p.dir = t.TempDir()
			for iface, v := range tc.have {
				os.Mkdir(filepath.Join(p.dir, iface), 0o755)
				os.WriteFile(filepath.Join(p.dir, iface, "promote_secondaries"), []byte(v+"\n"), 0o644)
			}
			check := func(when string, want map[string]string) {
				t.Helper()
				for iface, v := range want {
					b, _ := os.ReadFile(filepath.Join(p.dir, iface, "promote_secondaries"))
					if got := strings.TrimSpace(string(b)); got != v {
						t.Errorf("%s: %s is %q, want %q", when, iface, got, v)
					}
				}
			}
			p.set(tc.insts, log)
			p.set(tc.insts, log) // a reload with the same instances changes nothing more
			check("after set", tc.set)
			p.restore(log)
			check("after restore", tc.restor)
		})
	}
}

package plan

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/state"
)

// addr is a live address "IF/ADDR/BITS", secondary when sec.
func addr(t *testing.T, s string, sec bool) state.Address {
	t.Helper()
	iface, pfx, _ := strings.Cut(s, "/")
	p := netip.MustParsePrefix(pfx)
	return state.Address{Key: state.AddressKey{Interface: iface, Addr: p.Addr()}, Bits: p.Bits(), Scope: "global", Secondary: sec}
}

// TestKeeps: a delete of an IPv4 primary names the secondaries of its
// subnet that the plan does not delete too, and only those.
func TestKeeps(t *testing.T) {
	const owned = `version: 1
addresses:
  - {address: 192.0.2.20/24, interface: eth0}
`
	cases := []struct {
		name  string
		model string   // the model after; before, lbx owned eth0/192.0.2.10 and eth0/192.0.2.20
		live  []string // "IF/ADDR/BITS", a trailing " s" for a secondary
		want  map[string][]string
	}{
		{"primary alone in its subnet", owned, []string{"eth0/192.0.2.10/24", "eth0/192.0.2.20/32"}, map[string][]string{}},
		{"hand-added secondary kept", owned, []string{"eth0/192.0.2.10/24", "eth0/192.0.2.99/24 s", "eth0/192.0.2.20/24 s"},
			map[string][]string{"address.eth0/192.0.2.10": {"eth0/192.0.2.20", "eth0/192.0.2.99"}}},
		{"secondary deleted by the same plan is not kept", "version: 1\n", []string{"eth0/192.0.2.10/24", "eth0/192.0.2.20/24 s"},
			map[string][]string{}},
		{"a secondary's delete takes nothing down", owned, []string{"eth0/192.0.2.99/24", "eth0/192.0.2.10/24 s", "eth0/192.0.2.20/24 s"},
			map[string][]string{}},
		{"another prefix length is another subnet", owned, []string{"eth0/192.0.2.10/24", "eth0/192.0.2.99/25", "eth0/192.0.2.20/24 s"},
			map[string][]string{"address.eth0/192.0.2.10": {"eth0/192.0.2.20"}}},
		{"another interface is another subnet", owned, []string{"eth0/192.0.2.10/24", "eth1/192.0.2.99/24 s", "eth0/192.0.2.20/24 s"},
			map[string][]string{"address.eth0/192.0.2.10": {"eth0/192.0.2.20"}}},
		{"a replace of a primary keeps too", "version: 1\naddresses:\n  - {address: 192.0.2.10/24, interface: eth0, label: eth0:x}\n  - {address: 192.0.2.20/24, interface: eth0}\n",
			[]string{"eth0/192.0.2.10/24", "eth0/192.0.2.20/24 s"}, map[string][]string{"address.eth0/192.0.2.10": {"eth0/192.0.2.20"}}},
		{"IPv6 has no primaries", "version: 1\n", []string{"eth0/2001:db8::10/64", "eth0/2001:db8::20/64"}, map[string][]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			live := state.New()
			ownedKeys := map[state.AddressKey]bool{}
			for _, s := range tc.live {
				s, sec := strings.CutSuffix(s, " s")
				a := addr(t, s, sec)
				live.Addresses[a.Key] = a
				if a.Key.Addr != netip.MustParseAddr("192.0.2.99") {
					ownedKeys[a.Key] = true
				}
			}
			p := Diff(testkit.Desired(t, tc.model), live, Options{Owned: Owned{Addresses: ownedKeys}})
			got := map[string][]string{}
			for _, c := range p.Changes {
				if len(c.Keeps) == 0 {
					continue
				}
				for _, k := range c.Keeps {
					got[c.Address] = append(got[c.Address], k.String())
				}
				if !strings.Contains(c.Reason, "promote_secondaries") {
					t.Errorf("%s: reason %q does not say promote_secondaries", c.Address, c.Reason)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("keeps = %v, want %v", got, tc.want)
			}
			for k, want := range tc.want {
				if !slices.Equal(got[k], want) {
					t.Errorf("%s keeps %v, want %v", k, got[k], want)
				}
			}
		})
	}
}

// TestFingerprintSeesSecondaries: a secondary added behind a planned
// primary changes what its delete takes down, so a saved plan is stale.
func TestFingerprintSeesSecondaries(t *testing.T) {
	live := state.New()
	p := addr(t, "eth0/192.0.2.10/24", false)
	live.Addresses[p.Key] = p
	sc := Scope{Addresses: []state.AddressKey{p.Key}}
	before := Fingerprint(live, sc)
	s := addr(t, "eth0/192.0.2.99/24", true)
	live.Addresses[s.Key] = s
	if Fingerprint(live, sc) == before {
		t.Error("a secondary behind an in-scope primary left the fingerprint unchanged")
	}
}

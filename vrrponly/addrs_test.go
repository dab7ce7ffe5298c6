package vrrponly

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/state"
)

// addr is "eth0/10.0.0.1/24" with options after spaces: "secondary",
// "label=x", "scope=host".
func addr(s string) state.Address {
	f := strings.Fields(s)
	iface, pfx, _ := strings.Cut(f[0], "/")
	p := netip.MustParsePrefix(pfx)
	a := state.Address{Key: state.AddressKey{Interface: iface, Addr: p.Addr()}, Bits: p.Bits(), Scope: "global"}
	for _, o := range f[1:] {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "secondary":
			a.Secondary = true
		case "label":
			a.Label = v
		case "scope":
			a.Scope = v
		}
	}
	return a
}

func addrs(ss ...string) map[state.AddressKey]state.Address {
	out := map[state.AddressKey]state.Address{}
	for _, s := range ss {
		a := addr(s)
		out[a.Key] = a
	}
	return out
}

func keySet(ss ...string) map[state.AddressKey]bool {
	out := map[state.AddressKey]bool{}
	for _, s := range ss {
		out[addr(s).Key] = true
	}
	return out
}

// show is a plan as "-eth0/10.0.0.1/32", "-eth0/10.0.0.1/24 keeps",
// "+eth0/10.0.0.2/32", deletes first.
func show(p addrPlan) []string {
	var out []string
	for _, d := range p.dels {
		s := "-" + d.addr.Key.Interface + "/" + d.addr.Prefix().String()
		if d.keeps {
			s += " keeps"
		}
		out = append(out, s)
	}
	for _, a := range p.adds {
		out = append(out, "+"+a.Key.Interface+"/"+a.Prefix().String())
	}
	return out
}

func TestPlanAddresses(t *testing.T) {
	tests := []struct {
		name          string
		desired, live []string
		may           []string
		want          []string
	}{
		{name: "a master's address is added", desired: []string{"eth0/10.0.0.1/32"}, live: []string{"eth0/192.168.1.1/24"},
			want: []string{"+eth0/10.0.0.1/32"}},
		{name: "one in place is left", desired: []string{"eth0/10.0.0.1/32"}, live: []string{"eth0/10.0.0.1/32"}, may: []string{"eth0/10.0.0.1/32"}},
		{name: "a backup's address lbx may delete goes", live: []string{"eth0/10.0.0.1/32"}, may: []string{"eth0/10.0.0.1/32"},
			want: []string{"-eth0/10.0.0.1/32"}},
		{name: "an address not lbx's stays", live: []string{"eth0/10.0.0.9/32", "eth0/10.0.0.1/32"}, may: []string{"eth0/10.0.0.1/32"},
			want: []string{"-eth0/10.0.0.1/32"}},
		{name: "another prefix length is replaced", desired: []string{"eth0/10.0.0.1/32"}, live: []string{"eth0/10.0.0.1/24"}, may: []string{"eth0/10.0.0.1/32"},
			want: []string{"-eth0/10.0.0.1/24", "+eth0/10.0.0.1/32"}},
		{name: "another label is replaced", desired: []string{"eth0/10.0.0.1/32 label=eth0:v"}, live: []string{"eth0/10.0.0.1/32"},
			want: []string{"-eth0/10.0.0.1/32", "+eth0/10.0.0.1/32"}},
		{name: "the default scope is global", desired: []string{"eth0/10.0.0.1/32 scope="}, live: []string{"eth0/10.0.0.1/32 scope=global"}},
		{name: "a primary with an operator's secondary keeps it", live: []string{"eth0/10.0.0.1/24", "eth0/10.0.0.2/24 secondary"},
			may: []string{"eth0/10.0.0.1/32"}, want: []string{"-eth0/10.0.0.1/24 keeps"}},
		{name: "a primary whose secondary goes too keeps none", live: []string{"eth0/10.0.0.1/24", "eth0/10.0.0.2/24 secondary"},
			may: []string{"eth0/10.0.0.1/32", "eth0/10.0.0.2/32"}, want: []string{"-eth0/10.0.0.1/24", "-eth0/10.0.0.2/24"}},
		{name: "the same address on another link is another", desired: []string{"eth1/10.0.0.1/32"}, live: []string{"eth0/10.0.0.1/32"},
			want: []string{"+eth1/10.0.0.1/32"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			may := keySet(tc.may...)
			got := show(planAddresses(addrs(tc.desired...), func(k state.AddressKey) bool { return may[k] }, addrs(tc.live...)))
			if !slices.Equal(got, tc.want) {
				t.Errorf("plan = %q, want %q", got, tc.want)
			}
		})
	}
}

package netaddr

import (
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/rtnl"
	"github.com/lbx-dev/lbx/state"
)

// TestRoute: a state address as route netlink adds it: the index given,
// the scope by number, IPv6 without duplicate address detection.
func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		addr, scope string
		want        rtnl.Addr
	}{
		{"192.0.2.10", "", rtnl.Addr{Index: 2, Addr: netip.MustParseAddr("192.0.2.10"), Bits: 24, Label: "eth0:vip"}},
		{"192.0.2.10", "host", rtnl.Addr{Index: 2, Addr: netip.MustParseAddr("192.0.2.10"), Bits: 24, Label: "eth0:vip", Scope: unix.RT_SCOPE_HOST}},
		{"2001:db8::10", "link", rtnl.Addr{Index: 2, Addr: netip.MustParseAddr("2001:db8::10"), Bits: 24, Label: "eth0:vip",
			Scope: unix.RT_SCOPE_LINK, Flags: unix.IFA_F_NODAD}},
	} {
		a := state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr(tc.addr)}, Bits: 24, Label: "eth0:vip", Scope: tc.scope}
		if got := Route(a, 2); got != tc.want {
			t.Errorf("Route(%s scope %q) = %+v, want %+v", tc.addr, tc.scope, got, tc.want)
		}
	}
}

func TestScopeNames(t *testing.T) {
	for _, name := range []string{"global", "site", "link", "host", "nowhere"} {
		if got := ScopeName(ScopeNumber(name)); got != name {
			t.Errorf("ScopeName(ScopeNumber(%q)) = %q", name, got)
		}
	}
	if got := ScopeName(77); got != "77" {
		t.Errorf("ScopeName(77) = %q, want the number", got)
	}
}

// TestIndexAndName: the loopback, which every namespace has, by name and
// index; a name no interface has.
func TestIndexAndName(t *testing.T) {
	i, err := Index("lo")
	if err != nil || i <= 0 {
		t.Fatalf("Index(lo) = %d, %v", i, err)
	}
	if name, err := Name(i); err != nil || name != "lo" {
		t.Errorf("Name(%d) = %q, %v, want lo", i, name, err)
	}
	if _, err := Index("lbx-no-such0"); !errors.Is(err, unix.ENODEV) {
		t.Errorf("Index of a missing interface: %v, want ENODEV", err)
	}
}

// TestFromRoute: an address as route netlink reads it, as state holds it:
// the kernel's defaults (the interface name as label, a mapped IPv4)
// undone, secondary only for IPv4; Route's inverse.
func TestFromRoute(t *testing.T) {
	want := state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.10")}, Bits: 24, Label: "eth0:vip", Scope: "host"}
	if got := FromRoute(Route(want, 2), "eth0"); got != want {
		t.Errorf("FromRoute(Route(%v)) = %v", want, got)
	}
	for _, tc := range []struct {
		name string
		a    rtnl.Addr
		want state.Address
	}{
		{"a secondary with the default label, mapped", rtnl.Addr{Addr: netip.AddrFrom16(netip.MustParseAddr("192.0.2.11").As16()), Bits: 32, Label: "eth0", Flags: unix.IFA_F_SECONDARY},
			state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.11")}, Bits: 32, Scope: "global", Secondary: true}},
		{"IPv6 has no secondaries", rtnl.Addr{Addr: netip.MustParseAddr("2001:db8::1"), Bits: 64, Scope: unix.RT_SCOPE_LINK, Flags: unix.IFA_F_SECONDARY},
			state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("2001:db8::1")}, Bits: 64, Scope: "link"}},
	} {
		if got := FromRoute(tc.a, "eth0"); got != tc.want {
			t.Errorf("%s: FromRoute = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

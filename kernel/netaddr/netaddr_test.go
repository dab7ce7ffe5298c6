package netaddr

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/rtnl"
	"github.com/lbx-dev/lbx/state"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		addr, scope, want string
		flags             int
		scopeNum          int
	}{
		{"192.0.2.10", "", "192.0.2.10/24", 0, 0},
		{"192.0.2.10", "host", "192.0.2.10/24", 0, unix.RT_SCOPE_HOST},
		{"2001:db8::10", "link", "2001:db8::10/24", unix.IFA_F_NODAD, unix.RT_SCOPE_LINK},
	} {
		a := state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr(tc.addr)}, Bits: 24, Label: "eth0:vip", Scope: tc.scope}
		got := Of(a)
		if got.IPNet.String() != tc.want || got.Flags != tc.flags || got.Scope != tc.scopeNum || got.Label != "eth0:vip" {
			t.Errorf("Of(%s scope %q) = %s flags %d scope %d label %q", tc.addr, tc.scope, got.IPNet, got.Flags, got.Scope, got.Label)
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

// TestFrom: netlink's address as state holds it, the kernel's defaults
// (the interface name as label, a mapped IPv4) undone, Of's inverse.
func TestFrom(t *testing.T) {
	want := state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.10")}, Bits: 24, Label: "eth0:vip", Scope: "host"}
	a := *Of(want)
	if got, ok := From(a, "eth0"); !ok || got != want {
		t.Errorf("From(Of(%v)) = %v, %v", want, got, ok)
	}
	a.Label, a.Flags = "eth0", unix.IFA_F_SECONDARY
	a.IP = a.IP.To16() // as the kernel may report an IPv4 address
	got, ok := From(a, "eth0")
	if !ok || got.Label != "" || !got.Secondary || got.Key.Addr != want.Key.Addr {
		t.Errorf("From(a secondary with the default label) = %+v, %v", got, ok)
	}
	if _, ok := From(netlink.Addr{}, "eth0"); ok {
		t.Error("From of an address without IP is ok")
	}
}

// TestFromRoute: route netlink's reading of an address gives what From
// gives for netlink's, the kernel's defaults undone alike.
func TestFromRoute(t *testing.T) {
	for _, a := range []rtnl.Addr{
		{Index: 2, Addr: netip.MustParseAddr("192.0.2.10"), Bits: 24, Label: "eth0:vip", Scope: unix.RT_SCOPE_HOST},
		{Index: 2, Addr: netip.MustParseAddr("192.0.2.11"), Bits: 32, Label: "eth0", Flags: unix.IFA_F_SECONDARY},
		{Index: 2, Addr: netip.MustParseAddr("2001:db8::1"), Bits: 64, Scope: unix.RT_SCOPE_LINK, Flags: unix.IFA_F_SECONDARY | unix.IFA_F_NODAD},
	} {
		nl := netlink.Addr{IPNet: &net.IPNet{IP: a.Addr.AsSlice(), Mask: net.CIDRMask(a.Bits, a.Addr.BitLen())},
			Label: a.Label, Scope: int(a.Scope), Flags: int(a.Flags)}
		want, _ := From(nl, "eth0")
		if got := FromRoute(a, "eth0"); got != want {
			t.Errorf("FromRoute(%+v) = %+v, want %+v", a, got, want)
		}
	}
}

package kernel

import (
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/state"
)

// TestNetlinkAddr: a state address as netlink adds it (netaddr.Route's
// rules: the scope by number, IPv6 without duplicate address detection).
func TestNetlinkAddr(t *testing.T) {
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
		got := netlinkAddr(a)
		if got.IPNet.String() != tc.want || got.Flags != tc.flags || got.Scope != tc.scopeNum || got.Label != "eth0:vip" {
			t.Errorf("netlinkAddr(%s scope %q) = %s flags %d scope %d label %q", tc.addr, tc.scope, got.IPNet, got.Flags, got.Scope, got.Label)
		}
	}
}

// TestStateAddr: netlink's address as state holds it, the kernel's
// defaults (the interface name as label, a mapped IPv4) undone,
// netlinkAddr's inverse.
func TestStateAddr(t *testing.T) {
	want := state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.10")}, Bits: 24, Label: "eth0:vip", Scope: "host"}
	a := *netlinkAddr(want)
	if got, ok := stateAddr(a, "eth0"); !ok || got != want {
		t.Errorf("stateAddr(netlinkAddr(%v)) = %v, %v", want, got, ok)
	}
	a.Label, a.Flags = "eth0", unix.IFA_F_SECONDARY
	a.IP = a.IP.To16() // as the kernel may report an IPv4 address
	got, ok := stateAddr(a, "eth0")
	if !ok || got.Label != "" || !got.Secondary || got.Key.Addr != want.Key.Addr {
		t.Errorf("stateAddr(a secondary with the default label) = %+v, %v", got, ok)
	}
	if _, ok := stateAddr(netlink.Addr{}, "eth0"); ok {
		t.Error("stateAddr of an address without IP is ok")
	}
}

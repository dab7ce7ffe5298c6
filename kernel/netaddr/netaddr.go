// Package netaddr converts package state's addresses and scopes to and
// from netlink's, for the kernel package and for a process that manages
// VRRP addresses without it.
package netaddr

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/state"
)

// Of is a as netlink adds and deletes it.
func Of(a state.Address) *netlink.Addr {
	ip := a.Key.Addr.AsSlice()
	na := &netlink.Addr{
		IPNet: &net.IPNet{IP: ip, Mask: net.CIDRMask(a.Bits, a.Key.Addr.BitLen())},
		Label: a.Label,
		Scope: ScopeNumber(a.Scope),
	}
	if a.Key.Addr.Is6() {
		// A virtual address must answer at once: skip duplicate address
		// detection, as keepalived does.
		na.Flags = unix.IFA_F_NODAD
	}
	return na
}

var scopeNames = map[netlink.Scope]string{
	netlink.SCOPE_UNIVERSE: "global",
	netlink.SCOPE_SITE:     "site",
	netlink.SCOPE_LINK:     "link",
	netlink.SCOPE_HOST:     "host",
	netlink.SCOPE_NOWHERE:  "nowhere",
}

// ScopeName is a scope number's name as the model writes it.
func ScopeName(s int) string {
	if n, ok := scopeNames[netlink.Scope(s)]; ok {
		return n
	}
	return fmt.Sprint(s)
}

// ScopeNumber is the number of a scope the model names (global when
// unknown).
func ScopeNumber(name string) int {
	for n, s := range scopeNames {
		if s == name {
			return int(n)
		}
	}
	return int(netlink.SCOPE_UNIVERSE)
}

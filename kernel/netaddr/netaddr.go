// Package netaddr converts package state's addresses and scopes to and
// from netlink's, for the kernel package and for a process that manages
// VRRP addresses without it.
package netaddr

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/procsys"
	"github.com/lbx-dev/lbx/internal/rtnl"
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

// From is a netlink address of the interface iface as state holds it; ok
// is false for one without an IP.
func From(a netlink.Addr, iface string) (state.Address, bool) {
	if a.IPNet == nil {
		return state.Address{}, false
	}
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return state.Address{}, false
	}
	ones, _ := a.Mask.Size()
	return address(iface, ip, ones, a.Label, a.Scope, uint32(a.Flags)), true
}

// FromRoute is From for an address of route netlink's own reading.
func FromRoute(a rtnl.Addr, iface string) state.Address {
	return address(iface, a.Addr, a.Bits, a.Label, int(a.Scope), a.Flags)
}

func address(iface string, ip netip.Addr, bits int, label string, scope int, flags uint32) state.Address {
	ip = ip.Unmap()
	if label == iface {
		label = "" // the kernel reports the interface name as the default label
	}
	key := state.AddressKey{Interface: iface, Addr: ip}
	return state.Address{Key: key, Bits: bits, Label: label, Scope: ScopeName(scope),
		Secondary: ip.Is4() && flags&unix.IFA_F_SECONDARY != 0}
}

// PromoteSecondariesPath is the file of an interface's setting that makes
// the kernel promote a secondary IPv4 address when the primary goes. Not
// a state.SysctlKey: an interface name may hold dots (eth0.100).
func PromoteSecondariesPath(iface string) string {
	return "/proc/sys/net/ipv4/conf/" + iface + "/promote_secondaries"
}

// DeletePromoting runs del, the delete of a, with a's interface's
// promote_secondaries set to 1 for it (the kernel then promotes a
// secondary instead of deleting them all), then puts the setting back as
// it was. in runs a file operation in the address's network namespace.
// An error wrapping fs.ErrNotExist means the interface is gone, and its
// addresses with it.
func DeletePromoting(a state.Address, in func(func() error) error, del func() error) error {
	path := PromoteSecondariesPath(a.Key.Interface)
	var old string
	err := in(func() error {
		b, err := os.ReadFile(path)
		if old = strings.TrimSpace(string(b)); err != nil || old == "1" {
			return err
		}
		return procsys.Write(path, "1")
	})
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return err
	case err != nil:
		return fmt.Errorf("delete address %s: keep its secondaries: %w", a.Key, err)
	}
	delErr := del()
	if old == "1" {
		return delErr
	}
	err = in(func() error { return procsys.Write(path, old) })
	if err != nil && !errors.Is(err, fs.ErrNotExist) && delErr == nil {
		return fmt.Errorf("deleted address %s, but could not put %s back to %s: %w", a.Key, path, old, err)
	}
	return delErr
}

// Index is the index of the interface name, read by ioctl: netlink's
// LinkByName and net.InterfaceByName decode a dump of links instead,
// which a VRRP process pays at every address change. An error wrapping
// unix.ENODEV means there is no such interface.
func Index(name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("interface %s: %w", name, err)
	}
	if err := ioctl(unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("interface %s: %w", name, err)
	}
	return int(ifr.Uint32()), nil
}

// Name is the name of the interface of index, read by ioctl (as Index).
func Name(index int) (string, error) {
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return "", err
	}
	ifr.SetUint32(uint32(index))
	if err := ioctl(unix.SIOCGIFNAME, ifr); err != nil {
		return "", fmt.Errorf("interface %d: %w", index, err)
	}
	return ifr.Name(), nil
}

func ioctl(req uint, ifr *unix.Ifreq) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.IoctlIfreq(fd, req, ifr)
}

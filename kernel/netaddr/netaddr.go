// Package netaddr converts package state's addresses and scopes to and
// from route netlink's (internal/rtnl), for the kernel package and for a
// process that manages VRRP addresses without it.
package netaddr

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/procsys"
	"github.com/lbx-dev/lbx/internal/rtnl"
	"github.com/lbx-dev/lbx/state"
)

// Route is a, on the interface of index, as route netlink adds and
// deletes it.
func Route(a state.Address, index int) rtnl.Addr {
	r := rtnl.Addr{Index: index, Addr: a.Key.Addr, Bits: a.Bits, Label: a.Label, Scope: uint8(ScopeNumber(a.Scope))}
	if a.Key.Addr.Is6() {
		// A virtual address must answer at once: skip duplicate address
		// detection, as keepalived does.
		r.Flags = unix.IFA_F_NODAD
	}
	return r
}

var scopeNames = map[int]string{
	unix.RT_SCOPE_UNIVERSE: "global",
	unix.RT_SCOPE_SITE:     "site",
	unix.RT_SCOPE_LINK:     "link",
	unix.RT_SCOPE_HOST:     "host",
	unix.RT_SCOPE_NOWHERE:  "nowhere",
}

// ScopeName is a scope number's name as the model writes it.
func ScopeName(s int) string {
	if n, ok := scopeNames[s]; ok {
		return n
	}
	return fmt.Sprint(s)
}

// ScopeNumber is the number of a scope the model names (global when
// unknown).
func ScopeNumber(name string) int {
	for n, s := range scopeNames {
		if s == name {
			return n
		}
	}
	return unix.RT_SCOPE_UNIVERSE
}

// FromRoute is an address of the interface iface, as route netlink reads
// it, as state holds it.
func FromRoute(a rtnl.Addr, iface string) state.Address {
	ip, label := a.Addr.Unmap(), a.Label
	if label == iface {
		label = "" // the kernel reports the interface name as the default label
	}
	key := state.AddressKey{Interface: iface, Addr: ip}
	return state.Address{Key: key, Bits: a.Bits, Label: label, Scope: ScopeName(int(a.Scope)),
		Secondary: ip.Is4() && a.Flags&unix.IFA_F_SECONDARY != 0}
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

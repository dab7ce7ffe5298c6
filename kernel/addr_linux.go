// Addresses through vishvananda/netlink (rtnetlink).

package kernel

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/rtnl"
	"github.com/lbx-dev/lbx/kernel/netaddr"
	"github.com/lbx-dev/lbx/state"
)

// netlinkAddr is a as netlink adds and deletes it: netaddr.Route's
// fields.
func netlinkAddr(a state.Address) *netlink.Addr {
	r := netaddr.Route(a, 0)
	return &netlink.Addr{IPNet: &net.IPNet{IP: r.Addr.AsSlice(), Mask: net.CIDRMask(r.Bits, r.Addr.BitLen())},
		Label: r.Label, Scope: int(r.Scope), Flags: int(r.Flags)}
}

// stateAddr is a netlink address of the interface iface as state holds
// it (netaddr.FromRoute); ok is false for one without an IP.
func stateAddr(a netlink.Addr, iface string) (state.Address, bool) {
	if a.IPNet == nil {
		return state.Address{}, false
	}
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return state.Address{}, false
	}
	bits, _ := a.Mask.Size()
	return netaddr.FromRoute(rtnl.Addr{Addr: ip, Bits: bits, Label: a.Label, Scope: uint8(a.Scope), Flags: uint32(a.Flags)}, iface), true
}

func (k *NetKernel) link(ctx context.Context, name string) (netlink.Link, error) {
	var l netlink.Link
	err := k.call(ctx, "find interface", func() (err error) { l, err = k.nl.LinkByName(name); return })
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || isErrno(err, unix.ENODEV) {
			return nil, &InterfaceError{Name: name}
		}
		return nil, explain(err, "find interface "+name)
	}
	return l, nil
}

func (k *NetKernel) AddAddress(ctx context.Context, a state.Address) error {
	l, err := k.link(ctx, a.Key.Interface)
	if err != nil {
		return err
	}
	err = k.call(ctx, "add address", func() error { return k.nl.AddrAdd(l, netlinkAddr(a)) })
	switch {
	case err == nil:
		return nil
	case isErrno(err, unix.EEXIST):
		return fmt.Errorf("add address %s: %w", a.Key, ErrExists)
	case isErrno(err, unix.EADDRINUSE):
		return fmt.Errorf("add address %s: the address is in use", a.Key)
	}
	return explain(err, "add address "+a.Prefix().String()+" to "+a.Key.Interface)
}

func (k *NetKernel) DeleteAddress(ctx context.Context, a state.Address) error {
	l, err := k.link(ctx, a.Key.Interface)
	if err != nil {
		var ie *InterfaceError
		if errors.As(err, &ie) {
			return ErrNotFound // the interface is gone, and its addresses with it
		}
		return err
	}
	err = k.call(ctx, "delete address", func() error { return k.nl.AddrDel(l, netlinkAddr(a)) })
	if isErrno(err, unix.EADDRNOTAVAIL) || isErrno(err, unix.ENOENT) {
		return ErrNotFound
	}
	return explainOrNil(err, "delete address "+a.Key.String())
}

// --- errors ------------------------------------------------------------------

// DeleteAddressPromoting implements AddressPromoter.
func (k *NetKernel) DeleteAddressPromoting(ctx context.Context, a state.Address) error {
	in := func(f func() error) error { return inNetns(k.netnsPath, f) }
	err := netaddr.DeletePromoting(a, in, func() error { return k.DeleteAddress(ctx, a) })
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound // the interface is gone, and its addresses with it
	}
	return err
}

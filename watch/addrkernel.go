package watch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/state"
)

// addrKernel is an apply.Kernel for hosts without IPVS: addresses only,
// through netlink, for models that declare no virtual servers. It is a
// stop-gap until apply offers an addresses-only NetKernel; plans and their
// execution still go through apply.
type addrKernel struct{ nl *netlink.Handle }

var errNoIPVS = errors.New("IPVS is not available in this kernel")

func newAddrKernel() (*addrKernel, error) {
	h, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("open netlink: %w", err)
	}
	return &addrKernel{nl: h}, nil
}

func (k *addrKernel) Close() error { k.nl.Close(); return nil }

func (k *addrKernel) Read(ctx context.Context) (*state.State, error) {
	st := state.New()
	var links []netlink.Link
	var addrs []netlink.Addr
	var err error
	for try := 0; try < 5; try++ {
		links, err = k.nl.LinkList()
		if err == nil {
			addrs, err = k.nl.AddrList(nil, netlink.FAMILY_ALL)
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read addresses: %w", err)
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		iface := names[a.LinkIndex]
		label := a.Label
		if label == iface {
			label = ""
		}
		key := state.AddressKey{Interface: iface, Addr: ip.Unmap()}
		st.Addresses[key] = state.Address{Key: key, Bits: ones, Label: label, Scope: scopeName(a.Scope)}
	}
	return st, nil
}

func scopeName(s int) string {
	switch netlink.Scope(s) {
	case netlink.SCOPE_HOST:
		return "host"
	case netlink.SCOPE_LINK:
		return "link"
	case netlink.SCOPE_SITE:
		return "site"
	}
	return "global"
}

func scopeNumber(name string) int {
	switch name {
	case "host":
		return int(netlink.SCOPE_HOST)
	case "link":
		return int(netlink.SCOPE_LINK)
	case "site":
		return int(netlink.SCOPE_SITE)
	}
	return int(netlink.SCOPE_UNIVERSE)
}

func toNL(a state.Address) *netlink.Addr {
	na := &netlink.Addr{IPNet: &net.IPNet{IP: a.Key.Addr.AsSlice(), Mask: net.CIDRMask(a.Bits, a.Key.Addr.BitLen())}, Label: a.Label, Scope: scopeNumber(a.Scope)}
	if a.Key.Addr.Is6() {
		na.Flags = unix.IFA_F_NODAD // answer at once, as keepalived
	}
	return na
}

func (k *addrKernel) AddAddress(ctx context.Context, a state.Address) error {
	l, err := k.nl.LinkByName(a.Key.Interface)
	if err != nil {
		return fmt.Errorf("interface %s: %w", a.Key.Interface, err)
	}
	err = k.nl.AddrAdd(l, toNL(a))
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add address %s: %w", a.Key, apply.ErrExists)
	}
	return err
}

func (k *addrKernel) DeleteAddress(ctx context.Context, a state.Address) error {
	l, err := k.nl.LinkByName(a.Key.Interface)
	if err != nil {
		return apply.ErrNotFound
	}
	err = k.nl.AddrDel(l, toNL(a))
	if errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENOENT) {
		return apply.ErrNotFound
	}
	return err
}

func (k *addrKernel) ReadService(context.Context, state.ServiceKey) (*state.Service, error) {
	return nil, apply.ErrNotFound
}
func (k *addrKernel) CreateService(context.Context, *state.Service) error   { return errNoIPVS }
func (k *addrKernel) UpdateService(context.Context, *state.Service) error   { return errNoIPVS }
func (k *addrKernel) DeleteService(context.Context, state.ServiceKey) error { return errNoIPVS }
func (k *addrKernel) CreateReal(context.Context, state.ServiceKey, state.Real) error {
	return errNoIPVS
}
func (k *addrKernel) UpdateReal(context.Context, state.ServiceKey, state.Real) error {
	return errNoIPVS
}
func (k *addrKernel) DeleteReal(context.Context, state.ServiceKey, state.RealKey) error {
	return errNoIPVS
}

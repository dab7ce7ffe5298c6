package vrrponly

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/nlwatch"
	"github.com/lbx-dev/lbx/internal/rtnl"
	"github.com/lbx-dev/lbx/kernel/netaddr"
	"github.com/lbx-dev/lbx/state"
)

// addrKernel is the kernel's addresses as the reconcile reads and changes
// them; netlinkKernel is the real one.
type addrKernel interface {
	// Read returns the links' addresses in a map that stays valid until
	// the next Read, which may reuse it.
	Read(ctx context.Context) (map[state.AddressKey]state.Address, error)
	Add(ctx context.Context, a state.Address) error
	// Delete deletes a; keeps: with promote_secondaries set for the
	// delete. An address already gone is no error.
	Delete(ctx context.Context, a state.Address, keeps bool) error
}

type netlinkKernel struct {
	nl *rtnl.Conn // conn's
	// live is Read's map, and names the link names it found, both reused:
	// a reconcile reads every address, at every VRRP state change.
	live  map[state.AddressKey]state.Address
	names map[int]string
}

// Read lists every link's addresses (one dump), naming links by ioctl
// rather than by a dump of links. A dump a concurrent change interrupted
// is read again.
func (k *netlinkKernel) Read(context.Context) (map[state.AddressKey]state.Address, error) {
	c, err := k.conn()
	if err != nil {
		return nil, fmt.Errorf("read addresses: %w", err)
	}
	if k.live == nil {
		k.live, k.names = map[state.AddressKey]state.Address{}, map[int]string{}
	}
	// A link index may name another link from one read to the next.
	clear(k.names)
	names, out := k.names, k.live
	for try := 0; try < 5; try++ {
		clear(out)
		err = c.Dump(unix.RTM_GETADDR, unix.AF_UNSPEC, func(m rtnl.Message) {
			a, ok := m.Addr()
			if !ok || a.Deleted {
				return
			}
			iface, ok := names[a.Index]
			if !ok {
				// A link gone since the dump: its addresses went with it.
				iface, _ = netaddr.Name(a.Index)
				names[a.Index] = iface
			}
			if iface != "" {
				sa := netaddr.FromRoute(a, iface)
				out[sa.Key] = sa
			}
		})
		if !errors.Is(err, rtnl.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read addresses: %w", err)
	}
	return out, nil
}

// conn is the daemon's route netlink socket for its reads and changes:
// opened at first use, in the daemon's network namespace, and kept with
// its buffer.
func (k *netlinkKernel) conn() (*rtnl.Conn, error) {
	if k.nl == nil {
		c, err := rtnl.Open()
		if err != nil {
			return nil, err
		}
		k.nl = c
	}
	return k.nl, nil
}

func (k *netlinkKernel) Add(_ context.Context, a state.Address) error {
	i, err := netaddr.Index(a.Key.Interface)
	if err != nil {
		return fmt.Errorf("add address %s: %w", a.Prefix(), err)
	}
	c, err := k.conn()
	if err == nil {
		err = c.AddAddr(netaddr.Route(a, i))
	}
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add address %s to %s: %w", a.Prefix(), a.Key.Interface, err)
	}
	return nil
}

func (k *netlinkKernel) Delete(_ context.Context, a state.Address, keeps bool) error {
	del := func() error {
		i, err := netaddr.Index(a.Key.Interface)
		if errors.Is(err, unix.ENODEV) {
			return nil // the interface is gone, and its addresses with it
		} else if err != nil {
			return err
		}
		c, err := k.conn()
		if err != nil {
			return err
		}
		err = c.DelAddr(netaddr.Route(a, i))
		if errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) {
			return nil
		}
		return err
	}
	var err error
	if keeps {
		err = netaddr.DeletePromoting(a, func(f func() error) error { return f() }, del)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil // the interface is gone
		}
	} else {
		err = del()
	}
	if err != nil {
		return fmt.Errorf("delete address %s from %s: %w", a.Prefix(), a.Key.Interface, err)
	}
	return nil
}

// watchAddresses calls kick for every address notification about an
// address concerns says is of interest (lbx's own changes come back too;
// the reconcile they ask for is a cheap no-op), and once more after a
// lost subscription, whose changes went unnotified (internal/nlwatch). It
// returns when ctx ends, or when notifications are unavailable (the
// resync still runs).
func watchAddresses(ctx context.Context, concerns func(netip.Addr) bool, kick func(), warn func(error)) {
	nlwatch.Follow(ctx, rtnl.SubscribeAddrs, func(a rtnl.Addr) bool { return concerns(a.Addr.Unmap()) }, kick, kick, warn)
}

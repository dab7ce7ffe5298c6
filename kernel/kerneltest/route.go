package kerneltest

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/state"
)

// AddRoute is ReplaceRoute with NLM_F_EXCL: ErrExists when a route holds
// the key.
func (f *FakeKernel) AddRoute(ctx context.Context, r state.Route) error {
	return f.storeRoute(r, false)
}

// ReplaceRoute stores the route as the kernel does: its device must
// exist, its source must be a local address (the kernel: "Invalid prefsrc
// address"), and a gateway not marked onlink must be inside a prefix of an
// address on the way out (the kernel: "Nexthop has invalid gateway").
func (f *FakeKernel) ReplaceRoute(ctx context.Context, r state.Route) error {
	return f.storeRoute(r, true)
}

func (f *FakeKernel) storeRoute(r state.Route, replace bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(); err != nil {
		return err
	}
	if _, taken := f.st.Routes[r.Key]; taken && !replace {
		return fmt.Errorf("add route %s: %w", r.Key, kernel.ErrExists)
	}
	paths := r.Nexthops
	if len(paths) == 0 && r.Type == state.RouteUnicast {
		paths = []state.Nexthop{{Via: r.Via, Interface: r.Interface, OnLink: r.OnLink}}
	}
	for _, p := range paths {
		if p.Interface != "" && !f.Interfaces[p.Interface] {
			return &kernel.InterfaceError{Name: p.Interface}
		}
		if p.Via.IsValid() && !p.OnLink && !f.connected(p.Via, p.Interface) {
			return fmt.Errorf("add route %s: Nexthop has invalid gateway: network is unreachable", r.Key)
		}
	}
	if r.Src.IsValid() && !f.local(r.Src) {
		return fmt.Errorf("add route %s: Invalid prefsrc address: invalid argument", r.Key)
	}
	r.Origin, r.Protocol = "", state.RouteProtoLBX
	r.Nexthops = slices.Clone(r.Nexthops)
	f.st.Routes[r.Key] = r
	return nil
}

// DeleteRoute deletes the route with r's key, type and protocol, as
// RTM_DELROUTE matches them.
func (f *FakeKernel) DeleteRoute(ctx context.Context, r state.Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(); err != nil {
		return err
	}
	have, ok := f.st.Routes[r.Key]
	if !ok || have.Type != r.Type || have.Protocol != r.Protocol {
		return kernel.ErrNotFound
	}
	delete(f.st.Routes, r.Key)
	return nil
}

// connected reports whether gw is on the link of an address (on iface,
// when given).
func (f *FakeKernel) connected(gw netip.Addr, iface string) bool {
	for k, a := range f.st.Addresses {
		if (iface == "" || k.Interface == iface) && a.Prefix().Masked().Contains(gw) {
			return true
		}
	}
	return false
}

func (f *FakeKernel) local(ip netip.Addr) bool {
	for k := range f.st.Addresses {
		if k.Addr == ip {
			return true
		}
	}
	return false
}

// dropRoutesFrom deletes the routes whose source was a removed address,
// as the kernel does (fib_sync_down_addr).
func (f *FakeKernel) dropRoutesFrom(ip netip.Addr) {
	for k, r := range f.st.Routes {
		if r.Src == ip && !f.local(ip) {
			delete(f.st.Routes, k)
		}
	}
}

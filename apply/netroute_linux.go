package apply

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/state"
)

var routeTypeNames = map[int]string{
	unix.RTN_UNICAST:     state.RouteUnicast,
	unix.RTN_BLACKHOLE:   state.RouteBlackhole,
	unix.RTN_UNREACHABLE: state.RouteUnreachable,
	unix.RTN_PROHIBIT:    state.RouteProhibit,
	unix.RTN_THROW:       state.RouteThrow,
}

func routeTypeNumber(name string) int {
	for n, s := range routeTypeNames {
		if s == name {
			return n
		}
	}
	return unix.RTN_UNICAST
}

// fromNetlinkRoute is a dumped route as lbx models it, or false for the
// routes lbx never manages: the local table, the kernel's connected
// routes, routing daemons' routes, and types other than RouteTypes
// (local, broadcast, multicast).
func fromNetlinkRoute(r netlink.Route, names map[int]string) (state.Route, bool) {
	typ, known := routeTypeNames[r.Type]
	if !known || r.Table == state.TableLocal || r.Protocol == state.RouteProtoKernel || state.RoutingDaemonProtocols[int(r.Protocol)] {
		return state.Route{}, false
	}
	dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	if r.Family == unix.AF_INET6 {
		dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	if r.Dst != nil {
		a, ok := netip.AddrFromSlice(r.Dst.IP)
		if !ok {
			return state.Route{}, false
		}
		ones, _ := r.Dst.Mask.Size()
		dst = netip.PrefixFrom(a.Unmap(), ones)
	}
	rt := state.Route{
		Key:      state.RouteKey{Table: r.Table, Dst: dst, Metric: r.Priority},
		Type:     typ,
		Via:      addrOf(r.Gw),
		Src:      addrOf(r.Src),
		Scope:    scopeName(int(r.Scope)),
		OnLink:   r.Flags&unix.RTNH_F_ONLINK != 0,
		Protocol: int(r.Protocol),
	}
	// The kernel reports IPv6 blackhole, unreachable and prohibit routes
	// on lo: they have no device.
	if typ == state.RouteUnicast && r.LinkIndex > 0 {
		rt.Interface = names[r.LinkIndex]
	}
	for _, nh := range r.MultiPath {
		rt.Nexthops = append(rt.Nexthops, state.Nexthop{
			Via: addrOf(nh.Gw), Interface: names[nh.LinkIndex], Weight: nh.Hops + 1, OnLink: nh.Flags&unix.RTNH_F_ONLINK != 0,
		})
	}
	rt.SortNexthops()
	return rt, true
}

func addrOf(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}

func ipOf(a netip.Addr) net.IP {
	if !a.IsValid() {
		return nil
	}
	return net.IP(a.AsSlice())
}

// path is a route's or nexthop's device index (0: none given) and flags.
func (k *NetKernel) path(ctx context.Context, iface string, onlink bool) (index, flags int, err error) {
	if onlink {
		flags = unix.RTNH_F_ONLINK
	}
	if iface == "" {
		return 0, flags, nil
	}
	l, err := k.link(ctx, iface)
	if err != nil {
		return 0, 0, err
	}
	return l.Attrs().Index, flags, nil
}

// keyRequest is a request for the route of r's key and type.
func keyRequest(r state.Route) *netlink.Route {
	dst := r.Key.Dst
	nr := &netlink.Route{
		Dst:      &net.IPNet{IP: ipOf(dst.Addr()), Mask: net.CIDRMask(dst.Bits(), dst.Addr().BitLen())},
		Table:    r.Key.Table,
		Priority: r.Key.Metric,
		Type:     routeTypeNumber(r.Type),
		Family:   netlink.FAMILY_V4,
	}
	if dst.Addr().Is6() {
		nr.Family = netlink.FAMILY_V6
	}
	return nr
}

// toNetlinkRoute is the request for r; devices are looked up by name.
func (k *NetKernel) toNetlinkRoute(ctx context.Context, r state.Route) (*netlink.Route, error) {
	nr := keyRequest(r)
	nr.Protocol = netlink.RouteProtocol(state.RouteProtoLBX)
	nr.Scope = netlink.Scope(scopeNumber(r.Scope))
	nr.Gw, nr.Src = ipOf(r.Via), ipOf(r.Src)
	var err error
	nr.LinkIndex, nr.Flags, err = k.path(ctx, r.Interface, r.OnLink)
	if err != nil {
		return nil, err
	}
	for _, nh := range r.Nexthops {
		info := &netlink.NexthopInfo{Gw: ipOf(nh.Via), Hops: nh.Weight - 1}
		if info.LinkIndex, info.Flags, err = k.path(ctx, nh.Interface, nh.OnLink); err != nil {
			return nil, err
		}
		nr.MultiPath = append(nr.MultiPath, info)
	}
	return nr, nil
}

func (k *NetKernel) AddRoute(ctx context.Context, r state.Route) error {
	return k.writeRoute(ctx, r, false)
}

func (k *NetKernel) ReplaceRoute(ctx context.Context, r state.Route) error {
	return k.writeRoute(ctx, r, true)
}

// writeRoute adds r (NLM_F_EXCL: ErrExists when its key is taken) or
// replaces the route of its key in place.
func (k *NetKernel) writeRoute(ctx context.Context, r state.Route, replace bool) error {
	nr, err := k.toNetlinkRoute(ctx, r)
	if err != nil {
		return err
	}
	what := "add route " + r.Describe()
	err = k.call(ctx, "add route", func() error {
		if replace {
			return k.nl.RouteReplace(nr)
		}
		return k.nl.RouteAdd(nr)
	})
	switch {
	case isErrno(err, unix.EEXIST):
		return fmt.Errorf("%s: %w", what, ErrExists)
	case err == nil:
		return nil
	case isErrno(err, unix.ENETUNREACH):
		return fmt.Errorf("%s: the gateway is not on a network of the interface (%v); add the address that reaches it first, or set `onlink: true`", what, err)
	case isErrno(err, unix.ENETDOWN):
		return fmt.Errorf("%s: the interface is down (%v)", what, err)
	case isErrno(err, unix.EINVAL) && r.Src.IsValid():
		// vishvananda/netlink's handles do not ask for the kernel's
		// extended ack, which would say "Invalid prefsrc address".
		return fmt.Errorf("%s: the kernel refused it as invalid (%v); the usual cause is a src that is not an address of this host (add the address first, or fix `src:`)", what, err)
	case isErrno(err, unix.ENODEV):
		return fmt.Errorf("%s: no such device (%v); fix `interface:` in the model", what, err)
	}
	return explain(err, what)
}

func (k *NetKernel) DeleteRoute(ctx context.Context, r state.Route) error {
	nr := keyRequest(r)
	nr.Protocol = netlink.RouteProtocol(r.Protocol)
	nr.Scope = netlink.SCOPE_NOWHERE // any: the kernel matches a delete's scope unless nowhere
	err := k.call(ctx, "delete route", func() error { return k.nl.RouteDel(nr) })
	if isErrno(err, unix.ESRCH) || isErrno(err, unix.ENOENT) {
		return ErrNotFound
	}
	return explainOrNil(err, "delete route "+r.Describe())
}

package kernel

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/kernel/netaddr"
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
// routes, routing daemons' routes, types other than RouteTypes (local,
// broadcast, multicast), and TOS routes (a TOS is part of the kernel's
// key and not of lbx's: such a route is never lbx's).
func fromNetlinkRoute(r netlink.Route, names map[int]string) (state.Route, bool) {
	typ, known := routeTypeNames[r.Type]
	if !known || r.Tos != 0 || notLBXs(r.Table, int(r.Protocol)) {
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
		Scope:    netaddr.ScopeName(int(r.Scope)),
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

// notLBXs: a route of this table and protocol is never lbx's to manage
// (the local table, the kernel's connected routes, routing daemons'); the
// header pass of a read needs no more than these two fields to skip it.
func notLBXs(table, protocol int) bool {
	return table == state.TableLocal || protocol == state.RouteProtoKernel || state.RoutingDaemonProtocols[protocol]
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
	nr.Scope = netlink.Scope(netaddr.ScopeNumber(r.Scope))
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

// routeReader reads the routes lbx models without decoding the ones it
// never manages. A director that also runs a routing daemon may hold a
// full Internet table (~1M routes) that lbx must not pay for on every
// read: decoding them all cost 0.33 s and 490 MB a read at 200,000
// routes. So a read is two steps: one dump whose messages are only
// looked at in their fixed header (rtm_protocol, rtm_table, rtm_flags;
// no allocation a route), which says which protocols hold routes lbx
// could manage; then one dump a protocol, filtered by the kernel
// (NETLINK_GET_STRICT_CHK, Linux 4.20+), decoded by vishvananda/netlink.
type routeReader struct {
	headers  map[int]*nl.SocketHandle // the raw socket of the first step
	filtered *netlink.Handle          // strict-check handle of the second
}

// openRouteReader opens the reader's sockets in ns; nil, nil when the
// kernel has no strict checking (older than 4.20): reads then decode the
// whole table, as before.
func openRouteReader(ns netns.NsHandle) (*routeReader, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	if err := h.SetStrictCheck(true); err != nil {
		h.Close()
		return nil, nil
	}
	s, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		h.Close()
		return nil, err
	}
	return &routeReader{headers: map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: s}}, filtered: h}, nil
}

func (r *routeReader) Close() {
	r.filtered.Close()
	r.headers[unix.NETLINK_ROUTE].Close()
}

// everyTable is the dump filter of all routing tables (table 0 with the
// table filter bit; without it the library keeps the main table only).
var everyTable = &netlink.Route{Table: unix.RT_TABLE_UNSPEC}

// protocols returns the rtm_protocol values of the routes lbx could
// manage (see fromNetlinkRoute), from the headers alone.
func (r *routeReader) protocols() (map[int]bool, error) {
	protos := map[int]bool{}
	err := scanRouteHeaders(r.headers, func(h *nl.RtMsg) bool {
		if !notLBXs(int(h.Table), int(h.Protocol)) {
			protos[int(h.Protocol)] = true
		}
		return true
	})
	return protos, err
}

// scanRouteHeaders dumps the routes of every family and table through
// sockets and calls visit with each one's fixed header (a view of the
// message: no copy, no attribute decoded), cached clones left out, until
// visit returns false.
func scanRouteHeaders(sockets map[int]*nl.SocketHandle, visit func(*nl.RtMsg) bool) error {
	req := nl.NewNetlinkRequest(unix.RTM_GETROUTE, unix.NLM_F_DUMP)
	req.Sockets = sockets
	req.AddData(&nl.RtMsg{}) // AF_UNSPEC: every family
	return req.ExecuteIter(unix.NETLINK_ROUTE, unix.RTM_NEWROUTE, func(m []byte) bool {
		if len(m) < unix.SizeofRtMsg {
			return true
		}
		h := nl.DeserializeRtMsg(m)
		return h.Flags&unix.RTM_F_CLONED != 0 || visit(h)
	})
}

// HasLBXRoutes reports whether this network namespace holds a route of
// lbx's protocol (state.RouteProtoLBX) in any table: one dump looked at
// in its headers alone, cheap beside a routing daemon's full table. A
// dump a concurrent change interrupted is read again.
func HasLBXRoutes() (bool, error) {
	s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return false, err
	}
	defer s.Close()
	sockets := map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: s}}
	for try := 0; ; try++ {
		found := false
		err := scanRouteHeaders(sockets, func(h *nl.RtMsg) bool {
			found = int(h.Protocol) == state.RouteProtoLBX
			return !found
		})
		if found || err == nil || !errors.Is(err, netlink.ErrDumpInterrupted) || try == 4 {
			return found, err
		}
	}
}

// read returns the routes of the given protocols, every family and
// table, each protocol's dump filtered by the kernel. A dump interrupted
// by a concurrent change returns ErrDumpInterrupted (the caller reads
// again).
func (r *routeReader) read() ([]netlink.Route, error) {
	protos, err := r.protocols()
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		// An interrupted header pass is fine: a protocol whose first route
		// appeared mid-dump is seen at the next read.
		return nil, err
	}
	var routes []netlink.Route
	// Protocol 0 (unspec, rarely seen) filters nothing in the kernel: its
	// dump is the whole table, sorted out by the library's own filter.
	for _, p := range slices.Sorted(maps.Keys(protos)) {
		filter := *everyTable
		filter.Protocol = netlink.RouteProtocol(p)
		err := r.filtered.RouteListFilteredIter(netlink.FAMILY_ALL, &filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL, func(rt netlink.Route) bool {
			routes = append(routes, rt)
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return routes, nil
}

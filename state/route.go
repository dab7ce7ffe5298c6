package state

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
)

// Route tables and protocols the kernel names (linux/rtnetlink.h).
const (
	TableMain  = 254
	TableLocal = 255

	// RouteProtoLBX marks the routes lbx made (rtm_protocol), as
	// keepalived marks its own with 18: the kernel's own owner field, so
	// routes need no ownership record. A live route with this protocol
	// that the model no longer declares is deleted; any other is left
	// alone unless the model declares its key (then lbx adopts it).
	// `echo "229 lbx" > /etc/iproute2/rt_protos.d/lbx.conf` makes
	// `ip route` print "proto lbx".
	RouteProtoLBX = 229
	// RouteProtoKernel is the kernel's own connected routes: never read.
	RouteProtoKernel = 2

	// IPv6DefaultMetric is the metric the kernel gives an IPv6 route
	// added without one (IP6_RT_PRIO_USER); IPv4's is 0.
	IPv6DefaultMetric = 1024
)

// RoutingDaemonProtocols are the rtm_protocol values of routing daemons
// (zebra/FRR, BIRD, Babel, Open/R, and FRR's BGP, IS-IS, OSPF, RIP,
// EIGRP). lbx never reads their routes: a full BGP table would cost a
// million objects a read, and lbx must not fight a routing daemon. A
// declared route whose key one of them holds fails to be created, with a
// message, instead of replacing it.
var RoutingDaemonProtocols = map[int]bool{11: true, 12: true, 42: true, 99: true, 186: true, 187: true, 188: true, 189: true, 192: true}

// Route types lbx manages (rtm_type); unicast is the default.
const (
	RouteUnicast     = "unicast"
	RouteBlackhole   = "blackhole"
	RouteUnreachable = "unreachable"
	RouteProhibit    = "prohibit"
	RouteThrow       = "throw"
)

// RouteTypes lists the route types lbx manages, in the kernel's order.
var RouteTypes = []string{RouteUnicast, RouteBlackhole, RouteUnreachable, RouteProhibit, RouteThrow}

// RouteKey is the identity of a route: the kernel finds one by table,
// destination and metric (and TOS, which lbx leaves 0). Changing any of
// them makes another route.
type RouteKey struct {
	Table  int          `json:"table"`
	Dst    netip.Prefix `json:"to"`
	Metric int          `json:"metric"`
}

// String is the route's name in plans: "10.1.0.0/16", with the table and
// metric when they are not the defaults ("10.1.0.0/16@table=100,metric=5").
func (k RouteKey) String() string {
	s := k.Dst.String()
	var extra string
	if k.Table != TableMain {
		extra = "table=" + strconv.Itoa(k.Table)
	}
	if k.Metric != DefaultMetric(FamilyOf(k.Dst.Addr())) {
		if extra != "" {
			extra += ","
		}
		extra += "metric=" + strconv.Itoa(k.Metric)
	}
	if extra != "" {
		s += "@" + extra
	}
	return s
}

// Less orders routes by table, destination, then metric.
func (k RouteKey) Less(o RouteKey) bool {
	if k.Table != o.Table {
		return k.Table < o.Table
	}
	if c := k.Dst.Addr().Compare(o.Dst.Addr()); c != 0 {
		return c < 0
	}
	if k.Dst.Bits() != o.Dst.Bits() {
		return k.Dst.Bits() < o.Dst.Bits()
	}
	return k.Metric < o.Metric
}

// DefaultMetric is the metric the kernel gives a route added without one.
func DefaultMetric(f Family) int {
	if f == IPv6 {
		return IPv6DefaultMetric
	}
	return 0
}

// Nexthop is one path of a multipath route.
type Nexthop struct {
	Via       netip.Addr `json:"via,omitzero"`
	Interface string     `json:"interface,omitempty"`
	Weight    int        `json:"weight"` // 1..256
	OnLink    bool       `json:"onlink,omitempty"`
}

func (n Nexthop) String() string {
	s := ""
	if n.Via.IsValid() {
		s = "via " + n.Via.String()
	}
	if n.Interface != "" {
		s += " dev " + n.Interface
	}
	s += " weight " + strconv.Itoa(n.Weight)
	if n.OnLink {
		s += " onlink"
	}
	return s
}

func (n Nexthop) less(o Nexthop) bool {
	if c := n.Via.Compare(o.Via); c != 0 {
		return c < 0
	}
	return n.Interface < o.Interface
}

// Route is a kernel route lbx keeps (keepalived's static_routes and
// virtual_routes).
type Route struct {
	Key  RouteKey `json:"key"`
	Type string   `json:"type"` // RouteTypes
	// Via and Interface are a single-path route's gateway and device;
	// Nexthops (two or more, sorted) a multipath route's.
	Via       netip.Addr `json:"via,omitzero"`
	Interface string     `json:"interface,omitempty"`
	Nexthops  []Nexthop  `json:"nexthops,omitempty"`
	// Src is the preferred source address (it must be local).
	Src    netip.Addr `json:"src,omitzero"`
	Scope  string     `json:"scope"` // global, site, link, host
	OnLink bool       `json:"onlink,omitempty"`
	// Protocol is the kernel's owner mark: RouteProtoLBX for the routes
	// lbx wants, whatever it is for a live route.
	Protocol int    `json:"protocol"`
	Origin   string `json:"-"` // e.g. "vrrp VI_1", for messages only
}

// Same reports whether two routes are the same; Origin only labels
// messages.
func (r Route) Same(o Route) bool {
	return r.Key == o.Key && r.Type == o.Type && r.Via == o.Via && r.Interface == o.Interface &&
		slices.Equal(r.Nexthops, o.Nexthops) && r.Src == o.Src && r.Scope == o.Scope &&
		r.OnLink == o.OnLink && r.Protocol == o.Protocol
}

// SatisfiedBy reports whether the live route is the wanted r. A path
// given by its gateway alone is satisfied whatever device the kernel
// resolved it to: the kernel reports the device it picked.
func (r Route) SatisfiedBy(live Route) bool {
	if r.Interface == "" && r.Via.IsValid() {
		live.Interface = ""
	}
	if len(r.Nexthops) == len(live.Nexthops) {
		live.Nexthops = slices.Clone(live.Nexthops)
		for i, n := range r.Nexthops {
			if n.Interface == "" && n.Via.IsValid() {
				live.Nexthops[i].Interface = ""
			}
		}
	}
	return r.Same(live)
}

// SortNexthops puts the nexthops in the order Same compares them in: the
// kernel may report them in another order than they were given.
func (r *Route) SortNexthops() {
	sort.Slice(r.Nexthops, func(i, j int) bool { return r.Nexthops[i].less(r.Nexthops[j]) })
}

// Owned reports whether lbx made the route.
func (r Route) Owned() bool { return r.Protocol == RouteProtoLBX }

// Describe is the route as `ip route` would print it, for logs.
func (r Route) Describe() string {
	s := ""
	if r.Type != RouteUnicast {
		s = r.Type + " "
	}
	s += r.Key.Dst.String()
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.Interface != "" {
		s += " dev " + r.Interface
	}
	for _, n := range r.Nexthops {
		s += " nexthop " + n.String()
	}
	if r.Key.Table != TableMain {
		s += " table " + strconv.Itoa(r.Key.Table)
	}
	if r.Key.Metric != DefaultMetric(FamilyOf(r.Key.Dst.Addr())) {
		s += " metric " + strconv.Itoa(r.Key.Metric)
	}
	if r.Src.IsValid() {
		s += " src " + r.Src.String()
	}
	if r.Scope != "global" {
		s += " scope " + r.Scope
	}
	if r.OnLink {
		s += " onlink"
	}
	if r.Protocol != RouteProtoLBX {
		s += fmt.Sprintf(" proto %d", r.Protocol)
	}
	return s
}

// RouteKeys returns the route keys in stable order.
func (s *State) RouteKeys() []RouteKey { return SortedKeys(s.Routes) }

// AddLiveRoute records a route read from the kernel. The kernel can hold
// several routes under one key (`ip route append`; IPv6 device routes to
// one destination on several links) while lbx manages one a key: Routes
// keeps lbx's own route if there is one, else the first read, and
// RouteDuplicates the others, so that a plan can report the conflict
// instead of taking one for another.
func (s *State) AddLiveRoute(r Route) {
	have, ok := s.Routes[r.Key]
	if !ok {
		s.Routes[r.Key] = r
		return
	}
	if s.RouteDuplicates == nil {
		s.RouteDuplicates = map[RouteKey][]Route{}
	}
	if r.Owned() && !have.Owned() {
		// The displaced route was read first: the duplicates keep the
		// kernel's order.
		s.Routes[r.Key] = r
		s.RouteDuplicates[r.Key] = append([]Route{have}, s.RouteDuplicates[r.Key]...)
		return
	}
	s.RouteDuplicates[r.Key] = append(s.RouteDuplicates[r.Key], r)
}

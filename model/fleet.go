package model

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
)

// The fleet checks see what no single director can: keepalived reads one
// file per node, so two directors that disagree on an instance's VRID,
// authentication, advert interval or version each see the other as a
// stranger and both become MASTER. Each error is placed where the
// disagreeing node's value was written.

// member is one node's view of one VRRP instance.
type member struct {
	node  string
	index int // in the model's vrrp_instances
	in    *VRRPInstance
	v     *view
}

// path is where the member's field was written.
func (mb member) path(field string) string {
	return origin(mb.v.origins, fmt.Sprintf("vrrp_instances[%d].%s", mb.index, field))
}

func (v *validator) fleetErrorf(node, path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{File: v.m.File, Pos: v.m.Positions.At(path), Path: path, Node: node, Msg: fmt.Sprintf(format, args...)})
}

// fleetChecks compares the nodes' views with each other.
func (v *validator) fleetChecks(names []string, views map[string]*view) {
	for i, in := range v.m.VRRPInstances {
		if in == nil || in.Name == "" {
			continue
		}
		var members []member
		for _, n := range names {
			members = append(members, member{node: n, index: i, in: views[n].m.VRRPInstances[i], v: views[n]})
		}
		v.agree(members)
		v.priorities(members)
		v.unicastPeers(members)
	}
	v.uniqueAcross(names, views, "global.router_id", func(m *Model) string { return m.Global.RouterID })
	v.uniqueAcross(names, views, "bgp.router_id", func(m *Model) string {
		if m.BGP == nil || m.BGP.RouterID == nil {
			return ""
		}
		return m.BGP.RouterID.String()
	})
}

// agreed are the settings every member of an instance must share, each
// as a comparable value.
var agreed = []struct {
	field string
	value func(in *VRRPInstance, g Global) any
}{
	{"virtual_router_id", func(in *VRRPInstance, _ Global) any { return in.VirtualRouterID }},
	{"version", func(in *VRRPInstance, g Global) any { return in.EffectiveVersion(g) }},
	{"advert_int", func(in *VRRPInstance, _ Global) any {
		if in.AdvertInt == nil {
			return DefaultAdvertInt.String()
		}
		return in.AdvertInt.Duration.String()
	}},
	{"authentication", func(in *VRRPInstance, _ Global) any {
		if in.Authentication == nil {
			return "none"
		}
		return in.Authentication.Type + " " + in.Authentication.Pass
	}},
	{"virtual_addresses", func(in *VRRPInstance, _ Global) any { return virtualAddressSet(in) }},
}

// agree reports each member whose agreed settings differ from the first
// member's (in node name order).
func (v *validator) agree(members []member) {
	first := members[0]
	for _, mb := range members[1:] {
		for _, a := range agreed {
			want, got := a.value(first.in, first.v.m.Global), a.value(mb.in, mb.v.m.Global)
			if reflect.DeepEqual(want, got) {
				continue
			}
			shown, shownFirst := fmt.Sprint(got), fmt.Sprint(want)
			if a.field == "authentication" {
				shown, shownFirst = "one", "another" // never print a password
			}
			v.fleetErrorf(mb.node, mb.path(a.field), "VRRP instance %q: %s is %s on node %s but %s on node %s (%s): every node of an instance must agree, or each ignores the other's adverts and both become MASTER",
				mb.in.Name, a.field, shown, mb.node, shownFirst, first.node, v.where(first.path(a.field)))
		}
	}
}

// virtualAddressSet is an instance's advertised addresses, sorted.
func virtualAddressSet(in *VRRPInstance) string {
	var s []string
	for _, a := range in.VirtualAddresses {
		if a != nil {
			s = append(s, a.Address.String())
		}
	}
	slices.Sort(s)
	return "[" + strings.Join(s, " ") + "]"
}

// priorities refuses two nodes with one priority in an instance unless
// the instance says allow_equal_priority: the election then goes by
// address, rarely what was meant.
func (v *validator) priorities(members []member) {
	seen := map[int]string{}
	for _, mb := range members {
		if mb.in.AllowEqualPriority {
			continue
		}
		p := DefaultPriority
		if mb.in.Priority != nil {
			p = *mb.in.Priority
		}
		if prev, ok := seen[p]; ok {
			v.fleetErrorf(mb.node, mb.path("priority"), "VRRP instance %q: priority %d on node %s is node %s's too: give each node its own priority (nodes.%s.vrrp_instances.%s.priority), or say allow_equal_priority: true if the tie is meant",
				mb.in.Name, p, mb.node, prev, mb.node, mb.in.Name)
			continue
		}
		seen[p] = mb.node
	}
}

// unicastPeers checks that each node of a unicast instance sends to every
// other node's unicast_src_ip, and to no address that is no node's.
func (v *validator) unicastPeers(members []member) {
	srcs := map[netip.Addr]string{}
	for _, mb := range members {
		if mb.in.UnicastSrcIP != nil {
			srcs[mb.in.UnicastSrcIP.Addr] = mb.node
		}
	}
	for _, mb := range members {
		if len(mb.in.UnicastPeers) == 0 {
			continue
		}
		for _, other := range members {
			if other.node == mb.node || other.in.UnicastSrcIP == nil || slices.Contains(mb.in.UnicastPeers, *other.in.UnicastSrcIP) {
				continue
			}
			v.fleetErrorf(mb.node, mb.path("unicast_peers"), "VRRP instance %q: node %s does not send to node %s's unicast_src_ip %s: add it to unicast_peers (or leave unicast_peers out: each node's default is the other nodes' unicast_src_ip)",
				mb.in.Name, mb.node, other.node, other.in.UnicastSrcIP.Addr)
		}
		for j, p := range mb.in.UnicastPeers {
			if _, ok := srcs[p.Addr]; !ok {
				v.fleetErrorf(mb.node, fmt.Sprintf("%s[%d]", mb.path("unicast_peers"), j), "VRRP instance %q: unicast peer %s is no node's unicast_src_ip: name every director of the instance under nodes: with its unicast_src_ip",
					mb.in.Name, p.Addr)
			}
		}
	}
}

// uniqueAcross refuses one non-empty value (an identifier) on two nodes.
func (v *validator) uniqueAcross(names []string, views map[string]*view, field string, value func(*Model) string) {
	seen := map[string]string{}
	for _, n := range names {
		x := value(views[n].m)
		if x == "" {
			continue
		}
		if prev, ok := seen[x]; ok {
			p := origin(views[n].origins, field)
			v.fleetErrorf(n, p, "%s %s on node %s is node %s's too: each director needs its own (nodes.%s.%s)", field, x, n, prev, n, field)
			continue
		}
		seen[x] = n
	}
}

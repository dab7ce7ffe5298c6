package model

import (
	"fmt"

	"github.com/lbx-dev/lbx/state"
)

// routes checks every route of the model: the static ones and each
// instance's virtual_routes, whose identities (table, destination,
// metric) must not collide, since the kernel holds one route per key.
func (v *validator) routes() {
	seen := map[state.RouteKey]string{}
	for i, r := range v.m.Routes {
		v.route(fmt.Sprintf("routes[%d]", i), r, seen)
	}
	for i, in := range v.m.VRRPInstances {
		if in == nil {
			continue
		}
		for j, r := range in.VirtualRoutes {
			v.route(fmt.Sprintf("vrrp_instances[%d].virtual_routes[%d]", i, j), r, seen)
		}
	}
}

func (v *validator) route(p string, r *Route, seen map[state.RouteKey]string) {
	if r == nil {
		v.errorf(p, "empty route; give at least `to`")
		return
	}
	if !r.To.IsValid() {
		v.errorf(p+".to", "missing: the destination network, such as 10.1.0.0/16 or 0.0.0.0/0")
		return
	}
	fam := state.FamilyOf(r.To.Addr())
	if r.To.Addr().Is4In6() {
		v.errorf(p+".to", "%s is an IPv4-mapped IPv6 network; write the IPv4 network", r.To.Prefix)
		return
	}
	typ := r.Type
	if typ == "" {
		typ = state.RouteUnicast
	}
	if !oneOf(v, p+".type", typ, state.RouteTypes, "unknown route type %[1]s; want one of %[4]s") {
		return // typ is r.Type here: the default is a route type
	}
	if typ != state.RouteUnicast {
		// In the model's field order, so that the errors come out the same
		// way every time.
		for _, f := range []struct {
			field string
			set   bool
		}{{"via", r.Via != nil}, {"interface", r.Interface != ""}, {"nexthops", len(r.Nexthops) > 0}, {"onlink", r.OnLink}, {"src", r.Src != nil}} {
			if f.set {
				v.errorf(p+"."+f.field, "a %s route has no %s (it sends nothing anywhere)", typ, f.field)
			}
		}
	}
	if typ == state.RouteUnicast && r.Via == nil && r.Interface == "" && len(r.Nexthops) == 0 {
		v.errorf(p, "a unicast route needs `via`, `interface` or `nexthops`")
	}
	if len(r.Nexthops) > 0 && (r.Via != nil || r.Interface != "" || r.OnLink) {
		v.errorf(p+".nexthops", "give either nexthops or via/interface/onlink, not both")
	}
	if len(r.Nexthops) == 1 {
		v.errorf(p+".nexthops", "a multipath route needs at least two nexthops; write one path as via/interface")
	}
	v.routePath(p, fam, r.Via, r.Interface, r.OnLink)
	if r.Src != nil && state.FamilyOf(r.Src.Addr) != fam {
		v.errorf(p+".src", "%s is not of the route's family (IPv%d)", r.Src.Addr, fam)
	}
	if r.Src != nil && (r.Src.Addr.IsUnspecified() || r.Src.Addr.IsMulticast()) {
		v.errorf(p+".src", "%s cannot be a source; give an address of this host or leave src out", r.Src.Addr)
	}
	v.nexthops(p, fam, r.Nexthops)
	if r.Table != nil && (*r.Table < 1 || *r.Table > 1<<32-1 || *r.Table == state.TableLocal) {
		v.errorf(p+".table", "want 1..4294967295 except 255 (the kernel's local table), got %d", *r.Table)
	}
	if r.Metric != nil && (*r.Metric < 0 || *r.Metric > 1<<32-1) {
		v.errorf(p+".metric", "want 0..4294967295, got %d", *r.Metric)
	}
	v.routeScope(p, fam, r)
	k := toRoute(r, "").Key
	if prev, ok := seen[k]; ok {
		v.errorf(p+".to", "route %s is already declared at %s; the kernel holds one route per table, destination and metric", k, v.where(prev))
		return
	}
	seen[k] = p
}

// nexthops checks a multipath route's paths, of the route's family fam.
func (v *validator) nexthops(p string, fam state.Family, nexthops []*Nexthop) {
	for j, n := range nexthops {
		np := fmt.Sprintf("%s.nexthops[%d]", p, j)
		if n == nil || n.Via == nil && n.Interface == "" {
			v.errorf(np, "a nexthop needs `via`, `interface` or both")
			continue
		}
		v.routePath(np, fam, n.Via, n.Interface, n.OnLink)
		if fam == state.IPv6 && n.Via == nil {
			v.errorf(np+".via", "an IPv6 nexthop needs a gateway (the kernel refuses device-only IPv6 multipath routes)")
		}
		if n.Weight != nil && (*n.Weight < 1 || *n.Weight > 256) {
			v.errorf(np+".weight", "want 1..256, got %d", *n.Weight)
		}
	}
	for j, n := range nexthops {
		for _, o := range nexthops[:j] {
			if n != nil && o != nil && n.Via != nil && o.Via != nil && n.Via.Addr == o.Via.Addr && n.Interface == o.Interface {
				v.errorf(fmt.Sprintf("%s.nexthops[%d]", p, j), "the same path twice; raise its weight instead")
			}
		}
	}
}

// routeScope checks a route's scope against its family and gateways.
func (v *validator) routeScope(p string, fam state.Family, r *Route) {
	if r.Scope == "" {
		return
	}
	switch {
	case !oneOf(v, p+".scope", r.Scope, RouteScopes, unknownScope):
		// reported
	case fam == state.IPv6 && r.Scope != "global":
		v.errorf(p+".scope", "IPv6 routes have no scope (the kernel keeps global); remove it")
	case (r.Via != nil || len(r.Nexthops) > 0) && (r.Scope == "link" || r.Scope == "host"):
		v.errorf(p+".scope", "a route through a gateway needs scope global or site (the kernel refuses %s: \"Nexthop has invalid scope\")", r.Scope)
	}
}

// routePath checks a gateway and device: the gateway of the route's
// family, a link-local IPv6 gateway with its device, onlink with a gateway.
func (v *validator) routePath(p string, fam state.Family, via *Addr, iface string, onlink bool) {
	if via != nil && state.FamilyOf(via.Addr) != fam {
		v.errorf(p+".via", "%s is not of the route's family (IPv%d); mixed-family gateways are not supported", via.Addr, fam)
	}
	if via != nil && via.Addr.Is6() && via.Addr.IsLinkLocalUnicast() && iface == "" {
		v.errorf(p+".interface", "a link-local gateway (%s) needs its interface", via.Addr)
	}
	if iface != "" && !validIfName(iface) {
		v.errorf(p+".interface", "%q is not a valid interface name (1-15 characters, no '/', ':' or spaces)", iface)
	}
	if onlink && via == nil {
		v.errorf(p+".onlink", "onlink needs a gateway (`via`)")
	}
	if onlink && iface == "" {
		v.errorf(p+".interface", "onlink needs the interface the gateway is on (the kernel: \"Nexthop device required for onlink\")")
	}
	if via != nil && (via.Addr.IsUnspecified() || via.Addr.IsMulticast()) {
		v.errorf(p+".via", "%s cannot be a gateway", via.Addr)
	}
}

// compileRoutes adds the static routes, and each MASTER instance's
// virtual routes, to d; with no VRRP facts the virtual routes are listed
// in d.VRRPRoutes instead (they belong to `lbx watch`).
func compileRoutes(d *Desired, m *Model, f Facts) {
	for _, r := range m.Routes {
		rt := toRoute(r, "static")
		d.State.Routes[rt.Key] = rt
	}
	for _, in := range m.VRRPInstances {
		for _, r := range in.VirtualRoutes {
			rt := toRoute(r, "vrrp "+in.Name)
			switch {
			case f.VRRP == nil:
				d.VRRPRoutes = append(d.VRRPRoutes, rt)
			case f.VRRP[in.Name] == "MASTER":
				d.State.Routes[rt.Key] = rt
			}
		}
	}
}

// Key is a valid route's key in the kernel: its table, destination and
// metric with the kernel's defaults filled in. Two routes with one key
// are one route.
func (r *Route) Key() state.RouteKey { return toRoute(r, "").Key }

// toRoute is a valid model route as the kernel reports it once added:
// the kernel's defaults filled in (table main, its metric, ip route's
// scope), weights defaulted and nexthops sorted.
func toRoute(r *Route, origin string) state.Route {
	fam := state.FamilyOf(r.To.Addr())
	rt := state.Route{
		Key:       state.RouteKey{Table: state.TableMain, Dst: r.To.Prefix, Metric: state.DefaultMetric(fam)},
		Type:      r.Type,
		Interface: r.Interface,
		Scope:     r.Scope,
		OnLink:    r.OnLink,
		Protocol:  state.RouteProtoLBX,
		Origin:    origin,
	}
	if rt.Type == "" {
		rt.Type = state.RouteUnicast
	}
	if r.Table != nil {
		rt.Key.Table = *r.Table
	}
	if r.Metric != nil {
		rt.Key.Metric = *r.Metric
	}
	if fam == state.IPv6 && rt.Key.Metric == 0 {
		rt.Key.Metric = state.IPv6DefaultMetric // the kernel turns an IPv6 metric 0 into 1024
	}
	if r.Via != nil {
		rt.Via = r.Via.Addr
	}
	if r.Src != nil {
		rt.Src = r.Src.Addr
	}
	for _, n := range r.Nexthops {
		if n == nil {
			continue
		}
		nh := state.Nexthop{Interface: n.Interface, Weight: 1, OnLink: n.OnLink}
		if n.Via != nil {
			nh.Via = n.Via.Addr
		}
		if n.Weight != nil {
			nh.Weight = *n.Weight
		}
		rt.Nexthops = append(rt.Nexthops, nh)
	}
	rt.SortNexthops()
	if rt.Scope == "" {
		rt.Scope = "global"
		if fam == state.IPv4 && rt.Type == state.RouteUnicast && r.Via == nil && len(r.Nexthops) == 0 {
			rt.Scope = "link"
		}
	}
	return rt
}

// fromRoute is a live route as a model route, the inverse of toRoute:
// table, metric and scope only when they are not the defaults.
func fromRoute(r state.Route) *Route {
	mr := &Route{To: Network{r.Key.Dst}, Interface: r.Interface, OnLink: r.OnLink}
	if r.Type != state.RouteUnicast {
		mr.Type = r.Type
	}
	if r.Via.IsValid() {
		mr.Via = &Addr{r.Via}
	}
	if r.Src.IsValid() {
		mr.Src = &Addr{r.Src}
	}
	if r.Key.Table != state.TableMain {
		t := r.Key.Table
		mr.Table = &t
	}
	if r.Key.Metric != state.DefaultMetric(state.FamilyOf(r.Key.Dst.Addr())) {
		m := r.Key.Metric
		mr.Metric = &m
	}
	for _, n := range r.Nexthops {
		w := n.Weight
		nh := &Nexthop{Interface: n.Interface, Weight: &w, OnLink: n.OnLink}
		if n.Via.IsValid() {
			nh.Via = &Addr{n.Via}
		}
		mr.Nexthops = append(mr.Nexthops, nh)
	}
	if def := toRoute(mr, ""); def.Scope != r.Scope {
		mr.Scope = r.Scope
	}
	return mr
}

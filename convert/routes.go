package convert

import (
	"slices"
	"strings"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// routes converts a static_routes or virtual_routes block, one route a
// line; a line lbx cannot express is left out as a whole, with its reason.
func (c *conv) routes(n *keepalived.Node) []*model.Route {
	var out []*model.Route
	for _, ch := range n.Children {
		if r := c.routeLine(ch); r != nil {
			c.pos[r] = ch.Pos
			out = append(out, r)
		}
	}
	return out
}

// routeTables are the tables iproute2 names without reading rt_tables.
var routeTables = map[string]int{"main": state.TableMain, "default": 253}

// routeMetrics are ip route's per-route TCP metrics: not in the model,
// dropped with a warning (the route still converts). Some take "lock".
var routeMetrics = map[string]bool{
	"mtu": true, "advmss": true, "rtt": true, "rttvar": true, "reordering": true, "window": true,
	"cwnd": true, "ssthresh": true, "rto_min": true, "initcwnd": true, "initrwnd": true,
	"features": true, "hoplimit": true, "quickack": true, "congctl": true, "fastopen_no_cookie": true,
	"realms": true, "pref": true, "expires": true,
}

// routeInexpressible make a line another route than the one lbx would
// add (another key, table or encapsulation): the whole line is left out.
var routeInexpressible = map[string]string{
	"tos":     "routes by TOS are not in the model",
	"dsfield": "routes by TOS are not in the model",
	"vrf":     "VRFs are not in the model",
	"encap":   "encapsulated routes are not in the model",
	"as":      "MPLS routes are not in the model",
	"append":  "appended (same-key) routes are not in the model",
	"nhid":    "nexthop objects are not in the model",
	"local":   "local routes belong to the kernel", "broadcast": "broadcast routes belong to the kernel",
	"multicast": "multicast routes are not in the model", "anycast": "anycast routes are not in the model",
	"nat": "NAT routes are gone from Linux",
}

// routeScopeNumbers are the scopes ip route takes as numbers (those of
// /etc/iproute2/rt_scopes) by the model's names.
var routeScopeNumbers = map[string]string{"0": "global", "200": "site", "253": "link", "254": "host"}

// routeLine parses keepalived's route statement (ip route's syntax):
// [src ADDR] [to] [TYPE] PREFIX [via|gw ADDR [or ADDR]] [dev IF]
// [scope S] [table T] [metric|priority|preference N] [onlink]
// [nexthop via ADDR dev IF weight W onlink ...] [no_track] ...
func (c *conv) routeLine(n *keepalived.Node) *model.Route {
	words := append([]string{n.Name}, argTexts(n)...)
	name := routeName(words)
	r := &model.Route{}
	var dst string
	var or *model.Addr
	var nh *model.Nexthop // the nexthop being read
	next := func(i *int, what string) (string, bool) {
		if *i+1 >= len(words) {
			c.errorf(n.Pos, "route %s: %s: missing value", name, what)
			return "", false
		}
		*i++
		return words[*i], true
	}
	addr := func(i *int, what string) (*model.Addr, bool) {
		s, ok := next(i, what)
		if ok && (s == "inet" || s == "inet6") { // ip's optional family word
			s, ok = next(i, what)
		}
		if !ok {
			return nil, false
		}
		a, ok := c.addr(n, s)
		return &a, ok
	}
	num := func(i *int, what string, lo, hi int) (int, bool) {
		s, ok := next(i, what)
		if !ok {
			return 0, false
		}
		v, err := parseInt(s, lo, hi)
		if err != nil {
			c.errorf(n.Pos, "route %s: %s %q: %v", name, what, s, err)
			return 0, false
		}
		return v, true
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		var ok = true
		switch {
		case w == "src":
			r.Src, ok = addr(&i, w)
		case w == "to":
			if dst, ok = next(&i, w); ok && slices.Contains(state.RouteTypes, dst) {
				// ip's `to TYPE PREFIX`
				if dst != "unicast" {
					r.Type = dst
				}
				dst, ok = next(&i, w)
			}
		case w == "via" || w == "gw":
			var a *model.Addr
			if a, ok = addr(&i, w); ok && nh != nil {
				nh.Via = a
			} else if ok {
				r.Via = a
			}
		case w == "or":
			or, ok = addr(&i, w)
		case w == "dev" || w == "oif":
			var s string
			if s, ok = next(&i, w); ok && nh != nil {
				nh.Interface = s
			} else if ok {
				r.Interface = s
			}
		case w == "weight" && nh != nil:
			var v int
			if v, ok = num(&i, w, 1, 256); ok {
				nh.Weight = &v
			}
		case w == "onlink":
			if nh != nil {
				nh.OnLink = true
			} else {
				r.OnLink = true
			}
		case w == "nexthop":
			nh = &model.Nexthop{}
			r.Nexthops = append(r.Nexthops, nh)
		case w == "scope":
			var s string
			if s, ok = next(&i, w); ok {
				if named, isNumber := routeScopeNumbers[s]; isNumber {
					s = named
				}
				if s == "universe" {
					s = "global"
				}
				r.Scope = s
			}
		case w == "table":
			var s string
			if s, ok = next(&i, w); ok {
				t, named := routeTables[s]
				if !named {
					v, err := parseInt(s, 1, 1<<32-1)
					if err != nil {
						c.errorf(n.Pos, "route %s: table %q: give the table's number (lbx does not read /etc/iproute2/rt_tables)", name, s)
						return nil
					}
					t = v
				}
				r.Table = &t
			}
		case w == "metric" || w == "priority" || w == "preference":
			var v int
			if v, ok = num(&i, w, 0, 1<<32-1); ok {
				r.Metric = &v
			}
		case slices.Contains(state.RouteTypes, w):
			if w != "unicast" {
				r.Type = w
			}
		case w == "no_track":
			c.note(r, n.Pos, "route %s: no_track left out: lbx always puts back a route deleted behind its back (at the next resync)", name)
		case w == "track_group":
			_, ok = next(&i, w)
			c.note(r, n.Pos, "route %s: track groups are not in the model; left out", name)
		case w == "protocol" || w == "proto":
			var s string
			if s, ok = next(&i, w); ok {
				c.note(r, n.Pos, "route %s: protocol %s left out: lbx marks its routes with protocol %d, which is how it knows them", name, s, state.RouteProtoLBX)
			}
		case routeMetrics[w]:
			var s string
			if s, ok = next(&i, w); ok && s == "lock" {
				s, ok = next(&i, w)
			}
			if ok {
				c.note(r, n.Pos, "route %s: `%s %s` is not in the model; left out", name, w, s)
			}
		case routeInexpressible[w] != "":
			if w == "tos" || w == "dsfield" {
				if s, okv := next(&i, w); okv && (s == "0" || s == "0x0" || s == "0x00") {
					continue // the default
				}
			}
			c.unsupported(nil, n, routeInexpressible[w])
			return nil
		case dst == "" && (w == "default" || strings.ContainsAny(w, ".:")):
			dst = w
		default:
			c.errorf(n.Pos, "route %s: unknown option %q", name, w)
			return nil
		}
		if !ok {
			return nil
		}
	}
	if or != nil {
		// keepalived 1.x: a second gateway makes a two-path route.
		if r.Via == nil {
			c.errorf(n.Pos, "route %s: `or` needs a first gateway (via)", name)
			return nil
		}
		r.Nexthops = []*model.Nexthop{{Via: r.Via, Interface: r.Interface, OnLink: r.OnLink}, {Via: or, Interface: r.Interface, OnLink: r.OnLink}}
		c.note(r, n.Pos, "route %s: `or` is deprecated, and keepalived 2.2.7 fails to add such a route (the kernel refuses its request: EINVAL); converted as the two-path route it describes (nexthops), which lbx adds", name)
		r.Via, r.Interface, r.OnLink = nil, "", false
	}
	if dst == "" {
		c.errorf(n.Pos, "route %s: no destination", name)
		return nil
	}
	if dst == "default" {
		dst = "0.0.0.0/0"
		if fam := routeFamily(r); fam == state.IPv6 {
			dst = "::/0"
		}
	}
	p, ok := c.prefix(n.Pos, "route", dst)
	if !ok {
		return nil
	}
	if m := p.Masked(); m != p.Prefix {
		c.errorf(n.Pos, "route %s: %s has host bits set; the kernel refuses it (the network is %s)", name, dst, m)
		return nil
	}
	r.To = model.Network{Prefix: p.Prefix}
	if p.Addr().Is6() && r.Scope != "" && r.Scope != "global" {
		// The model refuses it; the kernel ignores it.
		c.note(r, n.Pos, "route %s: scope %s left out: the kernel keeps every IPv6 route global", name, r.Scope)
		r.Scope = ""
	}
	return r
}

// routeFamily is the family a route's addresses say, IPv4 when none does.
func routeFamily(r *model.Route) state.Family {
	for _, a := range []*model.Addr{r.Via, r.Src} {
		if a != nil {
			return state.FamilyOf(a.Addr)
		}
	}
	for _, h := range r.Nexthops {
		if h.Via != nil {
			return state.FamilyOf(h.Via.Addr)
		}
	}
	return state.IPv4
}

// routeName is the route's destination as written, for messages.
func routeName(words []string) string {
	for i, w := range words {
		after := ""
		if i > 0 {
			after = words[i-1]
		}
		switch after {
		case "src", "via", "gw", "or", "inet", "inet6":
			continue
		}
		if w == "default" || strings.ContainsAny(w, ".:") {
			return w
		}
	}
	return words[0]
}

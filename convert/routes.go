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
	p := &routeParser{c: c, n: n, words: words, name: routeName(words), r: &model.Route{}}
	for p.i = 0; p.i < len(words); p.i++ {
		if !p.word(words[p.i]) {
			return nil
		}
	}
	return p.finish()
}

// routeParser holds one route line while its words are read in order.
type routeParser struct {
	c     *conv
	n     *keepalived.Node
	name  string // for messages
	words []string
	i     int // the word being read
	r     *model.Route
	dst   string
	or    *model.Addr    // keepalived 1.x's second gateway
	nh    *model.Nexthop // the nexthop being read
}

// next reads the value of the option at p.i.
func (p *routeParser) next(what string) (string, bool) {
	if p.i+1 >= len(p.words) {
		p.c.errorf(p.n.Pos, "route %s: %s: missing value", p.name, what)
		return "", false
	}
	p.i++
	return p.words[p.i], true
}

// addr reads an address value, after ip's optional family word.
func (p *routeParser) addr(what string) (*model.Addr, bool) {
	s, ok := p.next(what)
	if ok && (s == "inet" || s == "inet6") {
		s, ok = p.next(what)
	}
	if !ok {
		return nil, false
	}
	a, ok := p.c.addr(p.n, s)
	return &a, ok
}

// num reads a number value in [lo, hi].
func (p *routeParser) num(what string, lo, hi int) (int, bool) {
	s, ok := p.next(what)
	if !ok {
		return 0, false
	}
	v, err := parseInt(s, lo, hi)
	if err != nil {
		p.c.errorf(p.n.Pos, "route %s: %s %q: %v", p.name, what, s, err)
		return 0, false
	}
	return v, true
}

// word reads one option and its values; false leaves the line out (the
// reason is already reported). The three steps keep ip's precedence:
// path words first, then route attributes, then what lbx leaves out.
func (p *routeParser) word(w string) bool {
	if ok, known := p.pathWord(w); known {
		return ok
	}
	if ok, known := p.attribute(w); known {
		return ok
	}
	return p.leftOut(w)
}

// pathWord reads the words that say where the route goes: source,
// destination, gateways, device and nexthops.
func (p *routeParser) pathWord(w string) (ok, known bool) {
	ok = true
	switch {
	case w == "src":
		p.r.Src, ok = p.addr(w)
	case w == "to":
		if p.dst, ok = p.next(w); ok && slices.Contains(state.RouteTypes, p.dst) {
			// ip's `to TYPE PREFIX`
			if p.dst != "unicast" {
				p.r.Type = p.dst
			}
			p.dst, ok = p.next(w)
		}
	case w == "via" || w == "gw":
		var a *model.Addr
		if a, ok = p.addr(w); ok && p.nh != nil {
			p.nh.Via = a
		} else if ok {
			p.r.Via = a
		}
	case w == "or":
		p.or, ok = p.addr(w)
	case w == "dev" || w == "oif":
		var s string
		if s, ok = p.next(w); ok && p.nh != nil {
			p.nh.Interface = s
		} else if ok {
			p.r.Interface = s
		}
	case w == "weight" && p.nh != nil:
		var v int
		if v, ok = p.num(w, 1, 256); ok {
			p.nh.Weight = &v
		}
	case w == "onlink":
		if p.nh != nil {
			p.nh.OnLink = true
		} else {
			p.r.OnLink = true
		}
	case w == "nexthop":
		p.nh = &model.Nexthop{}
		p.r.Nexthops = append(p.r.Nexthops, p.nh)
	default:
		return false, false
	}
	return ok, true
}

// attribute reads the route's scope, table, metric and type.
func (p *routeParser) attribute(w string) (ok, known bool) {
	ok = true
	switch {
	case w == "scope":
		var s string
		if s, ok = p.next(w); ok {
			if named, isNumber := routeScopeNumbers[s]; isNumber {
				s = named
			}
			if s == "universe" {
				s = "global"
			}
			p.r.Scope = s
		}
	case w == "table":
		var s string
		if s, ok = p.next(w); ok {
			t, named := routeTables[s]
			if !named {
				v, err := parseInt(s, 1, 1<<32-1)
				if err != nil {
					p.c.errorf(p.n.Pos, "route %s: table %q: give the table's number (lbx does not read /etc/iproute2/rt_tables)", p.name, s)
					return false, true
				}
				t = v
			}
			p.r.Table = &t
		}
	case w == "metric" || w == "priority" || w == "preference":
		var v int
		if v, ok = p.num(w, 0, 1<<32-1); ok {
			p.r.Metric = &v
		}
	case slices.Contains(state.RouteTypes, w):
		if w != "unicast" {
			p.r.Type = w
		}
	default:
		return false, false
	}
	return ok, true
}

// leftOut reads what the model does not hold: dropped with a note, or
// the whole line left out; then the bare destination, or an unknown word.
func (p *routeParser) leftOut(w string) bool {
	c, r, pos, name := p.c, p.r, p.n.Pos, p.name
	ok := true
	switch {
	case w == "no_track":
		c.note(r, pos, "route %s: no_track left out: lbx always puts back a route deleted behind its back (at the next resync)", name)
	case w == "track_group":
		_, ok = p.next(w)
		c.note(r, pos, "route %s: track groups are not in the model; left out", name)
	case w == "protocol" || w == "proto":
		var s string
		if s, ok = p.next(w); ok {
			c.note(r, pos, "route %s: protocol %s left out: lbx marks its routes with protocol %d, which is how it knows them", name, s, state.RouteProtoLBX)
		}
	case routeMetrics[w]:
		var s string
		if s, ok = p.next(w); ok && s == "lock" {
			s, ok = p.next(w)
		}
		if ok {
			c.note(r, pos, "route %s: `%s %s` is not in the model; left out", name, w, s)
		}
	case routeInexpressible[w] != "":
		if w == "tos" || w == "dsfield" {
			if s, okv := p.next(w); okv && (s == "0" || s == "0x0" || s == "0x00") {
				return true // the default
			}
		}
		c.unsupported(nil, p.n, routeInexpressible[w])
		return false
	case p.dst == "" && (w == "default" || strings.ContainsAny(w, ".:")):
		p.dst = w
	default:
		c.errorf(pos, "route %s: unknown option %q", name, w)
		return false
	}
	return ok
}

// finish checks the line as a whole and sets the destination.
func (p *routeParser) finish() *model.Route {
	c, r, pos, name := p.c, p.r, p.n.Pos, p.name
	if p.or != nil {
		// keepalived 1.x: a second gateway makes a two-path route.
		if r.Via == nil {
			c.errorf(pos, "route %s: `or` needs a first gateway (via)", name)
			return nil
		}
		r.Nexthops = []*model.Nexthop{{Via: r.Via, Interface: r.Interface, OnLink: r.OnLink}, {Via: p.or, Interface: r.Interface, OnLink: r.OnLink}}
		c.note(r, pos, "route %s: `or` is deprecated, and keepalived 2.2.7 fails to add such a route (the kernel refuses its request: EINVAL); converted as the two-path route it describes (nexthops), which lbx adds", name)
		r.Via, r.Interface, r.OnLink = nil, "", false
	}
	dst := p.dst
	if dst == "" {
		c.errorf(pos, "route %s: no destination", name)
		return nil
	}
	if dst == "default" {
		dst = "0.0.0.0/0"
		if fam := routeFamily(r); fam == state.IPv6 {
			dst = "::/0"
		}
	}
	pre, ok := c.prefix(pos, "route", dst)
	if !ok {
		return nil
	}
	if m := pre.Masked(); m != pre.Prefix {
		c.errorf(pos, "route %s: %s has host bits set; the kernel refuses it (the network is %s)", name, dst, m)
		return nil
	}
	r.To = model.Network{Prefix: pre.Prefix}
	if pre.Addr().Is6() && r.Scope != "" && r.Scope != "global" {
		// The model refuses it; the kernel ignores it.
		c.note(r, pos, "route %s: scope %s left out: the kernel keeps every IPv6 route global", name, r.Scope)
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

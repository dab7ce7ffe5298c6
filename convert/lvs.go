package convert

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
)

// ----- virtual_server_group -----

func (c *conv) vsGroup(n *keepalived.Node) {
	if !c.need(n, 1, "a name") {
		return
	}
	g := &model.VirtualServerGroup{Name: n.Args[0].Text}
	if first, dup := c.groupNodes[g.Name]; dup {
		// keepalived keeps both, but a virtual server finds its group by
		// name, the first of the list (ipvs_get_group_by_name).
		c.corrected(nil, n.Pos, "virtual_server_group %s is defined again (first at %s): keepalived keeps both, but every \"virtual_server group %s\" uses the first (ipvs_get_group_by_name), so this definition is never used; lbx leaves it out — remove it, or rename it and the virtual servers meant to use it", g.Name, first.Pos, g.Name)
		return
	}
	c.groupNodes[g.Name] = n
	for _, ch := range n.Children {
		if ch.Name == "fwmark" {
			v, ok := c.intArg(ch, 0, 1, 1<<32-1)
			if !ok {
				continue
			}
			fam, ok := c.fwmarkEntryFamily(g, ch)
			if !ok {
				continue
			}
			g.Members = append(g.Members, &model.GroupMember{FWMark: uint32(v), Family: fam})
			continue
		}
		r, ok := c.addrRange(ch)
		if !ok {
			continue
		}
		m := &model.GroupMember{Address: r}
		c.pos[m] = ch.Pos
		if len(ch.Args) > 0 {
			if p, ok := c.port(ch, ch.Args[0].Text); ok {
				m.Port = p
			}
		}
		c.extraWords(g, ch, 1, "alloc_vsg_entry reads the address and port")
		g.Members = append(g.Members, m)
	}
	if len(g.Members) == 0 {
		c.note(g, n.Pos, "virtual_server_group %s has no entries; keepalived removes it", g.Name)
		return
	}
	c.pos[g] = n.Pos
	c.m.VirtualServerGroups = append(c.m.VirtualServerGroups, g)
}

// addrRange reads 10.0.0.1, 10.0.0.1-12, 10.0.0.1-10.0.0.12 or a /nn
// block. The model holds ranges of the last octet (hextet) only.
func (c *conv) addrRange(n *keepalived.Node) (*model.AddrRange, bool) {
	s := n.Name
	if strings.Contains(s, "/") {
		c.unsupported(nil, n, "address blocks (a.b.c.d/nn) in virtual_server_group are not in the model; write them as a range a.b.c.d-e")
		return nil, false
	}
	base, end, isRange := strings.Cut(s, "-")
	a, err := netip.ParseAddr(base)
	if err != nil || a.Zone() != "" {
		c.errorf(n.Pos, "virtual_server_group: %q is not a valid address or range", s)
		return nil, false
	}
	a = a.Unmap()
	r := &model.AddrRange{First: a, Last: a}
	if !isRange {
		return r, true
	}
	if last, err := netip.ParseAddr(end); err == nil {
		// Full-address form: expressible when only the last octet/hextet varies.
		last = last.Unmap()
		if last.Is4() != a.Is4() || last.Less(a) {
			c.errorf(n.Pos, "virtual_server_group: range %q ends before it starts or mixes families", s)
			return nil, false
		}
		if !sameExceptLast(a, last) {
			c.unsupported(nil, n, "ranges across more than the last octet/hextet are not in the model")
			return nil, false
		}
		r.Last = last
		return r, true
	}
	if a.Is4() {
		v, err := strconv.Atoi(end)
		b := a.As4()
		if err != nil || v < int(b[3]) || v > 255 {
			c.errorf(n.Pos, "virtual_server_group: range %q: the end must be a last octet from %d to 255", s, b[3])
			return nil, false
		}
		b[3] = byte(v)
		r.Last = netip.AddrFrom4(b)
		return r, true
	}
	v, err := strconv.ParseUint(end, 16, 16)
	b := a.As16()
	first := uint64(b[14])<<8 | uint64(b[15])
	if err != nil || v < first {
		c.errorf(n.Pos, "virtual_server_group: range %q: the end must be a last hextet (hex) from %x", s, first)
		return nil, false
	}
	if v-first >= 256 {
		c.unsupported(nil, n, "ranges of more than 256 addresses are not in the model")
		return nil, false
	}
	b[14], b[15] = byte(v>>8), byte(v)
	r.Last = netip.AddrFrom16(b)
	return r, true
}

func sameExceptLast(a, b netip.Addr) bool {
	x, y := a.As16(), b.As16()
	n := 15
	if !a.Is4() {
		n = 14
	}
	return slices.Equal(x[:n], y[:n])
}

func (c *conv) groupHasFwmark(name string) bool {
	for _, g := range c.m.VirtualServerGroups {
		if g.Name == name {
			for _, m := range g.Members {
				if m.FWMark != 0 {
					return true
				}
			}
		}
	}
	return false
}

func (c *conv) groupHasAddr(name string) bool {
	for _, g := range c.m.VirtualServerGroups {
		if g.Name == name {
			for _, m := range g.Members {
				if m.Address != nil {
					return true
				}
			}
		}
	}
	return false
}

// fwmarkEntryFamily reads a group's `fwmark N [inet|inet6]` family as
// vsg_handler does: 4, 6, or 0 (the virtual server's) without one; false
// for another word, which makes keepalived drop the entry.
func (c *conv) fwmarkEntryFamily(g *model.VirtualServerGroup, ch *keepalived.Node) (int, bool) {
	if len(ch.Args) < 2 {
		return 0, true
	}
	switch f := ch.Args[1].Text; f {
	case "inet":
		return 4, true
	case "inet6":
		return 6, true
	default:
		c.corrected(g, ch.Pos, "fwmark %s %s: keepalived drops the entry (\"(%s): fwmark '%s' family %s unknown - ignoring\", vsg_handler), so does lbx; write inet or inet6", ch.Args[0].Text, f, g.Name, ch.Args[0].Text, f)
		return 0, false
	}
}

func (c *conv) group(name string) *model.VirtualServerGroup {
	for _, g := range c.m.VirtualServerGroups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// vsKey reads `IP [PORT]`, `fwmark N` or `group NAME`.
func (c *conv) vsKey(vs *model.VirtualServer, n *keepalived.Node) bool {
	if !c.need(n, 1, "an address and port, `fwmark N` or `group NAME`") {
		return false
	}
	switch n.Args[0].Text {
	case "fwmark":
		if !c.need(n, 2, "a firewall mark after fwmark") {
			return false
		}
		v, err := strconv.ParseUint(n.Args[1].Text, 10, 32)
		if err != nil || v == 0 {
			c.errorf(n.Pos, "virtual_server fwmark: %q is not a mark from 1 to %d", n.Args[1].Text, uint32(1<<32-1))
			return false
		}
		vs.FWMark = uint32(v)
	case "group":
		if !c.need(n, 2, "a group name after group") {
			return false
		}
		vs.Group = n.Args[1].Text
		if c.group(vs.Group) == nil {
			c.errorf(n.Pos, "virtual_server group %s: no virtual_server_group of that name (with entries)", vs.Group)
			return false
		}
	default:
		a, p, ok := c.serverAddr(vs, n, "virtual server", "alloc_vs")
		if !ok {
			return false
		}
		vs.Address, vs.Port = &a, p
	}
	c.extraWords(vs, n, 2, "alloc_vs reads the address and port, `fwmark N` or `group NAME`")
	return true
}

// forwarding reads NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|
// remcsum] as svr_forwarding_handler (check_parser.c): TUN with tunnel
// options it refuses is still TUN, with the tunnel settings the server had
// (prev).
func (c *conv) forwarding(owner any, n *keepalived.Node, prev *model.Tunnel) (string, *model.Tunnel, bool) {
	if !c.need(n, 1, "NAT, DR or TUN") {
		return "", nil, false
	}
	switch n.Args[0].Text {
	case "NAT":
		return "nat", nil, true
	case "DR":
		return "dr", nil, true
	case "TUN":
	default:
		c.oneOf(n, n.Args[0].Text, []string{"NAT", "DR", "TUN"}, "want %[2]s (upper case), got %[1]s")
		return "", nil, false
	}
	if len(n.Args) == 1 {
		return "tun", nil, true
	}
	t, said := tunnelOptions(argTexts(n)[1:])
	if said != "" {
		kind := "real"
		if _, ok := owner.(*model.VirtualServer); ok {
			kind = "virtual"
		}
		if n.Name == "sorry_server_lvs_method" {
			kind = "sorry"
		}
		c.corrected(owner, n.Pos, "%s %s: keepalived forwards with TUN but ignores the tunnel options (\"%s\", svr_forwarding_handler) and keeps the tunnel it had (ipip unless set before), so does lbx", n.Name, n.ArgText(), strings.ReplaceAll(said, "%s", kind))
		return "tun", prev, true
	}
	return "tun", t, true
}

// tunnelOptions reads TUN's options; said is keepalived's message for
// options it refuses ("%s" stands for the server kind).
func tunnelOptions(args []string) (t *model.Tunnel, said string) {
	t = &model.Tunnel{}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "type":
			if i+1 >= len(args) {
				return nil, "Missing tunnel type for %s server."
			}
			i++
			if !slices.Contains(model.TunnelTypes, args[i]) {
				return nil, "Unknown tunnel type " + args[i] + " for %s server."
			}
			t.Type = args[i]
		case "port":
			if i+1 >= len(args) {
				return nil, "Missing port for %s server gue tunnel."
			}
			i++
			p, err := strconv.Atoi(args[i])
			if err != nil || p < 1 || p > 65535 {
				return nil, "Invalid gue tunnel port " + args[i] + " for %s server."
			}
			t.Port = p
		case "nocsum":
			t.Checksum = "none"
		case "csum", "remcsum":
			t.Checksum = args[i]
		default:
			return nil, "Invalid tunnel option " + args[i] + " for %s server."
		}
	}
	switch {
	case (t.Type == "gue") != (t.Port != 0):
		return nil, "gue tunnels require port, otherwise cannot have port."
	case (t.Type == "" || t.Type == "ipip") && t.Checksum != "" && t.Checksum != "none":
		return nil, "ipip tunnels do not support checksum option."
	case t.Type == "gre" && t.Checksum == "remcsum":
		return nil, "gre tunnels do not support remote checksum option."
	}
	return t, ""
}

// maxPersistenceTimeout is keepalived's LVS_MAX_TIMEOUT (31 days), the
// largest persistence_timeout it reads.
const maxPersistenceTimeout = 86400 * 31

// persistence applies persistence_timeout / persistence_granularity and
// keepalived's rule that a service without a port is persistent.
func (c *conv) persistence(vs *model.VirtualServer, n, pto, pgr *keepalived.Node) {
	var p *model.Persistence
	if pto != nil {
		if len(pto.Args) == 0 {
			p = &model.Persistence{Timeout: dur(model.DefaultPersistenceTimeout)}
		} else if v, err := strconv.ParseUint(pto.Args[0].Text, 10, 32); v == 0 && err == nil {
			c.note(vs, pto.Pos, "persistence_timeout 0 is a legacy way to say \"not persistent\" (keepalived ignores it); no persistence — remove the line")
		} else if err != nil || v > maxPersistenceTimeout {
			// pto_handler: read_unsigned_strvec(1, LVS_MAX_TIMEOUT) fails
			// and the line is ignored.
			c.corrected(vs, pto.Pos, "persistence_timeout %s: keepalived ignores it (\"persistence_timeout invalid\": it takes 1 to %d seconds, 31 days), so has been running this service without this persistence, and so does lbx; write a timeout in that range if persistence was meant", pto.Args[0].Text, maxPersistenceTimeout)
		} else {
			p = &model.Persistence{Timeout: dur(time.Duration(v) * time.Second)}
		}
	}
	if pgr != nil && c.need(pgr, 1, "a netmask or prefix length") {
		m, ok := c.granularity(vs, pgr)
		if ok {
			if p == nil {
				// keepalived: granularity makes the service persistent.
				p = &model.Persistence{Timeout: dur(model.DefaultPersistenceTimeout)}
				c.note(vs, pgr.Pos, "persistence_granularity without persistence_timeout: keepalived makes the service persistent for %s", model.DefaultPersistenceTimeout)
			}
			p.Granularity = m
		}
	}
	if p == nil && c.needsPersistence(vs) {
		p = &model.Persistence{Timeout: dur(model.DefaultPersistenceTimeout)}
		c.note(vs, n.Pos, "a service without a port must be persistent; keepalived sets persistence_timeout %d, so does lbx", int(model.DefaultPersistenceTimeout.Seconds()))
	}
	vs.Persistence = p
}

func (c *conv) needsPersistence(vs *model.VirtualServer) bool {
	if vs.Address != nil {
		return vs.Port == 0
	}
	if g := c.group(vs.Group); g != nil {
		for _, m := range g.Members {
			if m.Address != nil && m.Port == 0 {
				return true
			}
		}
	}
	return false
}

func (c *conv) granularity(vs *model.VirtualServer, n *keepalived.Node) (*model.Mask, bool) {
	s := n.Args[0].Text
	if strings.Contains(s, ".") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			c.errorf(n.Pos, "persistence_granularity: %q is not an IPv4 netmask", s)
			return nil, false
		}
		b := a.As4()
		u := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		bits := 0
		for bits < 32 && u&(1<<(31-bits)) != 0 {
			bits++
		}
		if bits < 32 && u<<bits != 0 {
			c.errorf(n.Pos, "persistence_granularity: netmask %s is not contiguous", s)
			return nil, false
		}
		return &model.Mask{Bits: bits}, true
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > 128 {
		c.errorf(n.Pos, "persistence_granularity: want a netmask (IPv4) or a prefix length 1..128 (IPv6), got %q", s)
		return nil, false
	}
	return &model.Mask{Bits: v}, true
}

// fixPort applies keepalived's port rules for a real or sorry server:
// NAT without a port takes the service's; DR/TUN use the service's port
// (reset, with a warning, when another is given); with fwmark DR/TUN the
// port is cleared (checks, when the server has some, keep it).
func (c *conv) fixPort(vs *model.VirtualServer, n *keepalived.Node, port *int, fwd, what string, checks bool) {
	switch {
	case vs.Group != "":
		if fwd != "nat" {
			c.groupPort(vs, n, port, fwd, what)
		}
	case vs.FWMark != 0:
		if fwd != "nat" && *port != 0 {
			also := ""
			if checks {
				also = fmt.Sprintf("; its checks still connect to port %d (queue_checker copied the address before the clearing), so do lbx's (connect_port %d)", *port, *port)
			}
			c.note(vs, n.Pos, "%s of fwmark service with %s forwarding has port %d; keepalived clears it (\"has port specified - clearing\"), so does lbx%s", what, strings.ToUpper(fwd), *port, also)
			*port = 0
		}
	default:
		if *port == 0 {
			*port = vs.Port
		} else if fwd != "nat" && *port != vs.Port {
			c.note(vs, n.Pos, "%s port %d differs from the service port %d with %s forwarding; keepalived resets it to %d, so does lbx", what, *port, vs.Port, strings.ToUpper(fwd), vs.Port)
			*port = vs.Port
		}
	}
}

// groupPort applies keepalived's ports for a DR or TUN real server of a
// group: ipvs_group_cmd (check/ipvswrapper.c) programs it with the port of
// each address entry and 0 in a fwmark entry's service, as the model
// compiles it (model.EntryKey); its own port is what its checks connect
// to. Without one, it takes the entries' port when they all agree.
func (c *conv) groupPort(vs *model.VirtualServer, n *keepalived.Node, port *int, fwd, what string) {
	g := c.group(vs.Group)
	if g == nil {
		return
	}
	ports := map[int]bool{}
	for _, m := range g.Members {
		if m.FWMark != 0 {
			ports[0] = true
		} else if m.Address != nil {
			ports[m.Port] = true
		}
	}
	if *port == 0 && len(ports) == 1 {
		for p := range ports {
			*port = p
		}
		return
	}
	if len(ports) == 1 && ports[*port] {
		return
	}
	own := fmt.Sprintf("has port %d", *port)
	if *port == 0 {
		own = "has no port"
	}
	c.note(vs, n.Pos, "%s %s; with %s forwarding keepalived programs it with the port of each entry of group %s (0 for a fwmark entry: ipvs_group_cmd), so does lbx; its checks connect to port %d", what, own, strings.ToUpper(fwd), g.Name, *port)
}

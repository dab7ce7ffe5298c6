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
	if _, dup := c.groupNodes[g.Name]; dup {
		c.errorf(n.Pos, "virtual_server_group %q is defined twice", g.Name)
		return
	}
	c.groupNodes[g.Name] = n
	for _, ch := range n.Children {
		if ch.Name == "fwmark" {
			v, ok := c.intArg(ch, 0, 1, 1<<32-1)
			if !ok {
				continue
			}
			if len(ch.Args) > 1 {
				c.note(g, ch.Pos, "fwmark %d %s: the family of a group fwmark is not in the model (IPv4 is used)", v, ch.Args[1].Text)
			}
			g.Members = append(g.Members, &model.GroupMember{FWMark: uint32(v)})
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
		if len(ch.Args) > 1 {
			c.errorf(ch.Pos, "virtual_server_group %s: unexpected %q after the port", g.Name, ch.Args[1].Text)
		}
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

// ----- virtual_server -----

// chk holds checker settings that inherit virtual server -> real server ->
// checker.
type chk struct {
	connectTimeout, delayBeforeRetry, delayLoop, warmup *model.Duration
	retry                                               *int
	virtualhost                                         string
	alpha                                               *bool
}

func (c *conv) chkSetting(owner any, s *chk, n *keepalived.Node) bool {
	switch n.Name {
	case "connect_timeout":
		if d := c.timer(n); d != nil {
			s.connectTimeout = d
		}
	case "delay_before_retry":
		if d := c.timer(n); d != nil {
			s.delayBeforeRetry = d
		}
	case "delay_loop":
		if d := c.timer(n); d != nil {
			s.delayLoop = d
		}
	case "warmup":
		if d := c.timer(n); d != nil {
			s.warmup = d
		}
	case "retry", "nb_get_retry":
		if n.Name == "nb_get_retry" {
			c.legacy(owner, n, "retry")
		}
		s.retry = c.intPtr(n, 0, 1<<31-1)
	case "virtualhost":
		if c.need(n, 1, "a host name") {
			s.virtualhost = n.Args[0].Text
		}
	default:
		return false
	}
	return true
}

var vsUnsupported = map[string]string{
	"persistence_engine": "IPVS persistence engines (sip) are not in the model",
	"smtp_alert":         "checker e-mail alerts are not in the model",
	"snmp_name":          "SNMP is not in the model",
}

type rsDraft struct {
	node *keepalived.Node
	rs   *model.RealServer
	chk  chk
	fwd  string // "" = inherit
	tun  *model.Tunnel
}

func (c *conv) virtualServer(n *keepalived.Node) {
	vs := &model.VirtualServer{}
	c.pos[vs] = n.Pos
	if !c.vsKey(vs, n) {
		return
	}
	var protoNode, algoNode, fwmarkFamily *keepalived.Node
	var vsWeight = model.DefaultWeight
	var vsChk chk
	var vsTunnel *model.Tunnel
	var quorum *model.Quorum
	var quorumNode, hystNode *keepalived.Node
	var ssInhibit, ssMethod *keepalived.Node
	var pto, pgr *keepalived.Node
	var flags []*keepalived.Node
	var ops *keepalived.Node
	q := func() *model.Quorum {
		if quorum == nil {
			quorum = &model.Quorum{Min: model.DefaultQuorum}
		}
		return quorum
	}
	// First the service's own settings: keepalived applies them to the real
	// servers whatever their order in the block.
	for _, ch := range n.Children {
		if c.chkSetting(vs, &vsChk, ch) {
			continue
		}
		switch ch.Name {
		case "real_server":
			// second pass
		case "lb_algo", "lvs_sched":
			if ch.Name == "lb_algo" {
				c.legacy(vs, ch, "lvs_sched (scheduler:)")
			}
			algoNode = ch
			if !c.need(ch, 1, "a scheduler") {
				continue
			}
			s := ch.Args[0].Text
			switch {
			case slices.Contains(model.Schedulers, s):
				vs.Scheduler = s
			case s == "twos":
				c.unsupported(vs, ch, "the twos scheduler is not in the model's scheduler list")
			default:
				c.errorf(ch.Pos, "%s: unknown scheduler %q; want one of %s", ch.Name, s, strings.Join(model.Schedulers, " "))
			}
		case "lb_kind", "lvs_method":
			if ch.Name == "lb_kind" {
				c.legacy(vs, ch, "lvs_method (forwarding:)")
			}
			if f, t, ok := c.forwarding(vs, ch); ok {
				vs.Forwarding, vsTunnel = f, t
			}
		case "protocol":
			protoNode = ch
			if c.need(ch, 1, "TCP, UDP or SCTP") {
				switch p := strings.ToLower(ch.Args[0].Text); p {
				case "tcp", "udp", "sctp":
					vs.Protocol = p
				default:
					c.errorf(ch.Pos, "protocol: want TCP, UDP or SCTP, got %q", ch.Args[0].Text)
				}
			}
		case "persistence_timeout":
			pto = ch
		case "persistence_granularity":
			pgr = ch
		case "ha_suspend":
			vs.HASuspend = true
			if vs.FWMark != 0 || vs.Group != "" && c.groupHasFwmark(vs.Group) {
				vs.HASuspend = false
				c.note(vs, ch.Pos, "ha_suspend cannot be used with fwmarks; keepalived clears it, so does lbx")
			}
		case "alpha":
			if v, ok := c.boolArg(ch); ok {
				vs.Alpha = v
			}
		case "omega":
			if v, ok := c.boolArg(ch); ok {
				vs.Omega = v
			}
		case "quorum":
			quorumNode = ch
			if v, ok := c.intArg(ch, 0, 1, 1<<31-1); ok {
				q().Min = v
			}
		case "hysteresis":
			hystNode = ch
			if v, ok := c.intArg(ch, 0, 0, 1<<31-1); ok {
				q().Hysteresis = v
			}
		case "quorum_up", "quorum_down":
			if !c.need(ch, 1, "a script") {
				continue
			}
			if len(ch.Args) > 1 {
				c.scriptUserNote(vs, ch)
			}
			if ch.Name == "quorum_up" {
				q().UpScript = ch.Args[0].Text
			} else {
				q().DownScript = ch.Args[0].Text
			}
		case "sorry_server":
			if !c.need(ch, 1, "an address") {
				continue
			}
			a, ok := c.addr(ch, ch.Args[0].Text)
			if !ok {
				continue
			}
			s := &model.SorryServer{Address: a}
			c.pos[s] = ch.Pos
			if len(ch.Args) > 1 {
				s.Port, _ = c.port(ch, ch.Args[1].Text)
			}
			vs.SorryServer = s
		case "sorry_server_inhibit":
			ssInhibit = ch
		case "sorry_server_lvs_method":
			ssMethod = ch
		case "inhibit_on_failure":
			if v, ok := c.boolArg(ch); ok {
				vs.InhibitOnFailure = v
			}
		case "weight":
			if v, ok := c.intArg(ch, 0, 0, model.MaxWeight); ok {
				vsWeight = v
			}
		case "ip_family":
			fwmarkFamily = ch
			if !c.need(ch, 1, "inet or inet6") {
				continue
			}
			switch ch.Args[0].Text {
			case "inet":
				if vs.FWMark != 0 {
					vs.Family = 4
				}
			case "inet6":
				if vs.FWMark != 0 {
					vs.Family = 6
				} else {
					c.unsupported(vs, ch, "ip_family is only expressible for `virtual_server fwmark`")
				}
			default:
				c.errorf(ch.Pos, "ip_family: want inet or inet6, got %q", ch.Args[0].Text)
			}
		case "hashed":
			c.note(vs, ch.Pos, "hashed is ignored: the kernel hashes every service")
		case "ops":
			ops = ch
		case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
			flags = append(flags, ch)
		case "nat_mask":
			c.note(vs, ch.Pos, "nat_mask is a legacy keyword with no meaning today; ignored")
		default:
			c.unknown(vs, ch, vsUnsupported)
		}
	}
	// Scheduler flags: keepalived keeps sh-/mh- flags only with their
	// scheduler.
	sched := vs.Scheduler
	if sched == "" {
		sched = model.DefaultScheduler
	}
	for _, f := range flags {
		if (strings.HasPrefix(f.Name, "sh-") && sched != "sh") || (strings.HasPrefix(f.Name, "mh-") && sched != "mh") {
			c.note(vs, f.Pos, "%s only applies to the %s scheduler; keepalived ignores it, so does lbx", f.Name, f.Name[:2])
			continue
		}
		if !slices.Contains(vs.SchedulerFlags, f.Name) {
			vs.SchedulerFlags = append(vs.SchedulerFlags, f.Name)
		}
	}
	// Defaults, written out.
	if vs.Scheduler == "" {
		vs.Scheduler = model.DefaultScheduler
		_ = algoNode
	}
	if vs.Forwarding == "" {
		vs.Forwarding = model.DefaultForwarding
	}
	if vs.FWMark != 0 || vs.Group != "" && !c.groupHasAddr(vs.Group) {
		if vs.Protocol != "" && protoNode != nil {
			c.note(vs, protoNode.Pos, "protocol is ignored for fwmark services (keepalived says so too); left out")
		}
		vs.Protocol = ""
	} else if vs.Protocol == "" {
		vs.Protocol = "udp"
		c.note(vs, n.Pos, "no protocol: keepalived 2.2 programs this service as UDP (\"no protocol set - defaulting to UDP\"); written as udp — add `protocol TCP` to the keepalived file if TCP was meant")
	}
	if fwmarkFamily != nil && vs.FWMark == 0 && vs.Family != 0 {
		vs.Family = 0
	}
	if ops != nil {
		if vs.Protocol == "udp" || vs.FWMark != 0 {
			vs.OnePacket = true
		} else {
			c.note(vs, ops.Pos, "ops (one-packet scheduling) needs UDP; keepalived resets it, so does lbx")
		}
	}
	c.persistence(vs, n, pto, pgr)
	if vsChk.delayLoop == nil {
		vsChk.delayLoop = dur(model.DefaultDelayLoop)
	}
	vs.DelayLoop = vsChk.delayLoop
	vs.Virtualhost = vsChk.virtualhost
	if vs.SorryServer != nil {
		if ssInhibit != nil {
			vs.SorryServer.Inhibit = true
		}
		if ssMethod != nil {
			if f, t, ok := c.forwarding(vs, ssMethod); ok {
				vs.SorryServer.Forwarding = f
				if t != nil {
					c.note(vs, ssMethod.Pos, "tunnel settings of a sorry server are not in the model; plain ipip is used")
				}
			}
		}
		if vs.SorryServer.Forwarding == "" {
			vs.SorryServer.Forwarding = vs.Forwarding
		}
		c.fixPort(vs, n, &vs.SorryServer.Port, vs.SorryServer.Forwarding, "sorry server")
	} else if ssInhibit != nil || ssMethod != nil {
		c.note(vs, n.Pos, "sorry_server_inhibit/sorry_server_lvs_method without sorry_server; ignored, as keepalived")
	}

	// Real servers.
	weightSum := 0
	for _, ch := range n.Children {
		if ch.Name != "real_server" {
			continue
		}
		rs := c.realServer(vs, ch, vsChk, vsWeight, vsTunnel)
		if rs == nil {
			continue
		}
		key := fmt.Sprintf("%s:%d", rs.Address.Addr, rs.Port)
		dup := false
		for _, prev := range vs.RealServers {
			if fmt.Sprintf("%s:%d", prev.Address.Addr, prev.Port) == key {
				dup = true
			}
		}
		if dup {
			c.note(vs, ch.Pos, "real server %s is listed twice; keepalived removes the second, so does lbx", key)
			continue
		}
		if vs.SorryServer != nil && vs.SorryServer.Address == rs.Address && vs.SorryServer.Port == rs.Port {
			c.note(vs, ch.Pos, "real server %s is also the sorry server; the model does not allow that, so the sorry server is left out", key)
			vs.SorryServer = nil
		}
		if rs.Weight != nil {
			weightSum += *rs.Weight
		}
		vs.RealServers = append(vs.RealServers, rs)
	}
	if len(vs.RealServers) == 0 {
		c.note(nil, n.Pos, "%s has no real servers; keepalived ignores such a virtual server, so does lbx", n.Source())
		return
	}
	if quorum != nil {
		if quorum.Min > weightSum {
			p := n.Pos
			if quorumNode != nil {
				p = quorumNode.Pos
			}
			c.note(vs, p, "quorum %d exceeds the total weight of the real servers (%d); keepalived lowers it to %d, so does lbx", quorum.Min, weightSum, weightSum)
			quorum.Min = weightSum
		}
		if quorum.Min > 0 && quorum.Hysteresis >= quorum.Min {
			p := n.Pos
			if hystNode != nil {
				p = hystNode.Pos
			}
			c.note(vs, p, "hysteresis %d is not below quorum %d; keepalived sets it to %d, so does lbx", quorum.Hysteresis, quorum.Min, quorum.Min-1)
			quorum.Hysteresis = quorum.Min - 1
		}
		vs.Quorum = quorum
	}
	for _, k := range c.m.ServiceKeys(vs) {
		if prev, ok := c.services[k.String()]; ok {
			c.errorf(n.Pos, "service %s is already declared at %s; IPVS holds one service per address, port and protocol", k, prev)
			return
		}
		c.services[k.String()] = n.Pos
	}
	c.m.VirtualServers = append(c.m.VirtualServers, vs)
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
		a, ok := c.addr(n, n.Args[0].Text)
		if !ok {
			return false
		}
		vs.Address = &a
		if len(n.Args) > 1 {
			p, ok := c.port(n, n.Args[1].Text)
			if !ok {
				return false
			}
			vs.Port = p
		}
	}
	if len(n.Args) > 2 {
		c.errorf(n.Pos, "virtual_server: unexpected %q", n.Args[2].Text)
		return false
	}
	return true
}

// forwarding reads NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum].
func (c *conv) forwarding(owner any, n *keepalived.Node) (string, *model.Tunnel, bool) {
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
		c.errorf(n.Pos, "%s: want NAT, DR or TUN (upper case), got %q", n.Name, n.Args[0].Text)
		return "", nil, false
	}
	if len(n.Args) == 1 {
		return "tun", nil, true
	}
	t := &model.Tunnel{}
	args := argTexts(n)[1:]
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "type":
			if i+1 >= len(args) {
				c.errorf(n.Pos, "%s TUN type: missing ipip, gue or gre", n.Name)
				return "", nil, false
			}
			t.Type = args[i+1]
			i++
			if !slices.Contains([]string{"ipip", "gue", "gre"}, t.Type) {
				c.errorf(n.Pos, "%s TUN type: want ipip, gue or gre, got %q", n.Name, t.Type)
				return "", nil, false
			}
		case "port":
			if i+1 >= len(args) {
				c.errorf(n.Pos, "%s TUN port: missing number", n.Name)
				return "", nil, false
			}
			p, ok := c.port(n, args[i+1])
			if !ok {
				return "", nil, false
			}
			t.Port = p
			i++
		case "nocsum":
			t.Checksum = "none"
		case "csum", "remcsum":
			t.Checksum = args[i]
		default:
			c.errorf(n.Pos, "%s TUN: unexpected %q", n.Name, args[i])
			return "", nil, false
		}
	}
	if t.Type == "gue" && t.Port == 0 {
		c.errorf(n.Pos, "%s TUN type gue needs `port N`", n.Name)
		return "", nil, false
	}
	return "tun", t, true
}

// persistence applies persistence_timeout / persistence_granularity and
// keepalived's rule that a service without a port is persistent.
func (c *conv) persistence(vs *model.VirtualServer, n, pto, pgr *keepalived.Node) {
	var p *model.Persistence
	if pto != nil {
		if len(pto.Args) == 0 {
			p = &model.Persistence{Timeout: dur(model.DefaultPersistenceTimeout)}
		} else if v, err := strconv.ParseUint(pto.Args[0].Text, 10, 32); err != nil {
			c.errorf(pto.Pos, "persistence_timeout: %q is not a number of seconds", pto.Args[0].Text)
		} else if v == 0 {
			c.note(vs, pto.Pos, "persistence_timeout 0 is a legacy way to say \"not persistent\" (keepalived ignores it); no persistence — remove the line")
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
// port is cleared.
func (c *conv) fixPort(vs *model.VirtualServer, n *keepalived.Node, port *int, fwd, what string) {
	switch {
	case vs.Group != "":
		if fwd != "nat" && *port != 0 {
			if g := c.group(vs.Group); g != nil {
				for _, m := range g.Members {
					if m.Address != nil && m.Port != *port {
						c.note(vs, n.Pos, "%s port %d differs from group member port %d with %s forwarding; keepalived reports it too", what, *port, m.Port, strings.ToUpper(fwd))
						break
					}
				}
			}
		}
	case vs.FWMark != 0:
		if fwd != "nat" && *port != 0 {
			c.note(vs, n.Pos, "%s of fwmark service with %s forwarding has port %d; keepalived clears it, so does lbx", what, strings.ToUpper(fwd), *port)
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

var rsUnsupported = map[string]string{
	"smtp_alert": "checker e-mail alerts are not in the model",
	"snmp_name":  "SNMP is not in the model",
	"track_file": "file tracking on real servers is not in the model (FILE_CHECK is)",
	"BFD_CHECK":  "BFD is not in the model",
}

func (c *conv) realServer(vs *model.VirtualServer, n *keepalived.Node, vsChk chk, vsWeight int, vsTunnel *model.Tunnel) *model.RealServer {
	if !c.need(n, 1, "an address") {
		return nil
	}
	a, ok := c.addr(n, n.Args[0].Text)
	if !ok {
		return nil
	}
	rs := &model.RealServer{Address: a}
	c.pos[rs] = n.Pos
	if len(n.Args) > 1 {
		p, ok := c.port(n, n.Args[1].Text)
		if !ok {
			return nil
		}
		rs.Port = p
	}
	if len(n.Args) > 2 {
		c.errorf(n.Pos, "real_server: unexpected %q", n.Args[2].Text)
		return nil
	}
	if vs.Address != nil && a.Is4() != vs.Address.Is4() {
		c.errorf(n.Pos, "real_server %s: address family differs from the virtual server's (only tunnelled real servers may differ, which the model does not hold)", a)
		return nil
	}
	s := vsChk
	var checks []*keepalived.Node
	tunnel := vsTunnel
	for _, ch := range n.Children {
		if c.chkSetting(rs, &s, ch) {
			continue
		}
		switch ch.Name {
		case "weight":
			if v, ok := c.intArg(ch, 0, 0, model.MaxWeight); ok {
				rs.Weight = &v
			}
		case "lvs_method", "lb_kind":
			if ch.Name == "lb_kind" {
				c.legacy(rs, ch, "lvs_method (forwarding:)")
			}
			if f, t, ok := c.forwarding(rs, ch); ok {
				rs.Forwarding, tunnel = f, t
			}
		case "notify_up", "notify_down":
			if !c.need(ch, 1, "a script") {
				continue
			}
			if len(ch.Args) > 1 {
				c.scriptUserNote(rs, ch)
			}
			if ch.Name == "notify_up" {
				rs.NotifyUp = ch.Args[0].Text
			} else {
				rs.NotifyDown = ch.Args[0].Text
			}
		case "uthreshold":
			if v, ok := c.intArg(ch, 0, 0, 1<<32-1); ok {
				rs.UpperThreshold = uint32(v)
			}
		case "lthreshold":
			if v, ok := c.intArg(ch, 0, 0, 1<<32-1); ok {
				rs.LowerThreshold = uint32(v)
			}
		case "inhibit_on_failure":
			if v, ok := c.boolArg(ch); ok {
				rs.InhibitOnFailure = &v
			}
		case "alpha":
			if v, ok := c.boolArg(ch); ok && v != vs.Alpha {
				c.unsupported(rs, ch, "alpha per real server is not in the model (only per virtual server)")
			}
		case "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK":
			checks = append(checks, ch)
		default:
			c.unknown(rs, ch, rsUnsupported)
		}
	}
	if rs.Weight == nil {
		rs.Weight = intp(vsWeight)
	}
	fwd := rs.Forwarding
	if fwd == "" {
		fwd = vs.Forwarding
	}
	if fwd == vs.Forwarding {
		rs.Forwarding = "" // inherits; written once on the service
	}
	if fwd == "tun" && tunnel != nil {
		rs.Tunnel = tunnel
	}
	c.fixPort(vs, n, &rs.Port, fwd, "real server "+a.String())
	for _, ch := range checks {
		rs.Checks = append(rs.Checks, c.checks(rs, ch, s)...)
	}
	return rs
}

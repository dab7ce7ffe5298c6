package convert

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// ----- virtual_server -----

var vsUnsupported = map[string]string{
	"persistence_engine": "IPVS persistence engines (sip) are not in the model",
	"smtp_alert":         "checker e-mail alerts are not in the model",
	"snmp_name":          "SNMP is not in the model",
}

// vsDraft collects a virtual_server block's statements: keepalived applies
// the service's own settings to its real servers whatever their order in
// the block, and corrects some values only at the block's end.
type vsDraft struct {
	vs     *model.VirtualServer
	n      *keepalived.Node
	chk    chk
	weight int
	tunnel *model.Tunnel
	quorum *model.Quorum
	// af is keepalived's vs->af: the address's family, ip_family's, else
	// that of the first real server that is not tunnelled.
	af state.Family

	protoNode, fwmarkFamily, quorumNode, hystNode *keepalived.Node
	ssInhibit, ssMethod, pto, pgr, ops            *keepalived.Node
	flags                                         []*keepalived.Node
	// Values keepalived ignores (keeping the previous or default one),
	// reported once the effective value is known.
	badSched, badMethod, badProto []*keepalived.Node
}

func (d *vsDraft) q() *model.Quorum {
	if d.quorum == nil {
		d.quorum = &model.Quorum{Min: model.DefaultQuorum}
	}
	return d.quorum
}

func (c *conv) virtualServer(n *keepalived.Node) {
	vs := &model.VirtualServer{}
	c.pos[vs] = n.Pos
	if !c.vsKey(vs, n) {
		return
	}
	d := &vsDraft{vs: vs, n: n, weight: model.DefaultWeight}
	if vs.Address != nil {
		d.af = state.FamilyOf(vs.Address.Addr)
	}
	for _, ch := range n.Children {
		if ch.Name == "real_server" || c.chkSetting(vs, &d.chk, ch, serverScope) {
			continue
		}
		if !c.vsSetting(d, ch) && !c.vsQuorumSetting(d, ch) {
			c.unknown(vs, ch, vsUnsupported)
		}
	}
	c.vsDefaults(d)
	c.vsSorry(d)
	weightSum, ok := c.vsReals(d)
	if !ok {
		c.note(nil, n.Pos, "%s has no real servers; keepalived ignores such a virtual server, so does lbx", n.Source())
		return
	}
	c.vsQuorum(d, weightSum)
	keys := c.m.ServiceKeys(vs)
	if first := c.sameServices(keys); first != nil {
		c.mergeVS(first, vs, n)
		return
	}
	for _, k := range keys {
		if prev, ok := c.services[k.String()]; ok {
			c.errorf(n.Pos, "service %s is already declared at %s; IPVS holds one service per address, port and protocol", k, prev)
			return
		}
		c.services[k.String()] = n.Pos
		c.serviceOwner[k.String()] = vs
	}
	c.m.VirtualServers = append(c.m.VirtualServers, vs)
}

// sameServices is the virtual server declared earlier for exactly these
// IPVS services (the same address and port, fwmark or group), nil when
// there is none.
func (c *conv) sameServices(keys []state.ServiceKey) *model.VirtualServer {
	if len(keys) == 0 {
		return nil
	}
	first := c.serviceOwner[keys[0].String()]
	if first == nil || len(c.m.ServiceKeys(first)) != len(keys) {
		return nil
	}
	for _, k := range keys[1:] {
		if c.serviceOwner[k.String()] != first {
			return nil
		}
	}
	return first
}

// mergeVS handles a virtual server declared a second time for the same
// services as keepalived 2.2.7 runs it: init_services adds each virtual
// server in turn; adding the service again fails with EEXIST, which
// ipvs_talk ignores, so the service keeps the first declaration's settings,
// and this declaration's real servers are added to it (one already there
// keeps the first's settings, EEXIST again).
func (c *conv) mergeVS(first, vs *model.VirtualServer, n *keepalived.Node) {
	port := func(v *model.VirtualServer, rs *model.RealServer) int {
		if rs.Port == 0 {
			return v.Port
		}
		return rs.Port
	}
	added, kept := 0, 0
	for _, rs := range vs.RealServers {
		if slices.ContainsFunc(first.RealServers, func(r *model.RealServer) bool {
			return r.Address.Addr == rs.Address.Addr && port(first, r) == port(vs, rs)
		}) {
			kept++
			continue
		}
		first.RealServers = append(first.RealServers, rs)
		added++
	}
	c.corrected(first, n.Pos, "%s declares again the services of the virtual server at %s: keepalived programs them with the first declaration's settings (adding a service again fails with EEXIST, which keepalived ignores: ipvs_talk) and adds this declaration's real servers to them; so does lbx: %d real server(s) added, %d already there keep the first's settings, this block's own settings are not used — merge the two blocks", n.Source(), c.pos[first], added, kept)
}

// vsSetting handles the service's own IPVS settings (check_parser.c's
// virtual_server keywords).
func (c *conv) vsSetting(d *vsDraft, ch *keepalived.Node) bool {
	vs := d.vs
	switch ch.Name {
	case "lb_algo", "lvs_sched":
		if ch.Name == "lb_algo" {
			c.legacy(vs, ch, "lvs_sched (scheduler:)")
		}
		if c.need(ch, 1, "a scheduler") {
			c.scheduler(d, ch)
		}
	case "lb_kind", "lvs_method":
		if ch.Name == "lb_kind" {
			c.legacy(vs, ch, "lvs_method (forwarding:)")
		}
		if !c.need(ch, 1, "NAT, DR or TUN") {
			return true
		}
		if !knownMethod(ch.Args[0].Text) {
			d.badMethod = append(d.badMethod, ch)
		} else if f, t, ok := c.forwarding(vs, ch, d.tunnel); ok {
			vs.Forwarding, d.tunnel = f, t
		}
	case "protocol":
		if c.need(ch, 1, "TCP, UDP or SCTP") {
			// proto_handler compares without case.
			switch p := strings.ToLower(ch.Args[0].Text); p {
			case "tcp", "udp", "sctp":
				vs.Protocol, d.protoNode = p, ch
			default:
				d.badProto = append(d.badProto, ch)
			}
		}
	case "persistence_timeout":
		d.pto = ch
	case "persistence_granularity":
		d.pgr = ch
	case "ha_suspend":
		vs.HASuspend = true
		if vs.FWMark != 0 || vs.Group != "" && c.groupHasFwmark(vs.Group) {
			vs.HASuspend = false
			c.note(vs, ch.Pos, "ha_suspend cannot be used with fwmarks; keepalived clears it, so does lbx")
		}
	case "alpha":
		vs.Alpha = c.onlyOn(vs, ch, "vs_alpha_handler")
	case "omega":
		vs.Omega = c.onlyOn(vs, ch, "omega_handler")
	case "weight":
		c.vsWeight(d, ch)
	case "ip_family":
		c.ipFamily(d, ch)
	case "hashed":
		c.note(vs, ch.Pos, "hashed is ignored: the kernel hashes every service")
	case "ops":
		d.ops = ch
	case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
		d.flags = append(d.flags, ch)
	case "nat_mask":
		c.note(vs, ch.Pos, "nat_mask is a legacy keyword with no meaning today; ignored")
	default:
		return false
	}
	return true
}

func knownMethod(s string) bool { return s == "NAT" || s == "DR" || s == "TUN" }

func (c *conv) scheduler(d *vsDraft, ch *keepalived.Node) {
	switch s := ch.Args[0].Text; {
	case slices.Contains(model.Schedulers, s):
		d.vs.Scheduler = s
	case s == "twos":
		c.unsupported(d.vs, ch, "the twos scheduler is not in the model's scheduler list")
	default:
		d.badSched = append(d.badSched, ch)
	}
}

// onlyOn reads alpha and omega of a virtual server: keepalived's
// vs_alpha_handler and omega_handler take no argument and turn the flag
// on whatever follows the keyword, `alpha off` included.
func (c *conv) onlyOn(owner any, n *keepalived.Node, handler string) bool {
	if len(n.Args) == 0 {
		return true
	}
	if v, ok := boolWord(n.Args[0].Text); ok && v || n.Args[0].Text == "1" {
		c.note(owner, n.Pos, "%s takes no argument in keepalived (%s); %q is ignored, it is on", n.Name, handler, n.ArgText())
		return true
	}
	c.corrected(owner, n.Pos, "%s %s: %s in a virtual_server takes no argument in keepalived (%s), so keepalived has been running this service with %s on, and so does lbx — remove the line if off was meant", n.Name, n.ArgText(), n.Name, handler, n.Name)
	return true
}

// vsWeight reads the default weight of real servers: vs_weight_handler
// ignores a value outside 1..MaxWeight.
func (c *conv) vsWeight(d *vsDraft, ch *keepalived.Node) {
	if !c.need(ch, 1, "a number") {
		return
	}
	v, err := parseInt(ch.Args[0].Text, 1, model.MaxWeight)
	if err != nil {
		c.corrected(d.vs, ch.Pos, "weight %s: keepalived ignores it (\"Virtual server weight %s is outside range 1-%d\", vs_weight_handler), so real servers without a weight of their own keep %d; so does lbx", ch.Args[0].Text, ch.Args[0].Text, model.MaxWeight, model.DefaultWeight)
		return
	}
	d.weight = v
}

func (c *conv) ipFamily(d *vsDraft, ch *keepalived.Node) {
	vs := d.vs
	d.fwmarkFamily = ch
	if !c.need(ch, 1, "inet or inet6") {
		return
	}
	switch ch.Args[0].Text {
	case "inet":
		if d.af == 0 {
			d.af = state.IPv4
		}
		if vs.FWMark != 0 {
			vs.Family = 4
		}
	case "inet6":
		if d.af == 0 {
			d.af = state.IPv6
		}
		if vs.FWMark != 0 {
			vs.Family = 6
		} else if vs.Group == "" {
			c.unsupported(vs, ch, "ip_family is only expressible for `virtual_server fwmark`")
		}
	default:
		c.oneOf(ch, ch.Args[0].Text, []string{"inet", "inet6"}, model.WantOr)
	}
}

// vsQuorumSetting handles quorum, sorry server and inhibit settings.
func (c *conv) vsQuorumSetting(d *vsDraft, ch *keepalived.Node) bool {
	vs := d.vs
	switch ch.Name {
	case "quorum":
		d.quorumNode = ch
		if !c.need(ch, 1, "a number") {
			return true
		}
		v, err := parseInt(ch.Args[0].Text, 1, 1<<32-1)
		if err != nil {
			v = 1
			c.corrected(vs, ch.Pos, "quorum %s: keepalived runs this service with quorum 1 (\"Quorum %s must be in [1, 4294967295]. Setting to 1.\", quorum_handler), so does lbx; write a quorum of 1 or more", ch.Args[0].Text, ch.Args[0].Text)
		}
		d.q().Min = v
	case "hysteresis":
		d.hystNode = ch
		if !c.need(ch, 1, "a number") {
			return true
		}
		if v, err := parseInt(ch.Args[0].Text, 0, 1<<32-1); err == nil {
			d.q().Hysteresis = v
		} else {
			c.corrected(vs, ch.Pos, "hysteresis %s: keepalived ignores it (\"Hysteresis %s must be in [0, 4294967295] - ignoring\", hysteresis_handler), so does lbx", ch.Args[0].Text, ch.Args[0].Text)
		}
	case "quorum_up", "quorum_down":
		if !c.need(ch, 1, "a script") {
			return true
		}
		if len(ch.Args) > 1 {
			c.scriptUserNote(vs, ch)
		}
		if ch.Name == "quorum_up" {
			d.q().UpScript = ch.Args[0].Text
		} else {
			d.q().DownScript = ch.Args[0].Text
		}
	case "sorry_server":
		c.sorryServer(vs, ch)
	case "sorry_server_inhibit":
		d.ssInhibit = ch
	case "sorry_server_lvs_method":
		d.ssMethod = ch
	case "inhibit_on_failure":
		if v, ok := c.boolArg(ch); ok {
			vs.InhibitOnFailure = v
		}
	default:
		return false
	}
	return true
}

func (c *conv) sorryServer(vs *model.VirtualServer, ch *keepalived.Node) {
	if !c.need(ch, 1, "an address") {
		return
	}
	a, ok := c.addr(ch, ch.Args[0].Text)
	if !ok {
		return
	}
	s := &model.SorryServer{Address: a}
	c.pos[s] = ch.Pos
	if len(ch.Args) > 1 {
		s.Port, _ = c.port(ch, ch.Args[1].Text)
	}
	vs.SorryServer = s
}

// vsDefaults writes keepalived's defaults and end-of-block rules out.
func (c *conv) vsDefaults(d *vsDraft) {
	vs := d.vs
	c.schedFlags(d)
	if vs.Scheduler == "" {
		vs.Scheduler = model.DefaultScheduler
	}
	if vs.Forwarding == "" {
		vs.Forwarding = model.DefaultForwarding
	}
	c.vsIgnored(d)
	if vs.FWMark != 0 || vs.Group != "" && !c.groupHasAddr(vs.Group) {
		if vs.Protocol != "" && d.protoNode != nil {
			c.note(vs, d.protoNode.Pos, "protocol is ignored for fwmark services (keepalived says so too); left out")
		}
		vs.Protocol = ""
	} else if vs.Protocol == "" {
		vs.Protocol = "udp"
		c.note(vs, d.n.Pos, "no protocol: keepalived 2.2 programs this service as UDP (\"no protocol set - defaulting to UDP\"); written as udp — add `protocol TCP` to the keepalived file if TCP was meant")
	}
	if d.fwmarkFamily != nil && vs.FWMark == 0 && vs.Family != 0 {
		vs.Family = 0
	}
	if d.ops != nil {
		if vs.Protocol == "udp" || vs.FWMark != 0 {
			vs.OnePacket = true
		} else {
			c.note(vs, d.ops.Pos, "ops (one-packet scheduling) needs UDP; keepalived resets it, so does lbx")
		}
	}
	c.persistence(vs, d.n, d.pto, d.pgr)
	if d.chk.delayLoop == nil {
		d.chk.delayLoop = dur(model.DefaultDelayLoop)
	}
	vs.DelayLoop = d.chk.delayLoop
	vs.Virtualhost = d.chk.virtualhost
	// Checkers read these from the virtual server itself, not through
	// the real server (MISC_CHECK's timeout, SSL_GET's SNI).
	d.chk.vsDelayLoop, d.chk.vsVirtualhost = d.chk.delayLoop, d.chk.virtualhost
}

// schedFlags: keepalived keeps sh-/mh- flags only with their scheduler.
func (c *conv) schedFlags(d *vsDraft) {
	vs := d.vs
	sched := vs.Scheduler
	if sched == "" {
		sched = model.DefaultScheduler
	}
	for _, f := range d.flags {
		if (strings.HasPrefix(f.Name, "sh-") && sched != "sh") || (strings.HasPrefix(f.Name, "mh-") && sched != "mh") {
			c.note(vs, f.Pos, "%s only applies to the %s scheduler; keepalived ignores it, so does lbx", f.Name, f.Name[:2])
			continue
		}
		if !slices.Contains(vs.SchedulerFlags, f.Name) {
			vs.SchedulerFlags = append(vs.SchedulerFlags, f.Name)
		}
	}
}

// vsIgnored reports the values keepalived ignored, now that the effective
// scheduler and method are known.
func (c *conv) vsIgnored(d *vsDraft) {
	vs := d.vs
	for _, ch := range d.badSched {
		s := ch.Args[0].Text
		intent := "write one of " + strings.Join(model.Schedulers, " ")
		if l := strings.ToLower(s); slices.Contains(model.Schedulers, l) {
			intent = fmt.Sprintf("scheduler names are lower case: write %s if that was meant", l)
		}
		c.corrected(vs, ch.Pos, "%s %s: keepalived ignores an unknown scheduler (\"Invalid lvs_scheduler '%s' - ignoring\", lbalgo_handler) and has been running this service with %s, so does lbx; %s", ch.Name, s, s, vs.Scheduler, intent)
	}
	for _, ch := range d.badMethod {
		c.badMethod(vs, ch, "virtual", "this service", vs.Forwarding)
	}
	for _, ch := range d.badProto {
		eff := vs.Protocol
		if eff == "" {
			eff = "udp"
		}
		c.corrected(vs, ch.Pos, "protocol %s: keepalived ignores it (\"Unknown protocol %s - ignoring\", proto_handler) and has been running this service as %s, so does lbx; write TCP, UDP or SCTP", ch.Args[0].Text, ch.Args[0].Text, strings.ToUpper(eff))
	}
}

// badMethod reports a forwarding method svr_forwarding_handler does not
// know: it is ignored and the server keeps the method it had.
func (c *conv) badMethod(owner any, ch *keepalived.Node, kind, what, effective string) {
	s := ch.Args[0].Text
	eff := strings.ToUpper(effective)
	intent := "write NAT, DR or TUN"
	if u := strings.ToUpper(s); knownMethod(u) && u != eff {
		intent = fmt.Sprintf("keepalived has been running %s as %s, not %s — write %s (upper case) to have %s", what, eff, u, u, u)
	} else if knownMethod(u) {
		intent = fmt.Sprintf("write %s in upper case", u)
	}
	c.corrected(owner, ch.Pos, "%s %s: keepalived ignores an unknown method (\"PARSER : unknown [%s] routing method for %s server.\", svr_forwarding_handler) and forwards %s with %s, so does lbx; %s", ch.Name, s, s, kind, what, eff, intent)
}

// vsSorry applies the sorry server's settings and port rules.
func (c *conv) vsSorry(d *vsDraft) {
	vs := d.vs
	if vs.SorryServer == nil {
		if d.ssInhibit != nil || d.ssMethod != nil {
			c.note(vs, d.n.Pos, "sorry_server_inhibit/sorry_server_lvs_method without sorry_server; ignored, as keepalived")
		}
		return
	}
	if d.ssInhibit != nil {
		vs.SorryServer.Inhibit = true
	}
	if m := d.ssMethod; m != nil && c.need(m, 1, "NAT, DR or TUN") {
		if !knownMethod(m.Args[0].Text) {
			c.badMethod(vs, m, "sorry", "the sorry server", vs.Forwarding)
		} else if f, t, ok := c.forwarding(vs, m, nil); ok {
			vs.SorryServer.Forwarding = f
			if t != nil {
				c.note(vs, m.Pos, "tunnel settings of a sorry server are not in the model; plain ipip is used")
			}
		}
	}
	if vs.SorryServer.Forwarding == "" {
		vs.SorryServer.Forwarding = vs.Forwarding
	}
	c.fixPort(vs, d.n, &vs.SorryServer.Port, vs.SorryServer.Forwarding, "sorry server", false)
}

// vsReals converts the real servers; ok is false when none is left.
func (c *conv) vsReals(d *vsDraft) (weightSum int, ok bool) {
	vs := d.vs
	c.fwmarkFamily(d)
	c.groupFamily(d)
	seen := map[string]bool{}
	for _, ch := range d.n.Children {
		if ch.Name != "real_server" {
			continue
		}
		rs := c.realServer(d, ch)
		if rs == nil {
			continue
		}
		key := fmt.Sprintf("%s:%d", rs.Address.Addr, rs.Port)
		if seen[key] {
			c.note(vs, ch.Pos, "real server %s is listed twice; keepalived removes the second, so does lbx", key)
			continue
		}
		seen[key] = true
		if s := vs.SorryServer; s != nil && s.Address == rs.Address && s.Port == rs.Port {
			c.note(vs, ch.Pos, "real server %s is also the sorry server; the model does not allow that, so the sorry server is left out", key)
			vs.SorryServer = nil
		}
		if rs.Weight != nil {
			weightSum += *rs.Weight
		}
		vs.RealServers = append(vs.RealServers, rs)
	}
	return weightSum, len(vs.RealServers) > 0
}

// vsQuorum applies keepalived's bounds on quorum and hysteresis.
func (c *conv) vsQuorum(d *vsDraft, weightSum int) {
	quorum := d.quorum
	if quorum == nil {
		return
	}
	vs := d.vs
	if quorum.Min > weightSum {
		p := d.n.Pos
		if d.quorumNode != nil {
			p = d.quorumNode.Pos
		}
		c.note(vs, p, "quorum %d exceeds the total weight of the real servers (%d); keepalived lowers it to %d, so does lbx", quorum.Min, weightSum, weightSum)
		quorum.Min = weightSum
	}
	if quorum.Min > 0 && quorum.Hysteresis >= quorum.Min {
		p := d.n.Pos
		if d.hystNode != nil {
			p = d.hystNode.Pos
		}
		c.note(vs, p, "hysteresis %d is not below quorum %d; keepalived sets it to %d, so does lbx", quorum.Hysteresis, quorum.Min, quorum.Min-1)
		quorum.Hysteresis = quorum.Min - 1
	}
	vs.Quorum = quorum
}

// fwmarkFamily: a fwmark service without ip_family takes the family of its
// first real server that is not tunnelled (rs_end_handler sets vs->af).
func (c *conv) fwmarkFamily(d *vsDraft) {
	vs := d.vs
	if vs.FWMark == 0 || d.fwmarkFamily != nil {
		return
	}
	if f, ch := c.firstRealFamily(d); f == state.IPv6 {
		vs.Family = 6
		c.note(vs, ch.Pos, "fwmark service without ip_family: keepalived takes the family of its first real server, IPv6 (rs_end_handler), so does lbx")
	}
}

// firstRealFamily is the family of the virtual server's first real server
// that is not tunnelled, from which rs_end_handler sets vs->af, and its
// block; 0 when there is none.
func (c *conv) firstRealFamily(d *vsDraft) (state.Family, *keepalived.Node) {
	for _, ch := range d.n.Children {
		if ch.Name != "real_server" || len(ch.Args) == 0 || c.tunnelled(d.vs, ch) {
			continue
		}
		if a, err := netip.ParseAddr(ch.Args[0].Text); err == nil {
			return state.FamilyOf(a.Unmap()), ch
		}
		return 0, nil
	}
	return 0, nil
}

// groupFamily gives the fwmark entries of a group the family keepalived
// programs them with (ipvs_group_cmd: the entry's own, else vs->af, else
// IPv4). vs->af is ip_family's, else that of the first real server that
// is not tunnelled (rs_end_handler), else the sorry server's unless
// tunnelled (vs_end_handler), else the group's when its address entries
// (and fwmark entries with a family) are of one family (ipwrapper.c). The
// model says IPv6 with family 6.
func (c *conv) groupFamily(d *vsDraft) {
	vs := d.vs
	g := c.group(vs.Group)
	if g == nil {
		return
	}
	af, why := d.af, "ip_family"
	if af == 0 {
		af, _ = c.firstRealFamily(d)
		why = "its first real server that is not tunnelled (rs_end_handler)"
	}
	if s := vs.SorryServer; af == 0 && s != nil && s.Forwarding != "tun" {
		af, why = state.FamilyOf(s.Address.Addr), "its sorry server (vs_end_handler)"
	}
	fwmarks, fams := false, map[state.Family]bool{}
	for _, m := range g.Members {
		switch {
		case m.FWMark != 0:
			fwmarks = true
			if m.Family != 0 {
				fams[state.Family(m.Family)] = true
			}
		case m.Address != nil:
			fams[state.FamilyOf(m.Address.First)] = true
		}
	}
	if af == 0 && len(fams) == 1 {
		for f := range fams {
			af, why = f, "the address entries of group "+g.Name
		}
	}
	if fwmarks && af == state.IPv6 {
		vs.Family = 6
		if d.fwmarkFamily != nil {
			return // ip_family inet6 says so
		}
		c.note(vs, d.n.Pos, "the fwmark entries of group %s are IPv6 services: keepalived takes the virtual server's family from %s, so does lbx (family: 6)", g.Name, why)
	}
}

// tunnelled reports whether a real_server block forwards with TUN.
func (c *conv) tunnelled(vs *model.VirtualServer, n *keepalived.Node) bool {
	fwd := strings.ToUpper(vs.Forwarding)
	for _, ch := range n.Children {
		if ch.Name == "lvs_method" && knownMethod(argText(ch, 0)) {
			fwd = argText(ch, 0)
		}
	}
	return fwd == "TUN"
}

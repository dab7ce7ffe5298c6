package convert

import (
	"fmt"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// chk holds checker settings that inherit virtual server -> real server ->
// checker.
type chk struct {
	connectTimeout, delayBeforeRetry, delayLoop, warmup *model.Duration
	retry                                               *int
	virtualhost                                         string
	// The virtual server's own delay_loop and virtualhost: MISC_CHECK's
	// default timeout (check_misc.c) and SSL_GET's SNI (check_ssl.c) take
	// them from the virtual server, never from the real server.
	vsDelayLoop   *model.Duration
	vsVirtualhost string
}

// chkScope says which inheritable checker settings a block reads:
// check_parser.c installs them all on virtual_server and real_server;
// check_api.c's install_checker_common_keywords installs them on each
// checker, connect_timeout only on those that connect; check_http.c adds
// nb_get_retry and virtualhost to HTTP_GET and SSL_GET only. Elsewhere
// keepalived does not know the keyword.
type chkScope struct{ connect, vhost, nbGetRetry bool }

var serverScope = chkScope{connect: true, vhost: true}

func (c *conv) chkSetting(owner any, s *chk, n *keepalived.Node, scope chkScope) bool {
	switch n.Name {
	case "connect_timeout":
		if !scope.connect {
			return false
		}
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
			if !scope.nbGetRetry {
				return false
			}
			c.legacy(owner, n, "retry")
		}
		s.retry = c.intPtr(n, 0, 1<<31-1)
	case "virtualhost":
		if !scope.vhost {
			return false
		}
		if c.need(n, 1, "a host name") {
			s.virtualhost = n.Args[0].Text
		}
	default:
		return false
	}
	return true
}

var rsUnsupported = map[string]string{
	"smtp_alert": "checker e-mail alerts are not in the model",
	"snmp_name":  "SNMP is not in the model",
	"track_file": "file tracking on real servers is not in the model (FILE_CHECK is)",
	"BFD_CHECK":  "BFD is not in the model",
}

// rsDraft is a real server being read, with what its checks inherit.
type rsDraft struct {
	rs     *model.RealServer
	chk    chk
	tunnel *model.Tunnel
	checks []*keepalived.Node
}

func (c *conv) realServer(vd *vsDraft, n *keepalived.Node) *model.RealServer {
	vs := vd.vs
	rs := c.rsHead(n)
	if rs == nil {
		return nil
	}
	d := &rsDraft{rs: rs, chk: vd.chk, tunnel: vd.tunnel}
	for _, ch := range n.Children {
		if c.chkSetting(rs, &d.chk, ch, serverScope) {
			continue
		}
		if !c.rsSetting(vs, d, ch) {
			c.unknown(rs, ch, rsUnsupported)
		}
	}
	if rs.Weight == nil {
		rs.Weight = intp(vd.weight)
	}
	fwd := rs.Forwarding
	if fwd == "" {
		fwd = vs.Forwarding
	}
	if fwd == vs.Forwarding {
		rs.Forwarding = "" // inherits; written once on the service
	}
	if fwd != "tun" && !c.rsFamilyOK(vd, n, rs) {
		return nil
	}
	if fwd == "tun" && d.tunnel != nil {
		rs.Tunnel = d.tunnel
	}
	// keepalived's checkers start from the real server's address as read
	// (queue_checker copies rs->addr): validate_check_config's clearing of
	// a fwmark service's DR/TUN port comes later and leaves their copy.
	dst := rs.Port
	c.fixPort(vs, n, &rs.Port, fwd, "real server "+rs.Address.String(), len(d.checks) > 0)
	if vs.FWMark == 0 {
		dst = rs.Port
	}
	for _, ch := range d.checks {
		rs.Checks = append(rs.Checks, c.checks(dst, ch, d.chk)...)
	}
	return rs
}

// rsHead reads `real_server IP [PORT]`; alloc_rs reads no more words.
func (c *conv) rsHead(n *keepalived.Node) *model.RealServer {
	if !c.need(n, 1, "an address") {
		return nil
	}
	rs := &model.RealServer{}
	a, p, ok := c.serverAddr(rs, n, "real server", "alloc_rs")
	if !ok {
		return nil
	}
	rs.Address, rs.Port = a, p
	c.pos[rs] = n.Pos
	c.extraWords(rs, n, 2, "alloc_rs reads the address and port")
	return rs
}

// rsSetting handles a real server's own keywords (check_parser.c).
func (c *conv) rsSetting(vs *model.VirtualServer, d *rsDraft, ch *keepalived.Node) bool {
	rs := d.rs
	switch ch.Name {
	case "weight":
		if v, ok := c.intArg(ch, 0, 0, model.MaxWeight); ok {
			rs.Weight = &v
		}
	case "lvs_method":
		if !c.need(ch, 1, "NAT, DR or TUN") {
			return true
		}
		if !knownMethod(ch.Args[0].Text) {
			c.badMethod(rs, ch, "real", "this real server", vs.Forwarding)
		} else if f, t, ok := c.forwarding(rs, ch, d.tunnel); ok {
			rs.Forwarding, d.tunnel = f, t
		}
	case "notify_up", "notify_down":
		if !c.need(ch, 1, "a script") {
			return true
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
		// rs_alpha_handler reads a <BOOL>, unlike the virtual server's.
		if v, ok := c.boolArg(ch); ok && v != vs.Alpha {
			c.unsupported(rs, ch, "alpha per real server is not in the model (only per virtual server)")
		}
	case "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK":
		d.checks = append(d.checks, ch)
	default:
		return false
	}
	return true
}

// rsFamilyOK: a real server that is not tunnelled must be of its
// services' family. keepalived's rs_end_handler skips one of another
// family than the virtual server's (its address's, its ip_family, else
// the first such real server's); the kernel then refuses a destination of
// another family than a service's unless it is tunnelled (EINVAL,
// ip_vs_genl_set_cmd): a group's services of the other family run without
// it. false: the real server is left out.
func (c *conv) rsFamilyOK(vd *vsDraft, n *keepalived.Node, rs *model.RealServer) bool {
	vs := vd.vs
	fam := state.FamilyOf(rs.Address.Addr)
	if vd.af == 0 {
		vd.af = fam
	} else if fam != vd.af {
		c.corrected(vs, n.Pos, "real_server %s: keepalived skips it (\"Address family of virtual server and real server %s don't match - skipping real server.\", rs_end_handler: the service is IPv%d), so does lbx; only tunnelled (TUN) real servers may be of another family", rs.Address, rs.Address, vd.af)
		return false
	}
	match, other := false, false
	for _, k := range c.m.ServiceKeys(vs) {
		if k.Family == fam {
			match = true
		} else {
			other = true
		}
	}
	switch {
	case !other:
		return true
	case !match:
		c.corrected(vs, n.Pos, "real_server %s is not of group %s's family: keepalived accepts it, but the kernel refuses a real server of another family unless it is tunnelled (EINVAL, ip_vs_genl_set_cmd), so keepalived runs the services without it; so does lbx", rs.Address, vs.Group)
	default:
		// Kept: the services of its own family need it.
		c.unsupported(vs, n, fmt.Sprintf("keepalived programs it in group %s's IPv%d services only (the kernel refuses a real server of another family unless it is tunnelled); the model puts a real server in every service of its group, where the kernel refuses it too — split the group by family", vs.Group, fam))
		return true
	}
	return false
}

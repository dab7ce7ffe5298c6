package convert

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

var instanceUnsupported = map[string]string{
	"use_vmac":                   "VRRP over a macvlan (VMAC) interface is not in the model",
	"vmac_xmit_base":             "VMAC is not in the model",
	"use_ipvlan":                 "ipvlan interfaces are not in the model",
	"virtual_rules":              "policy rules are not in the model",
	"track_file":                 "file tracking for VRRP is not in the model",
	"track_process":              "process tracking is not in the model",
	"track_bfd":                  "BFD is not in the model",
	"track_group":                "track groups are not in the model",
	"native_ipv6":                "not in the model (IPv6 instances use VRRPv3 already)",
	"dont_track_primary":         "not in the model",
	"accept":                     "accept mode is not in the model",
	"no_accept":                  "accept mode is not in the model",
	"strict_mode":                "per-instance strict mode is not in the model (see global vrrp_strict)",
	"skip_check_adv_addr":        "lbx always checks advert addresses",
	"debug":                      "not in the model",
	"notify_master_rx_lower_pri": "this notify hook is not in the model",
	"notify_priority_changes":    "not in the model",
	"kernel_rx_buf_size":         "not in the model",
	"linkbeat_use_polling":       "link-beat polling is not in the model",
	"garp_lower_prio_delay":      "not in the model",
	"garp_lower_prio_repeat":     "not in the model",
	"lower_prio_no_advert":       "not in the model",
	"higher_prio_send_advert":    "not in the model",
	"no_virtual_ipaddress":       "not in the model (an instance without addresses is allowed as is)",
	"check_unicast_src":          "not in the model",
	"unicast_ttl":                "not in the model",
	"unicast_fault_no_peer":      "not in the model",
	"mcast_dst_ip":               "lbx uses the RFC multicast group",
	"auth_hmac":                  "HMAC authentication is not in the model",
	"vrrp_smtp_alert":            "not in the model",
	"garp_extra_if":              "not in the model",
	"garp_extra_if_vmac":         "not in the model",
}

// instNodes remembers the statements finishInstance reports about.
type instNodes struct {
	state, priority, nopreempt, preemptDelay, auth *keepalived.Node
	badVRID                                        *keepalived.Node
	strictMode                                     bool
	// family is the instance's address family as keepalived fixes it: by
	// the first source address, unicast peer or virtual address.
	family *keepalived.Node
	is4    bool
}

// sameFamily applies keepalived's rule that an instance's source address,
// unicast peers and virtual addresses are of one family: the first one
// read fixes it, a later one of the other family is skipped with the
// message keepalived reports (said).
func (c *conv) sameFamily(in *model.VRRPInstance, st *instNodes, n *keepalived.Node, is4 bool, what, said string) bool {
	if st.family == nil {
		st.family, st.is4 = n, is4
		return true
	}
	if is4 == st.is4 {
		return true
	}
	c.corrected(in, n.Pos, "%s %s is not of the instance's family (fixed by %s at %s): keepalived skips it (\"%s\"), so does lbx", what, n.Source(), st.family.Source(), st.family.Pos, said)
	return false
}

func (c *conv) instance(n *keepalived.Node) {
	if !c.need(n, 1, "a name") {
		return
	}
	in := &model.VRRPInstance{Name: n.Args[0].Text}
	for _, prev := range c.m.VRRPInstances {
		if prev.Name == in.Name {
			// vrrp_handler: skip_block, the first instance runs.
			c.corrected(prev, n.Pos, "vrrp_instance %s is defined again (first at %s): keepalived skips this block (\"vrrp instance %s already defined\") and runs the first, so does lbx; rename one if both were meant", in.Name, c.pos[prev], in.Name)
			return
		}
	}
	var st instNodes
	for _, ch := range n.Children {
		if !c.instanceValue(in, ch, &st) && !c.instanceList(in, ch, &st) {
			if ch.Name == "strict_mode" {
				st.strictMode, _ = boolWord(argText(ch, 0))
				st.strictMode = st.strictMode || len(ch.Args) == 0
			}
			c.unknown(in, ch, instanceUnsupported)
		}
	}
	c.finishInstance(in, n, st)
}

// instanceValue handles an instance's single-valued settings.
func (c *conv) instanceValue(in *model.VRRPInstance, ch *keepalived.Node, st *instNodes) bool {
	switch ch.Name {
	case "state":
		c.vrrpState(in, ch, st)
	case "interface":
		if c.need(ch, 1, "an interface name") {
			in.Interface = ch.Args[0].Text
		}
	case "virtual_router_id":
		if !c.need(ch, 1, "a number from 1 to 255") {
			return true
		}
		if v, err := parseInt(ch.Args[0].Text, 1, 255); err == nil {
			in.VirtualRouterID = v
		} else {
			st.badVRID = ch
		}
	case "priority":
		c.vrrpPriority(in, ch, st)
	case "advert_int":
		in.AdvertInt = c.timer(ch)
	case "version":
		in.Version = c.intPtr(ch, 2, 3)
	case "unicast_src_ip", "mcast_src_ip":
		if !c.need(ch, 1, "an address") {
			return true
		}
		a, ok := c.sockAddr(in, ch, ch.Name, ch.Args[0].Text)
		said := fmt.Sprintf("Configuration error: VRRP instance[%s] and src address[%s] MUST be of the same family !!! Skipping...", in.Name, ch.Args[0].Text)
		if !ok || !c.sameFamily(in, st, ch, a.Is4(), ch.Name, said) {
			return true
		}
		if ch.Name == "unicast_src_ip" {
			in.UnicastSrcIP = &a
		} else {
			in.McastSrcIP = &a
		}
	case "authentication":
		st.auth = ch
		in.Authentication = c.auth(in, ch)
	case "nopreempt":
		in.NoPreempt, st.nopreempt = true, ch
	case "preempt":
		// vrrp_preempt_handler clears nopreempt (backwards compatibility).
		if st.nopreempt != nil {
			c.note(in, ch.Pos, "preempt clears the nopreempt at %s, as keepalived's vrrp_preempt_handler does; so does lbx", st.nopreempt.Pos)
		}
		in.NoPreempt, st.nopreempt = false, nil
	case "preempt_delay":
		in.PreemptDelay, st.preemptDelay = c.timer(ch), ch
	case "garp_master_delay":
		in.GarpMasterDelay = c.timer(ch)
	case "garp_master_repeat":
		in.GarpMasterRepeat = c.intPtr(ch, 0, 255)
	case "garp_master_refresh":
		in.GarpMasterRefresh = c.timer(ch)
	case "garp_master_refresh_repeat":
		in.GarpMasterRefreshRepeat = c.intPtr(ch, 0, 255)
	case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
		c.notify(in, &in.Notify, ch)
	case "smtp_alert":
		if v, ok := c.boolArg(ch); ok {
			in.SMTPAlert = v
		}
	case "promote_secondaries":
		// A flag: vrrp_promote_secondaries_handler reads no argument.
		in.PromoteSecondaries = true
	case "lvs_sync_daemon_interface":
		c.legacy(in, ch, "global_defs { lvs_sync_daemon INTERFACE "+in.Name+" }")
		if c.need(ch, 1, "an interface") {
			c.setSyncDaemon(ch, &model.LVSSyncDaemon{Interface: ch.Args[0].Text, VRRPInstance: in.Name})
		}
	default:
		return false
	}
	return true
}

// vrrpState reads state as keepalived's vrrp_state_handler: MASTER, or
// BACKUP unless MASTER was given before; any other word is BACKUP.
func (c *conv) vrrpState(in *model.VRRPInstance, ch *keepalived.Node, st *instNodes) {
	if !c.need(ch, 1, "MASTER or BACKUP") {
		return
	}
	switch s := ch.Args[0].Text; {
	case s == "MASTER":
		in.State, st.state = s, ch
	case s == "BACKUP" && in.State == "MASTER":
		c.note(in, ch.Pos, "state BACKUP after state MASTER (at %s): keepalived keeps MASTER (\"state previously set as MASTER - ignoring BACKUP\"), so does lbx", st.state.Pos)
	case s == "BACKUP":
		in.State, st.state = s, ch
	default:
		intent := "write BACKUP, or MASTER if this node should start as master"
		if strings.ToUpper(s) == "MASTER" || strings.ToUpper(s) == "BACKUP" {
			intent = "keepalived reads the state in upper case only: write " + strings.ToUpper(s) + " if that was meant"
		}
		c.corrected(in, ch.Pos, "state %s: keepalived runs this instance as BACKUP (\"unknown state '%s', defaulting to BACKUP\", vrrp_state_handler), so does lbx; %s", s, s, intent)
		in.State, st.state = "BACKUP", ch
	}
}

// vrrpPriority reads priority as keepalived's vrrp_prio_handler: a value
// outside 1..255 is reported and replaced by the default 100.
func (c *conv) vrrpPriority(in *model.VRRPInstance, ch *keepalived.Node, st *instNodes) {
	if !c.need(ch, 1, "a number") {
		return
	}
	st.priority = ch
	v, err := parseInt(ch.Args[0].Text, 1, 255)
	if err != nil {
		v = model.DefaultPriority
		c.corrected(in, ch.Pos, "priority %s: keepalived runs this instance with priority %d (\"Priority not valid! must be between 1 & 255. Using default %d\", vrrp_prio_handler), so does lbx; write a priority from 1 to 255", ch.Args[0].Text, v, v)
	}
	in.Priority = &v
}

// instanceList handles an instance's blocks of addresses, routes, peers
// and tracked objects.
func (c *conv) instanceList(in *model.VRRPInstance, ch *keepalived.Node, st *instNodes) bool {
	switch ch.Name {
	case "unicast_peer":
		for _, p := range ch.Children {
			said := fmt.Sprintf("Configuration error: VRRP instance[%s] and unicast peer address[%s] MUST be of the same family !!! Skipping...", in.Name, p.Name)
			if a, ok := c.sockAddr(in, p, "unicast_peer", p.Name); ok && c.sameFamily(in, st, p, a.Is4(), "unicast_peer", said) {
				in.UnicastPeers = append(in.UnicastPeers, a)
			}
			if len(p.Args) > 0 {
				c.note(in, p.Pos, "unicast_peer options %q are not in the model; left out", p.ArgText())
			}
		}
	case "virtual_ipaddress", "virtual_ipaddress_excluded":
		for _, a := range ch.Children {
			va := c.vipLine(in, a)
			if va == nil {
				continue
			}
			said := fmt.Sprintf("(%s): address family must match VRRP instance [%s] - ignoring", in.Name, a.Name)
			if ch.Name == "virtual_ipaddress" && !c.sameFamily(in, st, a, va.Address.Addr().Is4(), "virtual_ipaddress", said) {
				continue
			}
			if !c.uniqueVIP(in, va, a) {
				continue
			}
			if ch.Name == "virtual_ipaddress" {
				in.VirtualAddresses = append(in.VirtualAddresses, va)
			} else {
				in.VirtualAddressesExcluded = append(in.VirtualAddressesExcluded, va)
			}
		}
	case "virtual_routes":
		for _, r := range c.routes(ch) {
			if c.uniqueRoute(in, r) {
				in.VirtualRoutes = append(in.VirtualRoutes, r)
			}
		}
	case "track_interface":
		c.trackInterfaces(in, ch)
	case "track_script":
		c.trackScripts(in, ch)
	default:
		return false
	}
	return true
}

func (c *conv) trackInterfaces(in *model.VRRPInstance, ch *keepalived.Node) {
	for _, t := range ch.Children {
		ti := &model.TrackInterface{Name: t.Name}
		c.pos[ti] = t.Pos
		if len(t.Args) >= 2 && t.Args[0].Text == "weight" {
			if v, err := parseInt(t.Args[1].Text, -254, 254); err == nil {
				ti.Weight = v
			} else {
				c.errorf(t.Pos, "track_interface %s weight: want -254..254, got %q", t.Name, t.Args[1].Text)
			}
		} else if len(t.Args) > 0 {
			c.errorf(t.Pos, "track_interface %s: unexpected %q (want `weight N`)", t.Name, t.ArgText())
		}
		in.TrackInterfaces = append(in.TrackInterfaces, ti)
	}
}

func (c *conv) trackScripts(in *model.VRRPInstance, ch *keepalived.Node) {
	for _, t := range ch.Children {
		ts := &model.TrackScript{Name: t.Name}
		if len(t.Args) >= 2 && t.Args[0].Text == "weight" {
			if v, err := parseInt(t.Args[1].Text, -253, 253); err == nil {
				ts.Weight = &v
			} else {
				c.errorf(t.Pos, "track_script %s weight: want -253..253, got %q", t.Name, t.Args[1].Text)
			}
		} else if len(t.Args) > 0 {
			c.errorf(t.Pos, "track_script %s: unexpected %q (want `weight N`)", t.Name, t.ArgText())
		}
		if _, ok := c.m.Scripts[t.Name]; !ok {
			// keepalived drops a track_script naming no vrrp_script
			// (defined earlier or later).
			c.note(in, t.Pos, "track_script %s: no vrrp_script of that name; keepalived ignores it, so does lbx", t.Name)
			continue
		}
		in.TrackScripts = append(in.TrackScripts, ts)
	}
}

// finishInstance checks what every instance needs and applies what
// keepalived's vrrp_complete_instance (vrrp/vrrp.c) derives and clears.
func (c *conv) finishInstance(in *model.VRRPInstance, n *keepalived.Node, st instNodes) {
	if in.Interface == "" {
		c.errorf(n.Pos, "vrrp_instance %s has no interface", in.Name)
	}
	if in.VirtualRouterID == 0 {
		// chk_min_cfg fails, and vrrp_complete_init with it: the VRRP
		// process stops (stop_vrrp) and keepalived terminates.
		p, why := n.Pos, "has no virtual_router_id"
		if st.badVRID != nil {
			p, why = st.badVRID.Pos, fmt.Sprintf("virtual_router_id %s is not a number from 1 to 255 (keepalived: \"VRID '%s' not valid - must be between 1 & 255\")", st.badVRID.Args[0].Text, st.badVRID.Args[0].Text)
		}
		c.errorf(p, "vrrp_instance %s %s: keepalived does not start without one (\"the virtual router id must be set\", chk_min_cfg: its VRRP process exits with a permanent configuration error and keepalived terminates); write virtual_router_id 1..255", in.Name, why)
	}
	switch {
	case in.Priority != nil:
	case in.State == "MASTER":
		// "If no priority has been set, derive it from the initial state"
		in.Priority = intp(255)
		c.note(in, st.state.Pos, "state MASTER without priority: keepalived runs the instance with priority 255, as the address owner (vrrp_complete_instance), so does lbx; write a priority if another was meant")
	default:
		in.Priority = intp(model.DefaultPriority)
	}
	if in.State == "" && *in.Priority == 255 {
		in.State = "MASTER"
		c.note(in, st.priority.Pos, "priority 255 without state: keepalived starts the instance as MASTER (vrrp_complete_instance), so does lbx")
	}
	c.clearPreempt(in, st)
	if in.AdvertInt == nil {
		in.AdvertInt = dur(model.DefaultAdvertInt)
	}
	if in.Version == nil {
		v := in.EffectiveVersion(c.m.Global)
		in.Version = &v
	}
	if len(in.VirtualAddresses) == 0 {
		c.addressless(in, n, st)
	}
	switch a := in.Authentication; {
	case a == nil:
	case *in.Version == 3:
		c.note(in, st.auth.Pos, "VRRPv3 has no authentication; keepalived ignores it, so does lbx")
		in.Authentication = nil
	case a.Type == "AH":
		// lbx watch refuses an AH instance (vrrpmodel.instanceOf): a model
		// that keeps it would not run at all.
		c.unsupported(in, st.auth, "keepalived runs this VRRPv2 instance with IPsec AH authentication; lbx has no AH (RFC 3768 removed it) and lbx watch refuses an AH instance, so the instance is converted without authentication: keepalived peers still on AH drop its adverts (\"No AH header but auth type is AH\"), so move every router of the instance to PASS or VRRPv3 together")
		in.Authentication = nil
	}
	c.pos[in] = n.Pos
	c.m.VRRPInstances = append(c.m.VRRPInstances, in)
}

// addressless handles an instance left without virtual addresses, as
// keepalived's vrrp_complete_instance does one: a VRRPv2 IPv4 instance
// runs without ("at least one is sensible"; lbx watch runs it too, its
// adverts carrying none); a VRRPv3, IPv6 or strict one fails the
// instance, and with it keepalived's VRRP process ("at least one is
// required": vrrp_complete_init fails, keepalived terminates), and lbx
// watch refuses it. An instance whose addresses all went to another
// instance (uniqueVIP) has some in keepalived: the model cannot say so.
func (c *conv) addressless(in *model.VRRPInstance, n *keepalived.Node, st instNodes) {
	refused := *in.Version == 3 || st.family != nil && !st.is4 || st.strictMode || c.m.Global.VRRPStrict
	owner, taken := c.vipsTaken[in]
	switch {
	case !taken && refused:
		c.errorf(n.Pos, "vrrp_instance %s has no virtual_ipaddress: keepalived does not start with it (\"(%s) No VIP specified; at least one is required\" for VRRPv3, IPv6 and strict mode: vrrp_complete_instance fails, its VRRP process exits with a permanent configuration error and keepalived terminates); add a virtual_ipaddress", in.Name, in.Name)
	case !taken:
		c.note(in, n.Pos, "vrrp_instance %s has no virtual_ipaddress: keepalived runs it without (\"No VIP specified; at least one is sensible\"), its adverts carrying none, so does lbx", in.Name)
	case refused:
		c.errorf(n.Pos, "vrrp_instance %s: every virtual address it lists is also %s's, which owns it in the lbx model, so it is left with none; a VRRPv3, IPv6 or strict instance cannot run without one (keepalived and lbx watch refuse it): give it an address of its own, or make one instance of the two", in.Name, owner)
	default:
		c.corrected(in, n.Pos, "vrrp_instance %s: every virtual address it lists is also %s's, which owns it in the lbx model, so lbx runs it without virtual addresses (a VRRPv2 IPv4 instance runs so, as in keepalived): its states, sync group and notify scripts are keepalived's, but its adverts carry no address where keepalived's carry its list, and a keepalived peer still running this file drops them (\"received an unexpected ip number count 0\") and becomes MASTER too: move both routers to lbx together, or give it an address of its own", in.Name, owner)
	}
}

// clearPreempt drops the preemption settings keepalived's
// vrrp_complete_instance clears, in its order, each with its message.
func (c *conv) clearPreempt(in *model.VRRPInstance, st instNodes) {
	if in.NoPreempt && *in.Priority == 255 {
		in.NoPreempt = false
		c.note(in, st.nopreempt.Pos, "nopreempt with priority 255: keepalived clears it (\"nopreempt is incompatible with priority 255. resetting nopreempt\"), so does lbx")
	}
	if in.State == "MASTER" {
		if in.NoPreempt {
			in.NoPreempt = false
			c.note(in, st.nopreempt.Pos, "nopreempt does not work with state MASTER: keepalived clears it (\"nopreempt will not work with initial state MASTER - clearing\"), so does lbx — use state BACKUP to keep it")
		}
		if in.PreemptDelay != nil {
			in.PreemptDelay = nil
			c.note(in, st.preemptDelay.Pos, "preempt_delay does not work with state MASTER: keepalived clears it (\"preempt delay will not work with initial state MASTER - clearing\"), so does lbx — use state BACKUP to keep it")
		}
	}
	if in.PreemptDelay == nil {
		return
	}
	if st.strictMode || c.m.Global.VRRPStrict {
		in.PreemptDelay = nil
		c.note(in, st.preemptDelay.Pos, "preempt_delay with strict mode: keepalived clears it (\"preempt_delay is incompatible with strict mode - resetting\"), so does lbx")
	} else if in.NoPreempt {
		in.PreemptDelay = nil
		c.note(in, st.preemptDelay.Pos, "preempt_delay with nopreempt: keepalived clears it (\"preempt_delay is incompatible with nopreempt mode - resetting\"), so does lbx")
	}
}

func (c *conv) auth(owner any, n *keepalived.Node) *model.Auth {
	a := &model.Auth{}
	c.pos[a] = n.Pos
	for _, ch := range n.Children {
		switch ch.Name {
		case "auth_type":
			if c.need(ch, 1, "PASS or AH") {
				if t := ch.Args[0].Text; c.oneOf(ch, t, model.AuthTypes, model.WantOr) {
					a.Type = t
				}
			}
		case "auth_pass":
			if c.need(ch, 1, "a password") {
				a.Pass = ch.Args[0].Text
				if len(a.Pass) > 8 {
					a.Pass = a.Pass[:8]
					c.note(owner, ch.Pos, "auth_pass is longer than 8 characters; keepalived uses the first 8, so does lbx")
				}
			}
		default:
			c.unknown(owner, ch, nil)
		}
	}
	if a.Type == "" {
		c.errorf(n.Pos, "authentication without auth_type")
		return nil
	}
	return a
}

func (c *conv) notify(owner any, nt *model.Notify, n *keepalived.Node) {
	if !c.need(n, 1, "a script") {
		return
	}
	cmd := n.Args[0].Text
	if len(n.Args) > 1 {
		c.scriptUserNote(owner, n)
	}
	switch n.Name {
	case "notify_master":
		nt.Master = cmd
	case "notify_backup":
		nt.Backup = cmd
	case "notify_fault":
		nt.Fault = cmd
	case "notify_stop":
		nt.Stop = cmd
	case "notify":
		nt.Any = cmd
	}
}

// vipLine parses `ADDR[/LEN] [dev IF] [label L] [scope S] ...`.
func (c *conv) vipLine(owner any, n *keepalived.Node) *model.VirtualAddress {
	p, ok := c.ipAddress(owner, n)
	if !ok {
		return nil
	}
	va := &model.VirtualAddress{Address: p}
	c.pos[va] = n.Pos
	args := argTexts(n)
	for i := 0; i < len(args); i++ {
		key := args[i]
		val := ""
		if i+1 < len(args) {
			val = args[i+1]
		}
		switch key {
		case "dev", "label", "scope", "brd", "broadcast", "peer", "preferred_lft", "track_group":
			if val == "" {
				c.errorf(n.Pos, "%s %s: missing value", n.Name, key)
				return nil
			}
			i++
		}
		switch key {
		case "dev":
			va.Interface = val
		case "label", "scope":
			if p.Addr().Is6() {
				c.corrected(owner, n.Pos, "address %s: keepalived ignores %s for an IPv6 address (\"Cannot specify %s for IPv6 addresses (%s) - ignoring %s\", alloc_ipaddress), so does lbx", n.Name, key, key, n.Name, key)
			} else if key == "label" {
				va.Label = val
			} else {
				va.Scope = val
			}
		case "brd", "broadcast", "peer", "preferred_lft", "track_group":
			c.note(owner, n.Pos, "address %s: `%s %s` is not in the model; left out", n.Name, key, val)
		case "home", "-nodad", "nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track", "use_vmac":
			c.note(owner, n.Pos, "address %s: `%s` is not in the model; left out", n.Name, key)
		default:
			c.corrected(owner, n.Pos, "address %s: keepalived ignores %q (\"Unknown configuration entry '%s' for ip address - ignoring\", alloc_ipaddress), so does lbx", n.Name, key, key)
		}
	}
	return va
}

// ipAddress reads a virtual or static address as keepalived's
// parse_ipaddress (vrrp_ipaddress.c): the family from whether it holds
// ':', a prefix length it cannot read is the family's full length, and an
// address it cannot read is skipped.
func (c *conv) ipAddress(owner any, n *keepalived.Node) (model.Prefix, bool) {
	s := n.Name
	addr, plen, hasLen := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" || strings.Contains(addr, ":") != a.Is6() {
		c.corrected(owner, n.Pos, "address %s: keepalived skips it (\"VRRP parsed invalid IP %s. skipping IP...\", parse_ipaddress), so does lbx", s, s)
		return model.Prefix{}, false
	}
	bits := a.BitLen()
	if hasLen {
		if v, err := parseInt(plen, 0, bits); err == nil {
			bits = v
		} else {
			c.corrected(owner, n.Pos, "address %s: keepalived uses the prefix length %d (\"Invalid address prefix len %s for address %s - using %d\", parse_ipaddress), so does lbx", s, bits, plen, s, bits)
		}
	}
	return model.Prefix{Prefix: netip.PrefixFrom(a, bits)}, true
}

// ----- vrrp_sync_group -----

func (c *conv) syncGroup(n *keepalived.Node) {
	if !c.need(n, 1, "a name") {
		return
	}
	g := &model.SyncGroup{Name: n.Args[0].Text}
	for _, ch := range n.Children {
		switch ch.Name {
		case "group":
			for _, m := range ch.Children {
				g.Members = append(g.Members, m.Name)
				for _, a := range m.Args {
					g.Members = append(g.Members, a.Text)
				}
			}
			for _, a := range ch.Args {
				g.Members = append(g.Members, a.Text)
			}
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
			c.notify(g, &g.Notify, ch)
		case "smtp_alert":
			if v, ok := c.boolArg(ch); ok {
				g.SMTPAlert = v
			}
		case "global_tracking", "sync_group_tracking_weight", "track_interface", "track_script", "track_file", "track_process", "track_bfd":
			c.unsupported(g, ch, "sync-group level tracking is not in the model; track in each instance")
		default:
			if c.instNames[ch.Name] && !ch.Block {
				c.legacy(g, ch, "a member inside `group { }` (keepalived 2.x refuses it outside)")
				g.Members = append(g.Members, ch.Name)
				for _, a := range ch.Args {
					g.Members = append(g.Members, a.Text)
				}
				continue
			}
			c.unknown(g, ch, nil)
		}
	}
	kept := g.Members[:0]
	for _, m := range g.Members {
		if !c.instNames[m] {
			c.errorf(n.Pos, "vrrp_sync_group %s: no vrrp_instance named %q", g.Name, m)
			continue
		}
		kept = append(kept, m)
	}
	g.Members = kept
	if len(g.Members) == 0 {
		c.errorf(n.Pos, "vrrp_sync_group %s has no members", g.Name)
		return
	}
	c.pos[g] = n.Pos
	c.m.SyncGroups = append(c.m.SyncGroups, g)
}

// uniqueVIP drops a repeated address within one instance (keepalived
// keeps the first) and one already owned by another instance: keepalived
// lets each instance add and delete its own list (vrrp_handle_ipaddress,
// no check across instances), so the address comes with either instance's
// MASTER and goes with either's leaving it; the model gives an address one
// owner, the first, and says so loudly (an error under --strict).
func (c *conv) uniqueVIP(in *model.VRRPInstance, va *model.VirtualAddress, n *keepalived.Node) bool {
	iface := va.Interface
	if iface == "" {
		iface = in.Interface
	}
	key := iface + "/" + va.Address.Addr().String()
	if prev, ok := c.vips[key]; ok {
		if prev.owner == in.Name {
			c.note(in, n.Pos, "address %s on %s is already listed at %s; keepalived keeps the first, so does lbx", va.Address.Addr(), iface, prev.pos)
		} else {
			c.corrected(in, n.Pos, "address %s on %s is also a virtual address of %s (%s): keepalived adds it whenever either instance becomes MASTER and deletes it whenever either leaves MASTER (each instance handles its own list); an lbx address has one owner, so lbx keeps it with %s only: check which instance should hold it", va.Address.Addr(), iface, prev.owner, prev.pos, prev.owner)
		}
		if prev.owner != in.Name {
			if c.vipsTaken == nil {
				c.vipsTaken = map[*model.VRRPInstance]string{}
			}
			c.vipsTaken[in] = prev.owner
		}
		return false
	}
	c.vips[key] = vipOwner{owner: in.Name, pos: n.Pos}
	return true
}

// uniqueRoute keeps a virtual route with the first instance that lists
// it, as uniqueVIP does an address: keepalived lets each instance add and
// delete its own routes (vrrp_handle_iproutes; the add of a route already
// there fails with EEXIST, harmlessly), so the route comes with either
// instance's MASTER and goes with either's leaving it. The model gives a
// route one owner: the first, said loudly (an error under --strict).
func (c *conv) uniqueRoute(in *model.VRRPInstance, r *model.Route) bool {
	if c.vroutes == nil {
		c.vroutes = map[state.RouteKey]vipOwner{}
	}
	k, pos := r.Key(), c.pos[r]
	prev, ok := c.vroutes[k]
	switch {
	case !ok:
		c.vroutes[k] = vipOwner{owner: in.Name, pos: pos}
		return true
	case prev.owner == in.Name:
		c.corrected(in, pos, "virtual route %s is already listed at %s; keepalived's second add fails (\"File exists\") and its second delete finds nothing, so lbx keeps the first", k, prev.pos)
	default:
		c.corrected(in, pos, "virtual route %s is also a virtual route of %s (%s): keepalived adds it whenever either instance becomes MASTER and deletes it whenever either leaves MASTER (each instance handles its own list); an lbx route has one owner, so lbx keeps it with %s only: check which instance should hold it", k, prev.owner, prev.pos, prev.owner)
	}
	return false
}

type vipOwner struct {
	owner string
	pos   keepalived.Pos
}

var _ = strings.TrimSpace

package model

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/state"
)

// WellKnownCommunities are the community names announcements accept
// besides "AS:VALUE" (RFC 1997, RFC 3765).
var WellKnownCommunities = map[string]uint32{
	"no-export":    0xFFFFFF01,
	"no-advertise": 0xFFFFFF02,
	"no-peer":      0xFFFFFF04,
}

// ParseCommunity reads "AS:VALUE" or a well-known name as the 32-bit
// community.
func ParseCommunity(s string) (uint32, error) {
	if c, ok := WellKnownCommunities[s]; ok {
		return c, nil
	}
	hi, lo, ok := strings.Cut(s, ":")
	a, err1 := strconv.ParseUint(hi, 10, 16)
	b, err2 := strconv.ParseUint(lo, 10, 16)
	if !ok || err1 != nil || err2 != nil {
		return 0, fmt.Errorf("want AS:VALUE (each 0..65535) or one of no-export, no-advertise, no-peer, got %q", s)
	}
	return uint32(a)<<16 | uint32(b), nil
}

// bgp checks the bgp section: what a router would refuse or what cannot
// work on this director is an error at its field.
func (v *validator) bgp() {
	b := v.m.BGP
	if b == nil {
		return
	}
	switch b.AnnouncerOf() {
	case AnnouncerGoBGP:
		v.bgpSpeaker(b)
	case AnnouncerKernel:
		v.bgpKernel(b)
	default:
		v.errorf("bgp.announcer", "want gobgp or kernel, got %q", b.Announcer)
	}
	if len(b.Announcements) == 0 {
		v.errorf("bgp.announcements", "missing: the prefixes to announce (a bgp section without them announces nothing)")
	}
	seen := map[netip.Prefix]string{}
	for i, a := range b.Announcements {
		p := fmt.Sprintf("bgp.announcements[%d]", i)
		if a == nil || !a.Prefix.IsValid() {
			v.errorf(p+".prefix", "missing: the announced prefix, such as 192.0.2.10/32")
			continue
		}
		if prev, ok := seen[a.Prefix.Prefix]; ok {
			v.errorf(p+".prefix", "%s is already announced at %s", a.Prefix, v.where(prev))
		}
		seen[a.Prefix.Prefix] = p
		v.announcement(p, a)
	}
}

// bgpSpeaker checks what the embedded speaker needs: an AS, a router id
// and peers that can carry the announced families.
func (v *validator) bgpSpeaker(b *BGP) {
	if b.Kernel != nil {
		v.errorf("bgp.kernel", "only the kernel announcer has a kernel section; set announcer: kernel or remove it")
	}
	if b.LocalAS == 0 {
		v.errorf("bgp.local_as", "missing: this director's AS number (1..4294967295)")
	}
	switch {
	case b.RouterID == nil:
		v.errorf("bgp.router_id", "missing: the BGP identifier, an IPv4 address unique among the AS's speakers")
	case !b.RouterID.Addr.Is4() || b.RouterID.Addr.IsUnspecified():
		v.errorf("bgp.router_id", "%s is not a usable BGP identifier; give a non-zero IPv4 address (also for IPv6 sessions)", b.RouterID.Addr)
	}
	if len(b.Peers) == 0 {
		v.errorf("bgp.peers", "missing: at least one router to announce to (or announcer: kernel)")
	}
	fams := map[state.Family]bool{}
	seen := map[netip.Addr]string{}
	for i, pe := range b.Peers {
		p := fmt.Sprintf("bgp.peers[%d]", i)
		if pe == nil || !pe.Address.IsValid() {
			v.errorf(p+".address", "missing: the router's address")
			continue
		}
		if prev, ok := seen[pe.Address.Addr]; ok {
			v.errorf(p+".address", "peer %s is already declared at %s", pe.Address.Addr, v.where(prev))
		}
		seen[pe.Address.Addr] = p
		fams[state.FamilyOf(pe.Address.Addr)] = true
		if b.RouterID != nil && pe.Address.Addr == b.RouterID.Addr {
			v.errorf(p+".address", "%s is also bgp.router_id: the peer would refuse the session (duplicate BGP identifier)", pe.Address.Addr)
		}
		v.peer(p, b, pe)
	}
	if len(b.Peers) == 0 {
		return
	}
	for i, a := range b.Announcements {
		if a != nil && a.Prefix.IsValid() && !fams[state.FamilyOf(a.Prefix.Addr())] {
			v.errorf(fmt.Sprintf("bgp.announcements[%d].prefix", i), "no peer of the prefix's family (IPv%d): add a peer of that family or announce the prefix elsewhere",
				state.FamilyOf(a.Prefix.Addr()))
		}
	}
}

func (v *validator) peer(p string, b *BGP, pe *BGPPeer) {
	if pe.Address.IsUnspecified() || pe.Address.IsMulticast() || pe.Address.Is6() && pe.Address.IsLinkLocalUnicast() {
		v.errorf(p+".address", "%s cannot be a BGP peer (link-local peers are not supported yet)", pe.Address.Addr)
	}
	if pe.AS == 0 {
		v.errorf(p+".as", "missing: the router's AS number (equal to local_as for iBGP)")
	}
	if pe.Port < 0 || pe.Port > 65535 {
		v.errorf(p+".port", "want 1..65535, got %d", pe.Port)
	}
	hold := time.Duration(DefaultBGPHoldTime) * time.Second
	if pe.HoldTime != nil {
		hold = pe.HoldTime.Duration
		if hold != 0 && hold < 3*time.Second || hold > 65535*time.Second || hold%time.Second != 0 {
			v.errorf(p+".hold_time", "want 0 or whole seconds from 3s to 65535s (RFC 4271), got %s", hold)
		}
	}
	if pe.Keepalive != nil {
		k := pe.Keepalive.Duration
		switch {
		case k%time.Second != 0 || k < 0:
			v.errorf(p+".keepalive", "want whole seconds, got %s", k)
		case hold == 0 && k != 0:
			v.errorf(p+".keepalive", "hold_time 0 sends no keepalives; remove keepalive or set hold_time")
		case hold != 0 && (k == 0 || k >= hold):
			v.errorf(p+".keepalive", "want 1s up to less than hold_time (%s), usually a third of it; got %s", hold, k)
		}
	}
	if pe.EBGPMultihop != nil {
		switch {
		case *pe.EBGPMultihop < 1 || *pe.EBGPMultihop > 255:
			v.errorf(p+".ebgp_multihop", "want a TTL of 1..255, got %d", *pe.EBGPMultihop)
		case pe.AS == b.LocalAS:
			v.errorf(p+".ebgp_multihop", "an iBGP peer (as equal to local_as) has no eBGP multihop; remove it")
		}
	}
	if pe.PasswordFile != "" && !filepath.IsAbs(pe.PasswordFile) {
		v.errorf(p+".password_file", "%q is not an absolute path", pe.PasswordFile)
	}
}

func (v *validator) bgpKernel(b *BGP) {
	if len(b.Peers) > 0 {
		v.errorf("bgp.peers", "the kernel announcer holds no sessions (the host's BIRD or FRR does); remove peers or set announcer: gobgp")
	}
	if b.GracefulShutdown != nil {
		v.errorf("bgp.graceful_shutdown", "the kernel announcer cannot tag routes; the router daemon's own graceful shutdown applies")
	}
	k := b.Kernel
	if k == nil || k.Table == nil {
		v.errorf("bgp.kernel.table", "missing: the routing table the announced routes go to (the router daemon's kernel protocol imports it)")
		return
	}
	if *k.Table < 1 || *k.Table > 1<<32-1 || *k.Table == state.TableLocal {
		v.errorf("bgp.kernel.table", "want 1..4294967295 except 255 (the kernel's local table), got %d", *k.Table)
	}
	if k.Metric != nil && (*k.Metric < 0 || *k.Metric > 1<<32-1) {
		v.errorf("bgp.kernel.metric", "want 0..4294967295, got %d", *k.Metric)
	}
}

// announcement checks one announced prefix: a host of this model (a
// service's or an address's), on a valid interface, with a condition
// that names what exists.
func (v *validator) announcement(p string, a *Announcement) {
	if a.Prefix.Addr().Is4In6() {
		v.errorf(p+".prefix", "%s is an IPv4-mapped IPv6 network; write the IPv4 network", a.Prefix.Prefix)
		return
	}
	if !v.usedPrefix(a.Prefix.Prefix) {
		v.errorf(p+".prefix", "no virtual server, address or VRRP address of this model is in %s: announcing it would draw traffic nobody serves", a.Prefix.Prefix)
	}
	if a.Interface != "" && !validIfName(a.Interface) {
		v.errorf(p+".interface", "%q is not a valid interface name (1-15 characters, no '/', ':' or spaces)", a.Interface)
	}
	for i, c := range a.Communities {
		if _, err := ParseCommunity(c); err != nil {
			v.errorf(fmt.Sprintf("%s.communities[%d]", p, i), "%v", err)
		}
	}
	c := a.When
	if c == nil {
		return
	}
	for i, name := range c.VirtualServers {
		if v.virtualServer(name) == nil {
			v.errorf(fmt.Sprintf("%s.when.virtual_servers[%d]", p, i), "no virtual server named %q", name)
		}
	}
	if c.MinHealthy != nil {
		switch {
		case len(c.VirtualServers) == 0:
			v.errorf(p+".when.min_healthy", "counts the healthy real servers of when.virtual_servers; name them")
		case *c.MinHealthy < 1:
			v.errorf(p+".when.min_healthy", "want at least 1, got %d", *c.MinHealthy)
		}
	}
	if c.VRRPInstance != "" && v.instance(c.VRRPInstance) == nil {
		v.errorf(p+".when.vrrp_instance", "no vrrp_instance named %q", c.VRRPInstance)
	}
}

// usedPrefix says whether an address the model serves or holds lies in n.
func (v *validator) usedPrefix(n netip.Prefix) bool {
	for _, vs := range v.m.VirtualServers {
		if vs == nil {
			continue
		}
		for _, k := range v.m.ServiceKeys(vs) {
			if k.FWMark == 0 && n.Contains(k.Addr) {
				return true
			}
		}
	}
	for _, a := range v.m.Addresses {
		if a != nil && a.Address.IsValid() && n.Contains(a.Address.Addr()) {
			return true
		}
	}
	for _, in := range v.m.VRRPInstances {
		if in == nil {
			continue
		}
		for _, a := range slices.Concat(in.VirtualAddresses, in.VirtualAddressesExcluded) {
			if a != nil && a.Address.IsValid() && n.Contains(a.Address.Addr()) {
				return true
			}
		}
	}
	return false
}

func (v *validator) virtualServer(name string) *VirtualServer {
	for _, vs := range v.m.VirtualServers {
		if vs != nil && vs.Name == name {
			return vs
		}
	}
	return nil
}

// BGPWarnings are what works on one director but breaks flows across N
// of them: a service announced from several directors whose scheduler
// does not pick the same real server for a flow on each (mh with
// mh-port, sh with sh-port do). A valid model is assumed.
func BGPWarnings(m *Model) Errors {
	if m.BGP == nil {
		return nil
	}
	v := &validator{m: m}
	warned := map[string]bool{}
	for i, a := range m.BGP.Announcements {
		if a == nil || a.When == nil {
			continue
		}
		for j, name := range a.When.VirtualServers {
			vs := v.virtualServer(name)
			if vs == nil || warned[name] {
				continue
			}
			warned[name] = true
			if msg := inconsistentScheduler(vs); msg != "" {
				v.errorf(fmt.Sprintf("bgp.announcements[%d].when.virtual_servers[%d]", i, j), "%s", msg)
			}
		}
	}
	if len(warned) > 0 {
		v.sloppyWarnings()
	}
	return v.errs
}

// inconsistentScheduler says why vs's scheduler sends one flow to
// different real servers on different directors ("" when it does not).
func inconsistentScheduler(vs *VirtualServer) string {
	s := vs.Scheduler
	if s == "" {
		s = DefaultScheduler
	}
	flag := map[string]string{"mh": "mh-port", "sh": "sh-port"}[s]
	switch {
	case flag == "":
		return fmt.Sprintf("virtual server %q uses scheduler %s, which picks real servers from this director's own state: a flow moved to another director by ECMP goes to another real server; use mh with mh-port (or sh with sh-port)", vs.Name, s)
	case !slices.Contains(vs.SchedulerFlags, flag):
		return fmt.Sprintf("virtual server %q uses %s without %s: directors agree, but on the source address alone, so every connection of one client (or one NAT) lands on one real server; add scheduler_flags: [%s]", vs.Name, s, flag, flag)
	}
	return ""
}

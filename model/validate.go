package model

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/check/checkspec"
	"github.com/lbx-dev/lbx/state"
)

// validator collects semantic errors, each at the position of the field
// that is wrong.
type validator struct {
	m    *Model
	errs Errors
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{File: v.m.File, Pos: v.m.Positions.At(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func validate(m *Model) Errors {
	if len(m.Nodes) > 0 {
		return validateNodes(m)
	}
	v := &validator{m: m}
	if m.Version == 0 {
		v.errorf("version", "missing: the first line of a model is `version: %d`", Version)
	} else if m.Version != Version {
		v.errorf("version", "version %d is not supported by this lbx (it reads version %d)", m.Version, Version)
	}
	v.global()
	v.ipvsSection()
	v.scripts()
	addrSeen := map[state.AddressKey]string{}
	for i, a := range m.Addresses {
		p := fmt.Sprintf("addresses[%d]", i)
		if a == nil {
			v.errorf(p, "empty entry; give address and interface")
			continue
		}
		v.address(p, a.Address, a.Interface, a.Label, a.Scope, true)
		v.uniqueAddress(addrSeen, p, a.Interface, a.Address)
	}
	v.vrrp(addrSeen)
	v.routes()
	v.groups()
	v.virtualServers()
	v.bgp()
	return v.errs
}

func (v *validator) global() {
	g := v.m.Global
	if g.VRRPVersion != nil {
		oneOf(v, "global.vrrp_version", *g.VRRPVersion, VRRPVersions, WantOr)
	}
	if g.VRRPGarpMasterRepeat != nil && (*g.VRRPGarpMasterRepeat < 0 || *g.VRRPGarpMasterRepeat > 255) {
		v.errorf("global.vrrp_garp_master_repeat", "want 0..255")
	}
	if g.ResyncInterval != nil && g.ResyncInterval.Duration < 100*time.Millisecond {
		v.errorf("global.resync_interval", "want at least 100ms, got %s", g.ResyncInterval.Duration)
	}
	optionalOneOf(v, "global.ipvs_on_stop", g.IPVSOnStop, IPVSOnStopModes, WantOr)
	if s := g.LVSSyncDaemon; s != nil {
		if s.Interface == "" {
			v.errorf("global.lvs_sync_daemon.interface", "missing: the interface the sync daemon uses")
		}
		switch {
		case s.VRRPInstance == "":
			v.errorf("global.lvs_sync_daemon.vrrp_instance", "missing: the VRRP instance the daemon follows (master daemon while it is MASTER, backup otherwise)")
		case v.instance(s.VRRPInstance) == nil:
			v.errorf("global.lvs_sync_daemon.vrrp_instance", "no vrrp_instance named %q", s.VRRPInstance)
		}
		if s.SyncID != nil && (*s.SyncID < 0 || *s.SyncID > 255) {
			v.errorf("global.lvs_sync_daemon.sync_id", "want 0..255, got %d", *s.SyncID)
		}
		// keepalived's bounds: a UDP payload in one IPv4 datagram.
		if s.MaxLen < 0 || s.MaxLen > 65507 {
			v.errorf("global.lvs_sync_daemon.max_len", "want 1..65507, got %d", s.MaxLen)
		}
		if s.Port < 0 || s.Port > 65535 {
			v.errorf("global.lvs_sync_daemon.port", "want 1..65535, got %d", s.Port)
		}
		if s.TTL < 0 || s.TTL > 255 {
			v.errorf("global.lvs_sync_daemon.ttl", "want 1..255, got %d", s.TTL)
		}
		if s.Group != nil && !s.Group.Addr.IsMulticast() {
			v.errorf("global.lvs_sync_daemon.group", "%s is not a multicast address (the kernel refuses it)", s.Group.Addr)
		}
	}
}

func (v *validator) scripts() {
	for _, name := range sortedKeys(v.m.Scripts) {
		s := v.m.Scripts[name]
		p := "scripts." + name
		if s == nil {
			v.errorf(p, "empty script definition; give at least `script:`")
			continue
		}
		if strings.TrimSpace(s.Script) == "" {
			v.errorf(p+".script", "missing: the command to run")
		}
		if s.Interval != nil && s.Interval.Duration <= 0 {
			v.errorf(p+".interval", "must be positive")
		}
		if s.Weight < -253 || s.Weight > 253 {
			v.errorf(p+".weight", "want -253..253, got %d", s.Weight)
		}
		v.positive(p+".rise", s.Rise)
		v.positive(p+".fall", s.Fall)
	}
}

func (v *validator) positive(path string, n *int) {
	if n != nil && *n < 1 {
		v.errorf(path, "must be at least 1, got %d", *n)
	}
}

// address checks an interface address. needIface: static addresses must
// name their interface; VRRP addresses default to the instance's.
func (v *validator) address(p string, a Prefix, iface, label, scope string, needIface bool) {
	if !a.IsValid() {
		v.errorf(p+".address", "missing: an address such as 192.0.2.10/24")
	} else if a.Addr().Is4In6() {
		v.errorf(p+".address", "%s is an IPv4-mapped IPv6 address; write the IPv4 address", a.Prefix)
	}
	if needIface && iface == "" {
		v.errorf(p+".interface", "missing: the interface that carries the address")
	}
	if iface != "" && !validIfName(iface) {
		v.errorf(p+".interface", "%q is not a valid interface name (1-15 characters, no '/', ':' or spaces)", iface)
	}
	if label != "" {
		switch {
		case a.IsValid() && a.Addr().Is6():
			v.errorf(p+".label", "labels exist only for IPv4 addresses")
		case len(label) > 15:
			v.errorf(p+".label", "%q is longer than 15 characters", label)
		case iface != "" && !strings.HasPrefix(label, iface):
			v.errorf(p+".label", "%q must begin with the interface name %q (the kernel refuses it otherwise)", label, iface)
		}
	}
	optionalOneOf(v, p+".scope", scope, AddressScopes, unknownScope)
}

func validIfName(s string) bool {
	return len(s) > 0 && len(s) <= 15 && !strings.ContainsAny(s, "/: \t") && s != "." && s != ".."
}

func (v *validator) uniqueAddress(seen map[state.AddressKey]string, p, iface string, a Prefix) {
	if !a.IsValid() || iface == "" {
		return
	}
	k := state.AddressKey{Interface: iface, Addr: a.Addr()}
	if prev, ok := seen[k]; ok {
		v.errorf(p+".address", "%s on %s is already declared at %s", a.Addr(), iface, v.where(prev))
		return
	}
	seen[k] = p
}

// where names a path with its line, for "already declared at" messages.
func (v *validator) where(p string) string {
	pos := v.m.Positions.At(p)
	if pos.Line == 0 {
		return p
	}
	return fmt.Sprintf("%s (line %d)", p, pos.Line)
}

func (v *validator) instance(name string) *VRRPInstance {
	for _, in := range v.m.VRRPInstances {
		if in != nil && in.Name == name {
			return in
		}
	}
	return nil
}

// vridKey is what makes a VRID unique: one virtual router per link,
// VRID and family.
type vridKey struct {
	iface  string
	vrid   int
	family state.Family
}

func (v *validator) vrrp(addrSeen map[state.AddressKey]string) {
	names := map[string]string{}
	vrids := map[vridKey]string{}
	for i, in := range v.m.VRRPInstances {
		p := fmt.Sprintf("vrrp_instances[%d]", i)
		if in == nil {
			v.errorf(p, "empty instance")
			continue
		}
		v.vrrpInstance(p, in, names, vrids, addrSeen)
	}
	v.syncGroups()
}

// vrrpInstance checks one instance; names and vrids hold the instances
// seen before it, addrSeen every address.
func (v *validator) vrrpInstance(p string, in *VRRPInstance, names map[string]string, vrids map[vridKey]string, addrSeen map[state.AddressKey]string) {
	if in.Name == "" {
		v.errorf(p+".name", "missing: every instance needs a name")
	} else if prev, ok := names[in.Name]; ok {
		v.errorf(p+".name", "instance %q is already declared at %s", in.Name, v.where(prev))
	} else {
		names[in.Name] = v.where(p)
	}
	if in.Interface == "" {
		v.errorf(p+".interface", "missing: the interface VRRP runs on")
	} else if !validIfName(in.Interface) {
		v.errorf(p+".interface", "%q is not a valid interface name", in.Interface)
	}
	version := in.EffectiveVersion(v.m.Global)
	family := instanceFamily(in)
	v.vrrpProtocol(p, in, version, family)
	v.vrrpAddresses(p, in, family, addrSeen)
	if in.Interface != "" && in.VirtualRouterID > 0 {
		k := vridKey{in.Interface, in.VirtualRouterID, family}
		if prev, ok := vrids[k]; ok {
			v.errorf(p+".virtual_router_id", "VRID %d on %s (IPv%d) is already used by %s; each virtual router on a link needs its own VRID", in.VirtualRouterID, in.Interface, family, v.where(prev))
		} else {
			vrids[k] = p
		}
	}
	v.vrrpTracking(p, in)
}

// instanceFamily is the family of an instance's virtual addresses: that
// of the first valid one after the first entry, else the first entry's,
// else IPv4 (the rule as it has always been; the one-family check below
// reports mixed lists).
func instanceFamily(in *VRRPInstance) state.Family {
	family := state.IPv4
	for j, a := range in.VirtualAddresses {
		if a != nil && a.Address.IsValid() {
			family = state.FamilyOf(a.Address.Addr())
			if j > 0 {
				break
			}
		}
	}
	return family
}

// vrrpProtocol checks the instance's VRRP fields: VRID, state, priority,
// version, advert interval, authentication and peers.
func (v *validator) vrrpProtocol(p string, in *VRRPInstance, version int, family state.Family) {
	if in.VirtualRouterID < 1 || in.VirtualRouterID > 255 {
		v.errorf(p+".virtual_router_id", "want 1..255, got %d", in.VirtualRouterID)
	}
	optionalOneOf(v, p+".state", in.State, InitialStates, "want %[2]s (upper case, as keepalived), got %[1]s")
	if in.Priority != nil && (*in.Priority < 1 || *in.Priority > 255) {
		v.errorf(p+".priority", "want 1..255 (255 = address owner), got %d", *in.Priority)
	}
	if in.Version != nil {
		oneOf(v, p+".version", *in.Version, VRRPVersions, WantOr)
	}
	if family == state.IPv6 && version != 3 {
		v.errorf(p+".version", "IPv6 virtual addresses need VRRP version 3")
	}
	if in.AdvertInt != nil {
		d := in.AdvertInt.Duration
		switch {
		case version == 2 && (d < time.Second || d > 255*time.Second || d%time.Second != 0):
			v.errorf(p+".advert_int", "VRRPv2 wants whole seconds 1..255, got %s", d)
		case version == 3 && (d < 10*time.Millisecond || d > 40950*time.Millisecond || d%(10*time.Millisecond) != 0):
			v.errorf(p+".advert_int", "VRRPv3 wants 0.01s..40.95s in centiseconds, got %s", d)
		}
	}
	if a := in.Authentication; a != nil {
		switch {
		case !oneOf(v, p+".authentication.type", a.Type, AuthTypes, WantOr):
			// reported
		case version == 3:
			v.errorf(p+".authentication", "VRRPv3 has no authentication (RFC 5798); remove it or use version 2")
		case a.Type == "PASS" && (a.Pass == "" || len(a.Pass) > 8):
			v.errorf(p+".authentication.pass", "PASS wants 1..8 characters")
		}
	}
	if in.NoPreempt && in.State == "MASTER" {
		v.errorf(p+".nopreempt", "nopreempt needs state BACKUP (keepalived ignores it with MASTER)")
	}
	for j, peer := range in.UnicastPeers {
		if in.UnicastSrcIP != nil && state.FamilyOf(peer.Addr) != state.FamilyOf(in.UnicastSrcIP.Addr) {
			v.errorf(fmt.Sprintf("%s.unicast_peers[%d]", p, j), "address family differs from unicast_src_ip")
		}
	}
}

// vrrpAddresses checks the instance's virtual addresses, both lists.
func (v *validator) vrrpAddresses(p string, in *VRRPInstance, family state.Family, addrSeen map[state.AddressKey]string) {
	for _, list := range []struct {
		field     string
		addrs     []*VirtualAddress
		oneFamily bool
	}{{"virtual_addresses", in.VirtualAddresses, true}, {"virtual_addresses_excluded", in.VirtualAddressesExcluded, false}} {
		for j, a := range list.addrs {
			ap := fmt.Sprintf("%s.%s[%d]", p, list.field, j)
			if a == nil {
				v.errorf(ap, "empty address")
				continue
			}
			iface := a.Interface
			if iface == "" {
				iface = in.Interface
			}
			v.address(ap, a.Address, iface, a.Label, a.Scope, false)
			v.uniqueAddress(addrSeen, ap, iface, a.Address)
			// keepalived sends one family per instance; other addresses
			// go in virtual_addresses_excluded.
			if list.oneFamily && a.Address.IsValid() && state.FamilyOf(a.Address.Addr()) != family {
				v.errorf(ap+".address", "an instance's virtual addresses must all be one family (keepalived: use virtual_addresses_excluded)")
			}
		}
	}
}

// vrrpTracking checks the tracked interfaces and scripts and the GARP
// repeats.
func (v *validator) vrrpTracking(p string, in *VRRPInstance) {
	for j, t := range in.TrackInterfaces {
		tp := fmt.Sprintf("%s.track_interfaces[%d]", p, j)
		if t == nil || !validIfName(t.Name) {
			v.errorf(tp+".name", "missing or invalid interface name")
		} else if t.Weight < -253 || t.Weight > 253 {
			v.errorf(tp+".weight", "want -253..253")
		}
	}
	for j, t := range in.TrackScripts {
		tp := fmt.Sprintf("%s.track_scripts[%d]", p, j)
		if t == nil || t.Name == "" {
			v.errorf(tp+".name", "missing: the name of a script under `scripts:`")
		} else if _, ok := v.m.Scripts[t.Name]; !ok {
			v.errorf(tp+".name", "no script named %q under `scripts:`", t.Name)
		}
		if t != nil && t.Weight != nil && (*t.Weight < -253 || *t.Weight > 253) {
			v.errorf(tp+".weight", "want -253..253")
		}
	}
	for _, f := range []string{"garp_master_repeat", "garp_master_refresh_repeat"} {
		var n *int
		if f == "garp_master_repeat" {
			n = in.GarpMasterRepeat
		} else {
			n = in.GarpMasterRefreshRepeat
		}
		if n != nil && (*n < 0 || *n > 255) {
			v.errorf(p+"."+f, "want 0..255")
		}
	}
}

// syncGroups checks the sync groups: named once, members that exist and
// are in one group only.
func (v *validator) syncGroups() {
	inGroup := map[string]string{}
	groupNames := map[string]bool{}
	for i, g := range v.m.SyncGroups {
		p := fmt.Sprintf("sync_groups[%d]", i)
		if g == nil || !v.namedSet(p, "sync group", g.Name, len(g.Members), groupNames) {
			continue
		}
		for j, mbr := range g.Members {
			mp := fmt.Sprintf("%s.members[%d]", p, j)
			if v.instance(mbr) == nil {
				v.errorf(mp, "no vrrp_instance named %q", mbr)
			} else if prev, ok := inGroup[mbr]; ok {
				v.errorf(mp, "instance %q is already in sync group %s", mbr, prev)
			} else {
				inGroup[mbr] = g.Name
			}
		}
	}
}

// namedSet checks what sync groups and virtual server groups share: a
// unique name and at least one member. It returns false when the entry
// cannot be checked further.
func (v *validator) namedSet(p, what, name string, members int, seen map[string]bool) bool {
	if name == "" {
		v.errorf(p+".name", "missing: every %s needs a name", what)
		return false
	}
	if seen[name] {
		v.errorf(p+".name", "%s %q declared twice", what, name)
	}
	seen[name] = true
	if members == 0 {
		v.errorf(p+".members", "a %s needs at least one member", what)
	}
	return true
}

func (v *validator) groups() {
	seen := map[string]bool{}
	for i, g := range v.m.VirtualServerGroups {
		p := fmt.Sprintf("virtual_server_groups[%d]", i)
		if g == nil || !v.namedSet(p, "group", g.Name, len(g.Members), seen) {
			continue
		}
		for j, mbr := range g.Members {
			mp := fmt.Sprintf("%s.members[%d]", p, j)
			switch {
			case mbr == nil:
				v.errorf(mp, "empty member")
			case mbr.FWMark != 0 && mbr.Address != nil:
				v.errorf(mp, "give either address+port or fwmark, not both")
			case mbr.FWMark == 0 && mbr.Address == nil:
				v.errorf(mp, "give address+port or fwmark")
			case mbr.Address != nil && (mbr.Port < 0 || mbr.Port > 65535):
				v.errorf(mp+".port", "want 0..65535, got %d", mbr.Port)
			case mbr.FWMark != 0 && mbr.Port != 0:
				v.errorf(mp+".port", "a fwmark member has no port")
			case mbr.Family != 0 && mbr.FWMark == 0:
				v.errorf(mp+".family", "family is only for a fwmark member; an address has its own")
			default:
				optionalOneOf(v, mp+".family", mbr.Family, ServiceFamilies, WantOr)
			}
		}
	}
}

func (v *validator) group(name string) *VirtualServerGroup {
	for _, g := range v.m.VirtualServerGroups {
		if g != nil && g.Name == name {
			return g
		}
	}
	return nil
}

func (v *validator) virtualServers() {
	seen := map[state.ServiceKey]string{}
	for i, vs := range v.m.VirtualServers {
		p := fmt.Sprintf("virtual_servers[%d]", i)
		if vs == nil {
			v.errorf(p, "empty virtual server")
			continue
		}
		if !v.serviceIdentity(p, vs) {
			continue
		}
		optionalOneOf(v, p+".scheduler", vs.Scheduler, Schedulers, "unknown scheduler %[1]s; want one of %[3]s")
		v.schedFlags(p, vs)
		optionalOneOf(v, p+".forwarding", vs.Forwarding, Forwardings, WantOrLowerCase)
		if pe := vs.Persistence; pe != nil {
			if pe.Timeout != nil && (pe.Timeout.Duration < time.Second || pe.Timeout.Duration%time.Second != 0 || pe.Timeout.Duration > (1<<31)*time.Second) {
				v.errorf(p+".persistence.timeout", "want whole seconds, at least 1s, got %s", pe.Timeout.Duration)
			}
		}
		keys := v.serviceKeys(p, vs, seen)
		if vs.DrainTimeout != nil && vs.DrainTimeout.Duration < 0 {
			v.errorf(p+".drain_timeout", "must not be negative")
		}
		if q := vs.Quorum; q != nil {
			if q.Min < 0 {
				v.errorf(p+".quorum.min", "must not be negative")
			}
			if q.Hysteresis < 0 || q.Hysteresis >= q.MinWeight() {
				v.errorf(p+".quorum.hysteresis", "want 0..%d: below quorum.min, which is %d (1 when not set)", q.MinWeight()-1, q.MinWeight())
			}
		}
		var fam state.Family
		if len(keys) > 0 {
			fam = keys[0].Family
		}
		v.sorryServer(p+".sorry_server", vs.SorryServer, fam)
		v.realServers(p, vs, fam)
	}
}

// serviceIdentity checks what names the service: one of address (with
// port), fwmark or group, its protocol and family. False when it has no
// single identity, and so nothing more to check.
func (v *validator) serviceIdentity(p string, vs *VirtualServer) bool {
	ids := 0
	if vs.Address != nil {
		ids++
	}
	if vs.FWMark != 0 {
		ids++
	}
	if vs.Group != "" {
		ids++
	}
	if ids != 1 {
		v.errorf(p, "give exactly one of address (with port), fwmark or group")
		return false
	}
	optionalOneOf(v, p+".protocol", vs.Protocol, Protocols, WantOrLowerCase)
	if vs.Address != nil {
		if vs.Port < 0 || vs.Port > 65535 {
			v.errorf(p+".port", "want 1..65535, got %d", vs.Port)
		} else if vs.Port == 0 && vs.Persistence == nil {
			v.errorf(p+".port", "missing: port 0 (all ports) is only allowed with persistence, as the kernel requires")
		}
	} else if vs.Port != 0 && vs.FWMark != 0 {
		v.errorf(p+".port", "a fwmark service has no port; remove it")
	}
	if vs.Group != "" && v.group(vs.Group) == nil {
		v.errorf(p+".group", "no virtual_server_group named %q", vs.Group)
	}
	if optionalOneOf(v, p+".family", vs.Family, ServiceFamilies, WantOr) && vs.Family != 0 && vs.FWMark == 0 && vs.Group == "" {
		v.errorf(p+".family", "family is only for fwmark services and groups (their fwmark entries); an address has its own")
	}
	return true
}

// serviceKeys checks the service's kernel keys, which it returns: the
// persistence granularity fits their family, and no service before it
// (in seen) has one.
func (v *validator) serviceKeys(p string, vs *VirtualServer, seen map[state.ServiceKey]string) []state.ServiceKey {
	var keys []state.ServiceKey
	if vs.Port >= 0 && vs.Port <= 65535 {
		keys = v.m.ServiceKeys(vs)
	}
	for _, k := range keys {
		if pe := vs.Persistence; pe != nil && pe.Granularity != nil && pe.Granularity.Bits > addrBits(k.Family) {
			v.errorf(p+".persistence.granularity", "/%d is longer than an IPv%d address", pe.Granularity.Bits, k.Family)
			break
		}
	}
	for _, k := range keys {
		if prev, ok := seen[k]; ok {
			v.errorf(p, "service %s is already declared at %s", k, v.where(prev))
		} else {
			seen[k] = p
		}
	}
	return keys
}

// sorryServer checks a service's sorry server (sp is its path) against
// the service's family fam (0: unknown).
func (v *validator) sorryServer(sp string, s *SorryServer, fam state.Family) {
	if s == nil {
		return
	}
	if !s.Address.IsValid() {
		v.errorf(sp+".address", "missing: the sorry server's address")
	} else if fam != 0 && state.FamilyOf(s.Address.Addr) != fam {
		v.errorf(sp+".address", "address family differs from the service's (IPv%d)", fam)
	}
	if s.Port < 0 || s.Port > 65535 {
		v.errorf(sp+".port", "want 0..65535")
	}
	optionalOneOf(v, sp+".forwarding", s.Forwarding, Forwardings, WantOr)
}

func addrBits(f state.Family) int {
	if f == state.IPv6 {
		return 128
	}
	return 32
}

func (v *validator) schedFlags(p string, vs *VirtualServer) {
	sched := vs.Scheduler
	if sched == "" {
		sched = DefaultScheduler
	}
	seen := map[string]bool{}
	for j, f := range vs.SchedulerFlags {
		fp := fmt.Sprintf("%s.scheduler_flags[%d]", p, j)
		switch {
		case !oneOf(v, fp, f, SchedulerFlags, "unknown flag %[1]s; want one of %[3]s"):
			// reported
		case strings.HasPrefix(f, "sh-") && sched != "sh", strings.HasPrefix(f, "mh-") && sched != "mh":
			v.errorf(fp, "%q needs scheduler %s", f, f[:2])
		case seen[f]:
			v.errorf(fp, "flag %q given twice", f)
		}
		seen[f] = true
	}
}

func (v *validator) realServers(p string, vs *VirtualServer, fam state.Family) {
	seen := map[state.RealKey]string{}
	for j, rs := range vs.RealServers {
		rp := fmt.Sprintf("%s.real_servers[%d]", p, j)
		if rs == nil {
			v.errorf(rp, "empty real server")
			continue
		}
		fwd := rs.Forwarding
		if fwd == "" {
			fwd = vs.Forwarding
		}
		if !rs.Address.IsValid() {
			v.errorf(rp+".address", "missing: the real server's address")
		} else if fam != 0 && state.FamilyOf(rs.Address.Addr) != fam && fwd != "tun" {
			// The kernel tunnels to a destination of the other family
			// (IPVS_DEST_ATTR_ADDR_FAMILY, Linux 3.18), as keepalived
			// allows for TUN real servers only.
			v.errorf(rp+".address", "address family differs from the service's (IPv%d); only tunnelled (tun) real servers may be of another family", fam)
		}
		if rs.Port < 0 || rs.Port > 65535 {
			v.errorf(rp+".port", "want 0..65535, got %d", rs.Port)
		}
		if rs.Weight != nil && (*rs.Weight < 0 || *rs.Weight > MaxWeight) {
			v.errorf(rp+".weight", "want 0..%d, got %d", MaxWeight, *rs.Weight)
		}
		optionalOneOf(v, rp+".forwarding", rs.Forwarding, Forwardings, WantOrLowerCase)
		if rs.UpperThreshold > 0 && rs.LowerThreshold > rs.UpperThreshold {
			v.errorf(rp+".lower_threshold", "%d is above upper_threshold %d", rs.LowerThreshold, rs.UpperThreshold)
		}
		if t := rs.Tunnel; t != nil {
			if fwd != "tun" {
				v.errorf(rp+".tunnel", "tunnel settings need forwarding tun")
			}
			optionalOneOf(v, rp+".tunnel.type", t.Type, TunnelTypes, WantOr)
			if t.Port < 0 || t.Port > 65535 {
				v.errorf(rp+".tunnel.port", "want 0..65535")
			} else if t.Type == "gue" && t.Port == 0 {
				v.errorf(rp+".tunnel.port", "missing: a gue tunnel needs the UDP port the real server decapsulates on")
			}
			optionalOneOf(v, rp+".tunnel.checksum", t.Checksum, TunnelChecksums, WantOr)
		}
		if ep := rs.EffectivePort(vs); rs.Address.IsValid() && ep >= 0 && ep <= 65535 {
			k := rs.Key(vs)
			if prev, ok := seen[k]; ok {
				v.errorf(rp, "real server %s is already declared at %s", k, v.where(prev))
			} else {
				seen[k] = rp
			}
			if s := vs.SorryServer; s != nil && s.Address.IsValid() && s.Address.Addr == k.Addr && uint16(s.Port) == k.Port {
				v.errorf(p+".sorry_server", "the sorry server %s is also a real server", k)
			}
		}
		for c, ch := range rs.Checks {
			cp := fmt.Sprintf("%s.checks[%d]", rp, c)
			v.check(cp, ch)
			// A fwmark service's real servers have no port: a network
			// check must say where to connect.
			if ch != nil && rs.EffectivePort(vs) == 0 && ch.ConnectPort == 0 && slices.Contains(portChecks, ch.Type) {
				v.errorf(cp+".connect_port", "missing: the real server has no port (fwmark service), so a %s check needs connect_port", ch.Type)
			}
		}
	}
}

// portChecks are the checkers that connect to a port.
var portChecks = []string{"tcp", "http_get", "ssl_get", "smtp", "dns", "udp"}

// CheckFields lists, for each type-specific check field, the check types it
// belongs to. Fields not listed are common to every type.
var CheckFields = map[string][]string{
	"urls":          {"http_get", "ssl_get"},
	"virtualhost":   {"http_get", "ssl_get"},
	"sni":           {"ssl_get"},
	"verify_tls":    {"ssl_get"},
	"http_protocol": {"http_get", "ssl_get"},
	"path":          {"misc"},
	"timeout":       {"misc"},
	"dynamic":       {"misc"},
	"user":          {"misc"},
	"helo_name":     {"smtp"},
	"dns_type":      {"dns"},
	"dns_name":      {"dns"},
	"payload":       {"udp"},
	"require_reply": {"udp"},
	"file":          {"file"},
}

func (v *validator) check(p string, c *Check) {
	if c == nil {
		v.errorf(p, "empty check")
		return
	}
	if !oneOf(v, p+".type", c.Type, CheckTypes, WantOneOf) {
		return
	}
	rv := reflect.ValueOf(c).Elem()
	for i := 0; i < rv.NumField(); i++ {
		tag, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("yaml"), ",")
		types, specific := CheckFields[tag]
		if specific && !rv.Field(i).IsZero() && !slices.Contains(types, c.Type) {
			v.errorf(p+"."+tag, "%s is not a field of a %s check (it belongs to %s)", tag, c.Type, strings.Join(types, ", "))
		}
	}
	if c.ConnectPort < 0 || c.ConnectPort > 65535 {
		v.errorf(p+".connect_port", "want 0..65535")
	}
	if c.BindPort < 0 || c.BindPort > 65535 {
		v.errorf(p+".bind_port", "want 0..65535")
	}
	if c.Retry != nil && *c.Retry < 0 {
		v.errorf(p+".retry", "must not be negative")
	}
	if c.ConnectTimeout != nil && c.ConnectTimeout.Duration <= 0 {
		v.errorf(p+".connect_timeout", "must be positive")
	}
	if c.DelayLoop != nil && c.DelayLoop.Duration <= 0 {
		v.errorf(p+".delay_loop", "must be positive")
	}
	switch c.Type {
	case "http_get", "ssl_get":
		if len(c.URLs) == 0 {
			v.errorf(p+".urls", "missing: at least one url with a path")
		}
		optionalOneOf(v, p+".http_protocol", c.HTTPVersion, HTTPVersions, "want one of %[3]s (keepalived's), got %[1]s")
		for i, u := range c.URLs {
			up := fmt.Sprintf("%s.urls[%d]", p, i)
			if u == nil || u.Path == "" {
				v.errorf(up+".path", "missing: the path to fetch, such as /health")
				continue
			}
			if u.Digest != "" {
				if b, err := hex.DecodeString(u.Digest); err != nil || len(b) != 16 {
					v.errorf(up+".digest", "want an MD5 digest: 32 hex digits")
				}
			}
			for j, sc := range u.StatusCodes {
				if _, _, err := checkspec.ParseStatusRange(sc); err != nil {
					v.errorf(fmt.Sprintf("%s.status_codes[%d]", up, j), "%v", err)
				}
			}
		}
	case "misc":
		if strings.TrimSpace(c.Path) == "" {
			v.errorf(p+".path", "missing: the command to run")
		}
	case "dns":
		optionalOneOf(v, p+".dns_type", c.DNSType, DNSTypes, WantOneOf)
	case "udp":
		if _, err := hex.DecodeString(c.Payload); err != nil {
			v.errorf(p+".payload", "want hex bytes such as 0a0b0c (keepalived's format), got %q", c.Payload)
		}
	case "file":
		if c.File == "" {
			v.errorf(p+".file", "missing: the file to watch")
		}
	}
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

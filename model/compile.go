package model

import (
	"net/netip"

	"github.com/lbx-dev/lbx/check/checkspec"
	"github.com/lbx-dev/lbx/state"
)

// Facts are the runtime inputs of compilation: what the resident daemon has
// learnt (VRRP states, health). The zero Facts is what one-shot plan/apply
// use: every real server up, VRRP addresses left to `lbx watch`.
type Facts struct {
	// VRRP maps instance name to its state ("MASTER", "BACKUP", "FAULT").
	// Nil means VRRP runs elsewhere: its addresses are out of scope.
	VRRP map[string]string
	// Health maps a real server to its checked health. Absent means up
	// (or down when the service has alpha and no fact arrived yet).
	Health map[RealID]Health
	// QuorumLost marks services whose quorum the runtime declared lost
	// (with hysteresis applied). Nil: computed from Health without it.
	QuorumLost map[state.ServiceKey]bool
	// Announced are the prefixes lbx watch announces now (bgp); with the
	// kernel announcer each is a route. Nil with VRRP nil: left to lbx watch.
	Announced map[netip.Prefix]bool
}

// RealID names a real server of the model across reloads (defined with
// the checker's vocabulary, which links no model code).
type RealID = checkspec.RealID

// Health is a real server's checked state.
type Health = checkspec.Health

// Live says whether real server rs of vs is in service and with what
// weight, given its health (known: a checker reported on it). A checked
// real server is as its checkers last said. One no checker reported on is
// up, unless vs has alpha and rs has checks to bring it up: keepalived
// counts failed checkers, and alpha starts every checker failed, so a real
// server without checkers stays alive.
func Live(vs *VirtualServer, rs *RealServer, h Health, known bool) (up bool, weight int) {
	up = known && h.Up || !known && (!vs.Alpha || len(rs.Checks) == 0)
	weight = DefaultWeight
	if rs.Weight != nil {
		weight = *rs.Weight
	}
	if up && known && h.Weight != nil {
		weight = *h.Weight
	}
	return up, weight
}

// Desired is a compiled model: the state to reach and what is out of scope.
type Desired struct {
	State *state.State
	// VRRPAddresses are the addresses owned by VRRP instances; when Facts
	// has no VRRP states they are not in State and belong to `lbx watch`.
	VRRPAddresses []state.Address
	// VRRPRoutes are the instances' virtual routes, out of State in the
	// same case.
	VRRPRoutes []state.Route
	// Drain gives, per service, how long a removed real server is drained.
	Drain map[state.ServiceKey]DrainPolicy
	// BGPAnnouncements are the prefixes of the model's bgp section: `lbx
	// watch` announces them, plan and apply only list them.
	BGPAnnouncements []string
	// BGPRoutes are the kernel announcer's routes when Facts has no VRRP
	// states (plan, apply): lbx watch's, out of State like VRRPRoutes.
	BGPRoutes []state.Route
}

// DrainPolicy says how to remove a real server that left the model.
type DrainPolicy struct {
	Timeout int // seconds; 0: delete at once
	// Declared are the service's real servers in the model (the sorry
	// server too), set when Timeout is: one of them missing from the
	// desired state was taken out by a runtime fact (a failed check, a
	// lost quorum) and is deleted at once, as keepalived's DEL_DEST. A
	// drain would keep a dead server in IPVS and hold the one writer of
	// lbx watch (and with it a VRRP takeover) for up to Timeout.
	Declared map[state.RealKey]bool
}

// EffectiveVersion is the instance's VRRP version after global defaults.
func (in *VRRPInstance) EffectiveVersion(g Global) int {
	if in.Version != nil {
		return *in.Version
	}
	if g.VRRPVersion != nil {
		return *g.VRRPVersion
	}
	for _, a := range in.VirtualAddresses {
		if a != nil && a.Address.IsValid() && a.Address.Addr().Is6() {
			return 3
		}
	}
	return DefaultVRRPVersion
}

// ProtocolOf is the service's protocol after defaults.
func (vs *VirtualServer) ProtocolOf() state.Protocol {
	if vs.Protocol == "" {
		return state.Protocol(DefaultProtocol)
	}
	return state.Protocol(vs.Protocol)
}

// EffectivePort is the real server's port: its own, else the service's
// (keepalived; fwmark services have none and keep 0).
func (rs *RealServer) EffectivePort(vs *VirtualServer) int {
	if rs.Port != 0 {
		return rs.Port
	}
	return vs.Port
}

// Key is the real server's IPVS destination key under vs.
func (rs *RealServer) Key(vs *VirtualServer) state.RealKey {
	return state.RealKey{Addr: rs.Address.Addr, Port: uint16(rs.EffectivePort(vs))}
}

// EntryKey is a real (or sorry) server's IPVS destination in the service
// svc: a DR or TUN server of a group takes the port of each entry's
// service, 0 for a fwmark entry (keepalived's ipvs_group_cmd); the model's
// key, whose port the checks connect to, names it everywhere else.
func EntryKey(vs *VirtualServer, svc state.ServiceKey, key state.RealKey, fwd state.Forwarding) state.RealKey {
	if vs.Group != "" && fwd != state.NAT {
		key.Port = svc.Port
	}
	return key
}

// Key is the sorry server's destination in vs's services (its port is
// the service's when not set).
func (s *SorryServer) Key(vs *VirtualServer) state.RealKey {
	port := s.Port
	if port == 0 {
		port = vs.Port
	}
	return state.RealKey{Addr: s.Address.Addr, Port: uint16(port)}
}

// ServiceKeys expands a virtual server into the IPVS services it stands for:
// one, or one per group member (ranges expanded).
func (m *Model) ServiceKeys(vs *VirtualServer) []state.ServiceKey {
	proto := vs.ProtocolOf()
	switch {
	case vs.Address != nil:
		return []state.ServiceKey{{Protocol: proto, Addr: vs.Address.Addr, Port: uint16(vs.Port), Family: state.FamilyOf(vs.Address.Addr)}}
	case vs.FWMark != 0:
		f := state.IPv4
		if vs.Family == 6 {
			f = state.IPv6
		}
		return []state.ServiceKey{{FWMark: vs.FWMark, Family: f}}
	}
	var keys []state.ServiceKey
	for _, g := range m.VirtualServerGroups {
		if g == nil || g.Name != vs.Group {
			continue
		}
		for _, mbr := range g.Members {
			if mbr == nil {
				continue
			}
			if mbr.FWMark != 0 {
				// keepalived's ipvs_group_cmd: the entry's own family,
				// else the virtual server's, else IPv4.
				f := state.IPv4
				if mbr.Family == 6 || mbr.Family == 0 && vs.Family == 6 {
					f = state.IPv6
				}
				keys = append(keys, state.ServiceKey{FWMark: mbr.FWMark, Family: f})
				continue
			}
			if mbr.Address == nil {
				continue
			}
			for _, a := range mbr.Address.Addrs() {
				keys = append(keys, state.ServiceKey{Protocol: proto, Addr: a, Port: uint16(mbr.Port), Family: state.FamilyOf(a)})
			}
		}
	}
	return keys
}

func schedFlagBits(vs *VirtualServer) state.SchedFlags {
	var f state.SchedFlags
	for _, name := range vs.SchedulerFlags {
		switch name {
		case "flag-1", "sh-fallback", "mh-fallback":
			f |= state.SchedFlag1
		case "flag-2", "sh-port", "mh-port":
			f |= state.SchedFlag2
		case "flag-3":
			f |= state.SchedFlag3
		}
	}
	return f
}

func forwardingOf(own, service string) state.Forwarding {
	switch {
	case own != "":
		return state.Forwarding(own)
	case service != "":
		return state.Forwarding(service)
	}
	return state.Forwarding(DefaultForwarding)
}

// Compile turns a valid model and runtime facts into the desired state. It
// is pure: the same model and facts always give the same state.
func Compile(m *Model, f Facts) *Desired {
	d := CompileNetwork(m, f)
	compileServices(d, m, f, nil)
	compileSysctls(d, m)
	return d
}

// CompileNetwork is Compile without the IPVS services: the addresses and
// routes, all that VRRP states change (lbx watch's reconcile of a
// transition).
func CompileNetwork(m *Model, f Facts) *Desired {
	d := &Desired{State: state.New(), Drain: map[state.ServiceKey]DrainPolicy{}}
	compileBGP(d, m, f)
	for _, a := range m.Addresses {
		addAddress(d.State, a.Interface, a.Address, a.Label, a.Scope, "static")
	}
	for _, in := range m.VRRPInstances {
		master := f.VRRP != nil && f.VRRP[in.Name] == "MASTER"
		for _, st := range in.HeldAddresses() {
			if f.VRRP == nil {
				d.VRRPAddresses = append(d.VRRPAddresses, st)
			} else if master {
				d.State.Addresses[st.Key] = st
			}
		}
	}
	compileRoutes(d, m, f)
	return d
}

// HeldAddresses are the addresses the instance holds while MASTER: its
// virtual addresses, then its excluded ones, on its interface unless
// they name another.
func (in *VRRPInstance) HeldAddresses() []state.Address {
	var out []state.Address
	for _, list := range [][]*VirtualAddress{in.VirtualAddresses, in.VirtualAddressesExcluded} {
		for _, a := range list {
			iface := a.Interface
			if iface == "" {
				iface = in.Interface
			}
			out = append(out, toAddress(iface, a.Address, a.Label, a.Scope, "vrrp "+in.Name))
		}
	}
	return out
}

// CompileSyncDaemons is the IPVS connection sync daemon the model wants,
// given the VRRP states (none without lvs_sync_daemon, or when VRRP runs
// elsewhere: f.VRRP nil). keepalived's rule (vrrp.c): the master daemon
// while the followed instance is MASTER, the backup daemon otherwise (at
// start, in BACKUP and in FAULT), never both; none once the instance
// stopped (lbx watch's shutdown: keepalived stops the daemon it ran, it
// does not start a backup on the way out).
func CompileSyncDaemons(m *Model, f Facts) []state.SyncDaemon {
	s := m.Global.LVSSyncDaemon
	if s == nil || f.VRRP == nil || f.VRRP[s.VRRPInstance] == "STOP" {
		return nil
	}
	d := state.SyncDaemon{Role: state.SyncBackup, Interface: s.Interface, MaxLen: s.MaxLen, Port: s.Port, TTL: s.TTL}
	if f.VRRP[s.VRRPInstance] == "MASTER" {
		d.Role = state.SyncMaster
	}
	if s.Group != nil {
		d.Group = s.Group.Addr
	}
	switch {
	case s.SyncID != nil:
		d.SyncID = *s.SyncID
	default:
		for _, in := range m.VRRPInstances {
			if in.Name == s.VRRPInstance {
				d.SyncID = in.VirtualRouterID
			}
		}
	}
	return []state.SyncDaemon{d}
}

// CompileServices is Compile limited to the services only: their settings
// and real servers, no addresses. The watch loop compiles a health
// transition's services alone (apply.ReconcileReals).
func CompileServices(m *Model, f Facts, only map[state.ServiceKey]bool) *Desired {
	d := &Desired{State: state.New(), Drain: map[state.ServiceKey]DrainPolicy{}}
	compileServices(d, m, f, only)
	return d
}

// compileServices adds the model's services to d (only those in only,
// when it is not nil).
func compileServices(d *Desired, m *Model, f Facts, only map[state.ServiceKey]bool) {
	var globalDrain int
	if m.Global.DrainTimeout != nil {
		globalDrain = int(m.Global.DrainTimeout.Seconds())
	}
	for _, vs := range m.VirtualServers {
		for _, key := range m.ServiceKeys(vs) {
			if only != nil && !only[key] {
				continue
			}
			svc := &state.Service{
				Key:         key,
				Scheduler:   DefaultScheduler,
				Flags:       schedFlagBits(vs),
				OnePacket:   vs.OnePacket,
				NetmaskBits: state.DefaultNetmaskBits(key.Family),
				Reals:       map[state.RealKey]state.Real{},
			}
			if vs.Scheduler != "" {
				svc.Scheduler = vs.Scheduler
			}
			if p := vs.Persistence; p != nil {
				svc.Timeout = uint32(DefaultPersistenceTimeout.Seconds())
				if p.Timeout != nil {
					svc.Timeout = uint32(p.Timeout.Seconds())
				}
				if p.Granularity != nil {
					svc.NetmaskBits = p.Granularity.Bits
				}
			}
			drain := globalDrain
			if vs.DrainTimeout != nil {
				drain = int(vs.DrainTimeout.Seconds())
			}
			if key.Protocol == state.UDP {
				drain = 0 // UDP has no connection end to wait for
			}
			d.Drain[key] = drainPolicy(vs, key, drain)
			compileReals(svc, vs, f)
			d.State.Services[key] = svc
		}
	}
}

func drainPolicy(vs *VirtualServer, svc state.ServiceKey, timeout int) DrainPolicy {
	if timeout == 0 {
		return DrainPolicy{}
	}
	declared := make(map[state.RealKey]bool, len(vs.RealServers)+1)
	for _, rs := range vs.RealServers {
		declared[EntryKey(vs, svc, rs.Key(vs), forwardingOf(rs.Forwarding, vs.Forwarding))] = true
	}
	if s := vs.SorryServer; s != nil {
		declared[EntryKey(vs, svc, s.Key(vs), forwardingOf(s.Forwarding, vs.Forwarding))] = true
	}
	return DrainPolicy{Timeout: timeout, Declared: declared}
}

func compileReals(svc *state.Service, vs *VirtualServer, f Facts) {
	upWeight := 0
	anyUp := false
	// With a sorry server: the real servers in at full weight, and whether
	// each is inhibited (a lost quorum takes them out).
	var alive map[state.RealKey]bool
	if vs.SorryServer != nil {
		alive = map[state.RealKey]bool{}
	}
	for _, rs := range vs.RealServers {
		fwd := forwardingOf(rs.Forwarding, vs.Forwarding)
		key := EntryKey(vs, svc.Key, rs.Key(vs), fwd)
		h, known := f.Health[RealID{Service: svc.Key, Real: rs.Key(vs)}]
		up, weight := Live(vs, rs, h, known)
		if f.Health == nil {
			up = true // one-shot: no checks run, every real server is in
		}
		inhibit := vs.InhibitOnFailure
		if rs.InhibitOnFailure != nil {
			inhibit = *rs.InhibitOnFailure
		}
		if !up && !inhibit {
			continue
		}
		if !up {
			weight = 0
		} else {
			anyUp = true
			upWeight += weight
			if alive != nil {
				alive[key] = inhibit
			}
		}
		svc.Reals[key] = realEntry(rs, key, fwd, weight)
	}
	if vs.SorryServer == nil {
		return
	}
	lost := !anyUp || upWeight < vs.Quorum.MinWeight()
	if ql, ok := f.QuorumLost[svc.Key]; f.QuorumLost != nil && ok {
		lost = ql
	}
	compileSorry(svc, vs, f, lost, alive)
}

// realEntry is the kernel's entry for a real server at weight.
func realEntry(rs *RealServer, key state.RealKey, fwd state.Forwarding, weight int) state.Real {
	r := state.Real{
		Key:            key,
		Weight:         weight,
		Forwarding:     fwd,
		UpperThreshold: rs.UpperThreshold,
		LowerThreshold: rs.LowerThreshold,
	}
	if t := rs.Tunnel; t != nil && r.Forwarding == state.TUN && t.Type != "" && t.Type != "ipip" {
		r.TunnelType, r.TunnelPort = t.Type, uint16(t.Port)
		if t.Checksum != "none" {
			r.TunnelChecksum = t.Checksum
		}
	}
	return r
}

// compileSorry puts in a service's sorry server when its quorum is lost,
// taking out (or inhibiting) the real servers alive, which map each to
// whether it is inhibited.
func compileSorry(svc *state.Service, vs *VirtualServer, f Facts, lost bool, alive map[state.RealKey]bool) {
	s := vs.SorryServer
	if lost {
		// keepalived: "Adding sorry server", then "Removing alive servers
		// from the pool" (checked in the test VM with 2.2.7); they come
		// back with the quorum. Inhibited ones stay at weight 0.
		for key, inhibit := range alive {
			if inhibit {
				r := svc.Reals[key]
				r.Weight = 0
				svc.Reals[key] = r
			} else {
				delete(svc.Reals, key)
			}
		}
	}
	// Not needed, the sorry server is out, or at weight 0 with inhibit
	// (keepalived's sorry_server_inhibit) under lbx watch; one-shot
	// commands leave it out.
	weight := 1
	if !lost {
		if !s.Inhibit || f.Health == nil {
			return
		}
		weight = 0
	}
	fwd := forwardingOf(s.Forwarding, vs.Forwarding)
	key := EntryKey(vs, svc.Key, s.Key(vs), fwd)
	svc.Reals[key] = state.Real{Key: key, Weight: weight, Forwarding: fwd}
}
func toAddress(iface string, p Prefix, label, scope, origin string) state.Address {
	if scope == "" {
		scope = "global"
	}
	if label == iface {
		label = "" // the kernel's default label is the interface name
	}
	return state.Address{
		Key:    state.AddressKey{Interface: iface, Addr: p.Addr()},
		Bits:   p.Bits(),
		Label:  label,
		Scope:  scope,
		Origin: origin,
	}
}

func addAddress(s *state.State, iface string, p Prefix, label, scope, origin string) {
	a := toAddress(iface, p, label, scope, origin)
	s.Addresses[a.Key] = a
}

// Describe names a real server for messages.
func Describe(id RealID) string { return checkspec.Describe(id) }

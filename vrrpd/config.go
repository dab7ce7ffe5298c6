// Package vrrpd runs VRRP virtual routers: it turns the model's
// vrrp_instances into protocol state machines (package fsm), feeds them
// packets, time and tracking events, and carries out their effects — raw
// sockets, gratuitous ARP / unsolicited NA, notify scripts — while addresses
// go through the caller's Reconciler (the project's one plan/apply path).
package vrrpd

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/internal/scriptpolicy"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/vrrpd/fsm"
)

// Instance is one virtual router's runtime configuration.
type Instance struct {
	FSM       fsm.Config
	Interface string
	// Addrs are the virtual addresses announced in adverts (and by GARP).
	Addrs []netip.Addr
	// Excluded are owned but neither advertised nor checked.
	Excluded     []netip.Addr
	V6           bool
	UnicastSrc   netip.Addr
	UnicastPeers []netip.Addr
	McastSrc     netip.Addr
	AuthPass     string // v2 PASS; "" = none
	Notify       model.Notify
	Group        string // sync group name, "" if none

	GarpDelay, GarpRefresh        time.Duration
	GarpRepeat, GarpRefreshRepeat int
}

// ScriptConfig is a vrrp_script as the runner needs it.
type ScriptConfig struct {
	Name       string
	Command    string
	Interval   time.Duration
	Timeout    time.Duration
	Rise, Fall int
	InitFail   bool
	Reverse    bool
	// User runs the script (its own user, else the default script user).
	User *script.User
}

// Config is everything the daemon runs.
type Config struct {
	Instances []*Instance
	Groups    []*model.SyncGroup
	Scripts   map[string]*ScriptConfig
	// Links are the tracked interfaces.
	Links []string
	// ScriptUser runs the notify scripts (internal/scriptpolicy: global
	// script_user, else keepalived_script, else root). Whether scripts
	// may run at all is scriptpolicy.Check's to say, before the daemon
	// is built.
	ScriptUser *script.User
}

func durOr(d *model.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return d.Duration
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// InstanceError is FromModel's refusal of one instance: which (its index
// in m.VRRPInstances, for a caller that knows the model's positions) and
// the field at fault.
type InstanceError struct {
	Index int
	Name  string
	Field string // e.g. "virtual_addresses"
	Msg   string
}

func (e *InstanceError) Error() string { return "vrrp_instance " + e.Name + ": " + e.Msg }

// FromModel builds the daemon's configuration from a validated model. It
// refuses what lbx does not run (AH authentication) with an error naming the
// instance and what to do.
func FromModel(m *model.Model) (*Config, error) {
	c := &Config{Groups: m.SyncGroups, Scripts: map[string]*ScriptConfig{}}
	def, _, err := scriptpolicy.Default(m)
	if err != nil {
		return nil, err
	}
	c.ScriptUser = def
	groupOf := map[string]string{}
	for _, g := range m.SyncGroups {
		for _, mb := range g.Members {
			groupOf[mb] = g.Name
		}
	}
	usedScripts := map[string]bool{}
	links := map[string]bool{}
	for i, in := range m.VRRPInstances {
		v := in.EffectiveVersion(m.Global)
		if a := in.Authentication; a != nil && a.Type == "AH" {
			return nil, &InstanceError{Index: i, Name: in.Name, Field: "authentication.type", Msg: "authentication AH is not supported (RFC 3768 removed it; keepalived's AH is not interoperable across versions): use PASS or none"}
		}
		x := &Instance{
			Interface: in.Interface,
			Group:     groupOf[in.Name],
			Notify:    in.Notify,
			FSM: fsm.Config{
				Name:          in.Name,
				VRID:          uint8(in.VirtualRouterID),
				Version:       v,
				Priority:      intOr(in.Priority, model.DefaultPriority),
				AdvertInt:     durOr(in.AdvertInt, model.DefaultAdvertInt),
				Preempt:       !in.NoPreempt,
				PreemptDelay:  durOr(in.PreemptDelay, 0),
				InitialMaster: in.State == "MASTER",
			},
			GarpDelay:         durOr(in.GarpMasterDelay, durOr(m.Global.VRRPGarpMasterDelay, model.DefaultGarpMasterDelay)),
			GarpRepeat:        intOr(in.GarpMasterRepeat, intOr(m.Global.VRRPGarpMasterRepeat, model.DefaultGarpMasterRepeat)),
			GarpRefresh:       durOr(in.GarpMasterRefresh, durOr(m.Global.VRRPGarpMasterRefresh, model.DefaultGarpMasterRefresh)),
			GarpRefreshRepeat: intOr(in.GarpMasterRefreshRepeat, model.DefaultGarpRefreshRepeat),
		}
		if a := in.Authentication; a != nil && a.Type == "PASS" {
			x.AuthPass = a.Pass
		}
		for _, a := range in.VirtualAddresses {
			x.Addrs = append(x.Addrs, a.Address.Addr())
			x.V6 = a.Address.Addr().Is6()
		}
		for _, a := range in.VirtualAddressesExcluded {
			x.Excluded = append(x.Excluded, a.Address.Addr())
		}
		if len(x.Addrs) == 0 {
			return nil, &InstanceError{Index: i, Name: in.Name, Field: "virtual_addresses", Msg: "no virtual_addresses; an advertisement needs at least one: add one (those of virtual_addresses_excluded are not advertised)"}
		}
		if in.UnicastSrcIP != nil {
			x.UnicastSrc = in.UnicastSrcIP.Addr
		}
		if in.McastSrcIP != nil {
			x.McastSrc = in.McastSrcIP.Addr
		}
		for _, p := range in.UnicastPeers {
			x.UnicastPeers = append(x.UnicastPeers, p.Addr)
		}
		// keepalived tracks the instance's own interface: down means FAULT.
		x.FSM.Tracks = append(x.FSM.Tracks, fsm.Track{Key: interfaceKey(in.Interface)})
		// And the address it sends from, unless given: none on the
		// interface (at start, or removed later) means FAULT too.
		if tracksSource(x) {
			x.FSM.Tracks = append(x.FSM.Tracks, fsm.Track{Key: sourceKey(in.Interface, x.V6)})
		}
		links[in.Interface] = true
		for _, t := range in.TrackInterfaces {
			x.FSM.Tracks = append(x.FSM.Tracks, fsm.Track{Key: interfaceKey(t.Name), Weight: t.Weight})
			links[t.Name] = true
		}
		for _, t := range in.TrackScripts {
			s := m.Scripts[t.Name]
			w := s.Weight
			if t.Weight != nil {
				w = *t.Weight
			}
			x.FSM.Tracks = append(x.FSM.Tracks, fsm.Track{Key: scriptKey(t.Name), Weight: w})
			usedScripts[t.Name] = true
		}
		c.Instances = append(c.Instances, x)
	}
	for name := range usedScripts {
		s := m.Scripts[name]
		u, err := scriptpolicy.UserOf(s.User, s.Group, def)
		if err != nil {
			return nil, fmt.Errorf("vrrp_script %s: %v", name, err)
		}
		c.Scripts[name] = &ScriptConfig{
			User:     u,
			Name:     name,
			Command:  s.Script,
			Interval: durOr(s.Interval, model.DefaultScriptInterval),
			Timeout:  durOr(s.Timeout, durOr(s.Interval, model.DefaultScriptInterval)),
			Rise:     intOr(s.Rise, model.DefaultScriptRise),
			Fall:     intOr(s.Fall, model.DefaultScriptFall),
			InitFail: s.InitFail,
			Reverse:  s.Reverse,
		}
	}
	for l := range links {
		c.Links = append(c.Links, l)
	}
	return c, nil
}

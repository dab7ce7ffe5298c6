// Package vrrpd runs VRRP virtual routers: it turns the model's
// vrrp_instances into protocol state machines (package fsm), feeds them
// packets, time and tracking events, and carries out their effects —
// adverts, gratuitous ARP / unsolicited NA, notify scripts — while addresses
// go through the caller's Reconciler (the project's one plan/apply path).
//
// The Daemon is one event loop (Run) that owns every machine. It reaches
// the world through two seams: a clock (Options.Clock, internal/clock) and
// a Transport (Options.Transport: the VRRP socket of each link and family,
// the GARP/NA senders, the kernel's link and address events). Left nil they
// are the system clock and the kernel's raw sockets and netlink (net.go,
// garp.go, netwatch.go); tests pass clocktest.Fake and vrrptest.Transport
// and run the whole runtime without root and without real time.
//
// Files: config.go (the model to Config), daemon.go (the loop and the
// effects), daemon_reload.go and reload.go (a reload as a diff), link.go
// (a link's source address and own-packet filter), track.go (tracked
// objects as typed keys, script runners), status.go (what the loop
// publishes).
package vrrpd

import (
	"errors"
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
	// PromoteSecondaries: set promote_secondaries on Interface while the
	// daemon runs (promote.go).
	PromoteSecondaries bool
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
	links := map[string]bool{}
	for i, in := range m.VRRPInstances {
		x, err := instanceOf(m, i, in)
		if err != nil {
			return nil, err
		}
		x.Group = groupOf[in.Name]
		c.Instances = append(c.Instances, x)
		// What the instances track is what the daemon watches and runs.
		for _, t := range x.FSM.Tracks {
			switch t.Key.Kind {
			case TrackInterface:
				links[t.Key.Name] = true
			case TrackScript:
				if c.Scripts[t.Key.Name] == nil {
					if c.Scripts[t.Key.Name], err = scriptOf(t.Key.Name, m.Scripts[t.Key.Name], def); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	for l := range links {
		c.Links = append(c.Links, l)
	}
	return c, nil
}

// instanceOf builds the i-th instance of m, its tracks included.
func instanceOf(m *model.Model, i int, in *model.VRRPInstance) (*Instance, error) {
	if a := in.Authentication; a != nil && a.Type == "AH" {
		return nil, &InstanceError{Index: i, Name: in.Name, Field: "authentication.type", Msg: "authentication AH is not supported (RFC 3768 removed it; keepalived's AH is not interoperable across versions): use PASS or none"}
	}
	x := &Instance{
		Interface: in.Interface,
		Notify:    in.Notify,
		FSM: fsm.Config{
			Name:          in.Name,
			VRID:          uint8(in.VirtualRouterID),
			Version:       in.EffectiveVersion(m.Global),
			Priority:      intOr(in.Priority, model.DefaultPriority),
			AdvertInt:     durOr(in.AdvertInt, model.DefaultAdvertInt),
			Preempt:       !in.NoPreempt,
			PreemptDelay:  durOr(in.PreemptDelay, 0),
			InitialMaster: in.State == "MASTER",
		},
		GarpDelay:          durOr(in.GarpMasterDelay, durOr(m.Global.VRRPGarpMasterDelay, model.DefaultGarpMasterDelay)),
		GarpRepeat:         intOr(in.GarpMasterRepeat, intOr(m.Global.VRRPGarpMasterRepeat, model.DefaultGarpMasterRepeat)),
		GarpRefresh:        durOr(in.GarpMasterRefresh, durOr(m.Global.VRRPGarpMasterRefresh, model.DefaultGarpMasterRefresh)),
		GarpRefreshRepeat:  intOr(in.GarpMasterRefreshRepeat, model.DefaultGarpRefreshRepeat),
		PromoteSecondaries: in.PromoteSecondaries,
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
	if in.UnicastSrcIP != nil {
		x.UnicastSrc = in.UnicastSrcIP.Addr
	}
	if in.McastSrcIP != nil {
		x.McastSrc = in.McastSrcIP.Addr
	}
	for _, p := range in.UnicastPeers {
		x.UnicastPeers = append(x.UnicastPeers, p.Addr)
	}
	if err := addressless(x, m.Global.VRRPStrict); err != nil {
		return nil, &InstanceError{Index: i, Name: in.Name, Field: "virtual_addresses", Msg: err.Error()}
	}
	x.FSM.Tracks = tracksFor(x, in, m.Scripts)
	return x, nil
}

// addressless refuses an instance without virtual addresses where
// keepalived 2.2.7 does (vrrp_complete_instance: "No VIP specified; at
// least one is required" for VRRPv3, IPv6 or strict mode). A VRRPv2 IPv4
// instance without any runs, as in keepalived ("at least one is
// sensible"): its adverts carry none, and it drives notify scripts only.
func addressless(x *Instance, strict bool) error {
	if len(x.Addrs) > 0 {
		return nil
	}
	v6 := x.UnicastSrc.Is6() || x.McastSrc.Is6() || len(x.UnicastPeers) > 0 && x.UnicastPeers[0].Is6()
	if x.FSM.Version == 3 || v6 || strict {
		return errors.New("no virtual_addresses; VRRPv3, IPv6 and vrrp_strict instances need at least one, as in keepalived: add one (those of virtual_addresses_excluded are not advertised)")
	}
	return nil
}

// tracksFor is what instance x (in, in the model) tracks, in order: its
// own interface (keepalived tracks it: down means FAULT), the address it
// sends from unless given (none means FAULT too), then its
// track_interfaces and track_scripts.
func tracksFor(x *Instance, in *model.VRRPInstance, scripts map[string]*model.Script) []fsm.Track {
	tracks := []fsm.Track{{Key: interfaceKey(in.Interface)}}
	if tracksSource(x) {
		tracks = append(tracks, fsm.Track{Key: sourceKey(in.Interface, x.V6)})
	}
	for _, t := range in.TrackInterfaces {
		tracks = append(tracks, fsm.Track{Key: interfaceKey(t.Name), Weight: t.Weight})
	}
	for _, t := range in.TrackScripts {
		w := scripts[t.Name].Weight
		if t.Weight != nil {
			w = *t.Weight
		}
		tracks = append(tracks, fsm.Track{Key: scriptKey(t.Name), Weight: w})
	}
	return tracks
}

// scriptOf is a tracked vrrp_script as its runner needs it; def is the
// default script user.
func scriptOf(name string, s *model.Script, def *script.User) (*ScriptConfig, error) {
	u, err := scriptpolicy.UserOf(s.User, s.Group, def)
	if err != nil {
		return nil, fmt.Errorf("vrrp_script %s: %v", name, err)
	}
	return &ScriptConfig{
		User:     u,
		Name:     name,
		Command:  s.Script,
		Interval: durOr(s.Interval, model.DefaultScriptInterval),
		Timeout:  durOr(s.Timeout, durOr(s.Interval, model.DefaultScriptInterval)),
		Rise:     intOr(s.Rise, model.DefaultScriptRise),
		Fall:     intOr(s.Fall, model.DefaultScriptFall),
		InitFail: s.InitFail,
		Reverse:  s.Reverse,
	}, nil
}

// Package vrrpmodel turns a validated model's vrrp_instances, sync groups
// and vrrp_scripts into vrrpd's configuration, with keepalived's defaults
// and refusals. vrrpd itself does not know the model (nor link its YAML
// decoder), as lbx-check does not (check/checkmodel): a process that runs
// only VRRP can be handed a vrrpd.Config ready-made.
package vrrpmodel

import (
	"errors"
	"fmt"
	"time"

	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/internal/scriptpolicy"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/vrrpd"
	"github.com/lbx-dev/lbx/vrrpd/fsm"
)

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
func FromModel(m *model.Model) (*vrrpd.Config, error) {
	c := &vrrpd.Config{Scripts: map[string]*vrrpd.ScriptConfig{}}
	for _, g := range m.SyncGroups {
		c.Groups = append(c.Groups, &vrrpd.SyncGroup{Name: g.Name, Members: g.Members, Notify: notifyOf(g.Notify)})
	}
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
			case vrrpd.TrackInterface:
				links[t.Key.Name] = true
			case vrrpd.TrackScript:
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
func instanceOf(m *model.Model, i int, in *model.VRRPInstance) (*vrrpd.Instance, error) {
	if a := in.Authentication; a != nil && a.Type == "AH" {
		return nil, &InstanceError{Index: i, Name: in.Name, Field: "authentication.type", Msg: "authentication AH is not supported (RFC 3768 removed it; keepalived's AH is not interoperable across versions): use PASS or none"}
	}
	x := &vrrpd.Instance{
		Interface: in.Interface,
		Notify:    notifyOf(in.Notify),
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
func addressless(x *vrrpd.Instance, strict bool) error {
	if len(x.Addrs) > 0 {
		return nil
	}
	v6 := x.UnicastSrc.Is6() || x.McastSrc.Is6() || len(x.UnicastPeers) > 0 && x.UnicastPeers[0].Is6()
	if x.FSM.Version == 3 || v6 || strict {
		return errors.New("no virtual_addresses; VRRPv3, IPv6 and vrrp_strict instances need at least one, as in keepalived: add one (those of virtual_addresses_excluded are not advertised)")
	}
	return nil
}

// tracksFor is what instance x (in, in the model) tracks: vrrpd.Tracks
// of its track_interfaces and track_scripts, each script's weight its own
// unless the instance gives one.
func tracksFor(x *vrrpd.Instance, in *model.VRRPInstance, scripts map[string]*model.Script) []fsm.Track {
	var links, scr []vrrpd.Weighted
	for _, t := range in.TrackInterfaces {
		links = append(links, vrrpd.Weighted{Name: t.Name, Weight: t.Weight})
	}
	for _, t := range in.TrackScripts {
		w := scripts[t.Name].Weight
		if t.Weight != nil {
			w = *t.Weight
		}
		scr = append(scr, vrrpd.Weighted{Name: t.Name, Weight: w})
	}
	return vrrpd.Tracks(x, links, scr)
}

func notifyOf(n model.Notify) vrrpd.Notify {
	return vrrpd.Notify{Master: n.Master, Backup: n.Backup, Fault: n.Fault, Stop: n.Stop, Any: n.Any}
}

// scriptOf is a tracked vrrp_script as its runner needs it; def is the
// default script user.
func scriptOf(name string, s *model.Script, def *script.User) (*vrrpd.ScriptConfig, error) {
	u, err := scriptpolicy.UserOf(s.User, s.Group, def)
	if err != nil {
		return nil, fmt.Errorf("vrrp_script %s: %v", name, err)
	}
	return &vrrpd.ScriptConfig{
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

package modelview

import (
	"time"

	"github.com/lbx-dev/lbx/check/checkmodel"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// The effective values of each kind of object: what the daemon runs, as
// vrrpmodel.FromModel, checkmodel.Targets and lbx watch's engine resolve
// the model. Each function returns a copy; the model is never changed.

// instanceOf is in as the VRRP daemon runs it (vrrpmodel.instanceOf):
// keepalived's defaults and the global VRRP settings filled in, each
// virtual address on its interface, each tracked script's weight resolved.
func instanceOf(m *model.Model, in *model.VRRPInstance) *model.VRRPInstance {
	g := m.Global
	e := *in
	e.State = or(in.State, model.InitialStates[1])
	e.Priority = intOr(in.Priority, model.DefaultPriority)
	e.AdvertInt = durOr(in.AdvertInt, model.DefaultAdvertInt)
	v := in.EffectiveVersion(g)
	e.Version = &v
	e.PreemptDelay = durOr(in.PreemptDelay, 0)
	e.GarpMasterDelay = durOr(first(in.GarpMasterDelay, g.VRRPGarpMasterDelay), model.DefaultGarpMasterDelay)
	e.GarpMasterRepeat = intOr(first(in.GarpMasterRepeat, g.VRRPGarpMasterRepeat), model.DefaultGarpMasterRepeat)
	e.GarpMasterRefresh = durOr(first(in.GarpMasterRefresh, g.VRRPGarpMasterRefresh), model.DefaultGarpMasterRefresh)
	e.GarpMasterRefreshRepeat = intOr(in.GarpMasterRefreshRepeat, model.DefaultGarpRefreshRepeat)
	e.VirtualAddresses = addressesOf(in.VirtualAddresses, in.Interface)
	e.VirtualAddressesExcluded = addressesOf(in.VirtualAddressesExcluded, in.Interface)
	e.VirtualRoutes = routesOf(in.VirtualRoutes)
	e.TrackScripts = nil
	for _, t := range in.TrackScripts {
		if t == nil {
			continue
		}
		w := t.Weight
		if s := m.Scripts[t.Name]; w == nil && s != nil {
			w = &s.Weight
		}
		e.TrackScripts = append(e.TrackScripts, &model.TrackScript{Name: t.Name, Weight: intOr(w, 0)})
	}
	return &e
}

// addressesOf are virtual addresses with their interface (default the
// instance's) and scope filled in.
func addressesOf(as []*model.VirtualAddress, iface string) []*model.VirtualAddress {
	var out []*model.VirtualAddress
	for _, a := range as {
		if a == nil {
			continue
		}
		e := *a
		e.Interface = or(a.Interface, iface)
		e.Scope = or(a.Scope, model.AddressScopes[0])
		out = append(out, &e)
	}
	return out
}

// routesOf are routes with their type and table filled in.
func routesOf(rs []*model.Route) []*model.Route {
	var out []*model.Route
	for _, r := range rs {
		if r == nil {
			continue
		}
		e := *r
		e.Type = or(r.Type, state.RouteUnicast)
		e.Table = intOr(r.Table, state.TableMain)
		out = append(out, &e)
	}
	return out
}

// trackedScripts are the scripts some instance tracks: the daemon runs
// those only (vrrpmodel.FromModel).
func trackedScripts(m *model.Model) map[string]*model.Script {
	out := map[string]*model.Script{}
	for _, in := range m.VRRPInstances {
		if in == nil {
			continue
		}
		for _, t := range in.TrackScripts {
			if t != nil && m.Scripts[t.Name] != nil {
				out[t.Name] = m.Scripts[t.Name]
			}
		}
	}
	return out
}

// scriptOf is s as its runner runs it (vrrpd.scriptOf): timeout defaults
// to the interval, a script naming no user runs as the global script
// user. Its weight is not here: each instance's track_scripts has the
// weight in force.
func scriptOf(g model.Global, s *model.Script) *model.Script {
	e := *s
	e.Weight = 0
	e.Interval = durOr(s.Interval, model.DefaultScriptInterval)
	e.Timeout = durOr(s.Timeout, e.Interval.Duration)
	e.Rise = intOr(s.Rise, model.DefaultScriptRise)
	e.Fall = intOr(s.Fall, model.DefaultScriptFall)
	if s.User == "" {
		e.User, e.Group = g.ScriptUser, g.ScriptGroup
	}
	return &e
}

// serviceHealth is what of a virtual server the daemon uses for the
// service as a whole (its checks' defaults are in each check). Values
// only, so that it compares with ==.
type serviceHealth struct {
	Quorum    model.Quorum `yaml:"quorum"`
	Omega     bool         `yaml:"omega,omitempty"`
	HASuspend bool         `yaml:"ha_suspend,omitempty"`
}

func healthOf(vs *model.VirtualServer) serviceHealth {
	h := serviceHealth{Omega: vs.Omega, HASuspend: vs.HASuspend}
	if vs.Quorum != nil {
		h.Quorum = *vs.Quorum
	}
	h.Quorum.Min = vs.Quorum.MinWeight()
	return h
}

// realChecks is what of a real server only the daemon uses.
type realChecks struct {
	Checks           []*model.Check `yaml:"checks,omitempty"`
	NotifyUp         string         `yaml:"notify_up,omitempty"`
	NotifyDown       string         `yaml:"notify_down,omitempty"`
	InhibitOnFailure bool           `yaml:"inhibit_on_failure,omitempty"`
	Alpha            bool           `yaml:"alpha,omitempty"`
}

// checkSet builds each real server's checks once for the whole view (a
// group's real server is listed under each service of the group).
type checkSet struct {
	b    *checkmodel.Builder
	done map[*model.RealServer][]*model.Check
}

func checksOf(m *model.Model) *checkSet {
	return &checkSet{b: checkmodel.NewBuilder(m), done: map[*model.RealServer][]*model.Check{}}
}

// of is rs's health checking, its checks' effective values filled in.
func (cs *checkSet) of(m *model.Model, vs *model.VirtualServer, rs *model.RealServer) realChecks {
	r := realChecks{NotifyUp: rs.NotifyUp, NotifyDown: rs.NotifyDown, Alpha: vs.Alpha, InhibitOnFailure: vs.InhibitOnFailure}
	if rs.InhibitOnFailure != nil {
		r.InhibitOnFailure = *rs.InhibitOnFailure
	}
	r.Checks = cs.effective(vs, rs)
	return r
}

// effective are rs's checks as the checker runs them
// (checkmodel.Builder). A check that does not build (an unknown user, a
// bad payload: the daemon refuses such a model) leaves the real server's
// checks as written.
func (cs *checkSet) effective(vs *model.VirtualServer, rs *model.RealServer) []*model.Check {
	if out, ok := cs.done[rs]; ok {
		return out
	}
	var out []*model.Check
	for _, c := range rs.Checks {
		if c == nil {
			continue
		}
		_, e, err := cs.b.Build(vs, rs, c)
		if err != nil {
			out = rs.Checks
			break
		}
		out = append(out, checkOf(e))
	}
	cs.done[rs] = out
	return out
}

// checkOf is an effective check as the view shows it: with HTTP's
// defaults, which the checker applies as it probes.
func checkOf(e model.Check) *model.Check {
	if e.Type == "http_get" || e.Type == "ssl_get" {
		e.HTTPVersion = or(e.HTTPVersion, model.HTTPVersions[0])
		urls := e.URLs
		e.URLs = nil
		for _, u := range urls {
			if u == nil {
				continue
			}
			x := *u
			x.Virtualhost = or(u.Virtualhost, e.Virtualhost)
			if len(x.StatusCodes) == 0 {
				x.StatusCodes = []string{model.DefaultHTTPStatus}
			}
			e.URLs = append(e.URLs, &x)
		}
	}
	return &e
}

// syncDaemonOf is the sync daemon with its sync id filled in: absent, the
// followed instance's virtual_router_id (keepalived).
func syncDaemonOf(m *model.Model, d *model.LVSSyncDaemon) *model.LVSSyncDaemon {
	e := *d
	if e.SyncID == nil {
		for _, in := range m.VRRPInstances {
			if in != nil && in.Name == d.VRRPInstance {
				e.SyncID = &in.VirtualRouterID
			}
		}
	}
	return &e
}

// globalOf is what of the global settings the daemon itself uses, with
// their defaults: the sync daemon is its own object, drains are apply's,
// and the VRRP defaults are in each instance that inherits them.
func globalOf(g model.Global) model.Global {
	g.LVSSyncDaemon, g.DrainTimeout = nil, nil
	g.VRRPGarpMasterDelay, g.VRRPGarpMasterRepeat, g.VRRPGarpMasterRefresh, g.VRRPVersion = nil, nil, nil, nil
	g.ResyncInterval = durOr(g.ResyncInterval, model.DefaultResyncInterval)
	g.IPVSOnStop = or(g.IPVSOnStop, model.IPVSOnStopModes[0])
	if g.EnableScriptSecurity != nil && !*g.EnableScriptSecurity {
		g.EnableScriptSecurity = nil // false is the default
	}
	return g
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func first[T any](own, inherited *T) *T {
	if own != nil {
		return own
	}
	return inherited
}

func intOr(p *int, def int) *int {
	if p != nil {
		return p
	}
	return &def
}

func durOr(d *model.Duration, def time.Duration) *model.Duration {
	if d != nil {
		return d
	}
	return &model.Duration{Duration: def}
}

// Package lvsrules holds keepalived's rules that `lbx watch` follows to
// decide what the kernel should hold and which scripts to run, as pure
// functions of the model, the VRRP states, the real servers' health and
// the previous decision: quorum with hysteresis (which puts the sorry
// server in), real server notify_up/notify_down, quorum_up/quorum_down,
// the scripts of a reload that removes real servers and of omega at a
// stop, and ha_suspend.
//
// Nothing here locks, waits, starts a goroutine or reads a clock: the
// engine (package watch) holds the facts, calls these rules under its
// lock and does the I/O. The compile of those facts into the desired
// kernel state stays in model.Compile (with model.Live, the per real
// server rule that inhibit_on_failure and alpha decide); these rules give
// it Facts.QuorumLost.
package lvsrules

import (
	"net/netip"
	"slices"

	"github.com/lbx-dev/lbx/metrics"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// Script is one notify_up/notify_down or quorum script to run: Kind is
// its lbx_scripts_dropped_total kind (metrics.Script*), Cmd its command
// line for /bin/sh -c.
type Script struct{ Kind, Cmd string }

// Health is the health held per real server of a service (absent: no
// checker reported on it).
type Health = map[model.RealID]model.Health

// Transition is one real server's new health, as a checker reports it.
type Transition struct {
	ID     model.RealID
	Health model.Health
}

// RealServerOf finds the model's real server behind id, and its virtual
// server (nil: none).
func RealServerOf(m *model.Model, id model.RealID) (*model.VirtualServer, *model.RealServer) {
	// The real server first: ServiceKeys expands groups, only worth it
	// for a virtual server that has this destination.
	for _, vs := range m.VirtualServers {
		for _, rs := range vs.RealServers {
			if rs.Key(vs) == id.Real && slices.Contains(m.ServiceKeys(vs), id.Service) {
				return vs, rs
			}
		}
	}
	return nil, nil
}

// live is model.Live of real server rs of vs in service key, with health.
func live(health Health, vs *model.VirtualServer, key state.ServiceKey, rs *model.RealServer) (up bool, weight int) {
	h, known := health[model.RealID{Service: key, Real: rs.Key(vs)}]
	return model.Live(vs, rs, h, known)
}

// NotifyScripts are the real servers' notify_up / notify_down for the
// transitions ts, given the health held before them: only for a real
// server that goes up or down (a misc_dynamic weight change is no
// transition, as in keepalived), once per real server of the model (a
// group's real server is reported under each of its services).
func NotifyScripts(m *model.Model, before Health, ts []Transition) []Script {
	var out []Script
	seen := map[*model.RealServer]bool{}
	for _, t := range ts {
		vs, rs := RealServerOf(m, t.ID)
		if rs == nil || seen[rs] {
			continue
		}
		h, known := before[t.ID]
		was, _ := model.Live(vs, rs, h, known)
		now, _ := model.Live(vs, rs, t.Health, true)
		switch {
		case was == now:
			continue
		case now && rs.NotifyUp != "":
			out = append(out, Script{metrics.ScriptNotifyUp, rs.NotifyUp})
		case !now && rs.NotifyDown != "":
			out = append(out, Script{metrics.ScriptNotifyDown, rs.NotifyDown})
		}
		seen[rs] = true
	}
	return out
}

// SuspendedReals is keepalived's ha_suspend: the real servers of a virtual
// server with ha_suspend are not checked while its address belongs to a
// VRRP instance that is not MASTER here (the address is not on this
// director). Addresses no instance holds are never suspended.
func SuspendedReals(m *model.Model, vrrp map[string]string) map[model.RealID]bool {
	holder := map[netip.Addr]string{}
	for _, in := range m.VRRPInstances {
		for _, a := range in.VirtualAddresses {
			holder[a.Address.Addr()] = in.Name
		}
	}
	out := map[model.RealID]bool{}
	for _, vs := range m.VirtualServers {
		if !vs.HASuspend {
			continue
		}
		for _, key := range m.ServiceKeys(vs) {
			name, ok := holder[key.Addr]
			if !ok || vrrp[name] == "MASTER" {
				continue
			}
			for _, rs := range vs.RealServers {
				out[model.RealID{Service: key, Real: rs.Key(vs)}] = true
			}
		}
	}
	return out
}

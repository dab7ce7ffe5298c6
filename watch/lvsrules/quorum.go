package lvsrules

import (
	"github.com/lbx-dev/lbx/metrics"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// QuorumLost is each service's quorum decision: true when it lost quorum
// (the compile then puts its sorry server in; model.Facts.QuorumLost).
type QuorumLost = map[state.ServiceKey]bool

// QuorumChange is one service's quorum decision changing, for the log.
type QuorumChange struct {
	Service        state.ServiceKey
	Lost           bool
	Weight, Quorum int
	AtStart        bool // the service's first sight (at start or new in a reload)
}

// Step is keepalived's quorum rule with hysteresis: a service that has
// quorum loses it below quorum−hysteresis; one that lost it regains it at
// quorum+hysteresis.
func Step(lost bool, weight, quorum, hysteresis int) bool {
	if lost {
		return weight < quorum+hysteresis
	}
	return weight < quorum-hysteresis
}

// Quorum recomputes each service's quorum from health and the previous
// decision prev, and returns the next decision, the quorum_up/quorum_down
// scripts to run and the changes to log. Scripts run once per virtual
// server (a group's services cross together, and keepalived runs a
// group's script once): on a crossing, and at a service's first sight as
// keepalived 2.2.7 does (checked in the test VM, scenario
// watch-quorum-parity): a service starts without quorum and gains it at
// quorum+hysteresis ("Gained quorum": up_script); below that, with a
// sorry server, it starts lost ("Starting with quorum down": down_script,
// the sorry server in); without one it just waits (not logged). Services
// no longer in the model are forgotten.
func Quorum(m *model.Model, health Health, prev QuorumLost) (QuorumLost, []Script, []QuorumChange) {
	var scripts []Script
	var changes []QuorumChange
	next := make(QuorumLost, len(prev))
	for _, vs := range m.VirtualServers {
		q, hyst := vs.Quorum.MinWeight(), 0
		if vs.Quorum != nil {
			hyst = vs.Quorum.Hysteresis
		}
		ran := false
		for _, key := range m.ServiceKeys(vs) {
			weight := serviceWeight(health, vs, key)
			was, seen := prev[key]
			if !seen {
				was = true
			}
			now := Step(was, weight, q, hyst)
			next[key] = now
			startsLost := !seen && now && vs.SorryServer != nil
			if was == now && !startsLost {
				continue
			}
			if seen || now {
				changes = append(changes, QuorumChange{Service: key, Lost: now, Weight: weight, Quorum: q, AtStart: !seen})
			}
			if vs.Quorum == nil || ran {
				continue
			}
			ran = true
			if s, ok := quorumScript(vs.Quorum, now); ok {
				scripts = append(scripts, s)
			}
		}
	}
	return next, scripts, changes
}

// serviceWeight is the weight of the real servers of vs in service key
// that are live with health.
func serviceWeight(health Health, vs *model.VirtualServer, key state.ServiceKey) int {
	weight := 0
	for _, rs := range vs.RealServers {
		if up, w := live(health, vs, key, rs); up {
			weight += w
		}
	}
	return weight
}

// quorumScript is q's down_script when quorum is lost, its up_script when
// gained (false: none set).
func quorumScript(q *model.Quorum, lost bool) (Script, bool) {
	if lost {
		return Script{metrics.ScriptQuorumDown, q.DownScript}, q.DownScript != ""
	}
	return Script{metrics.ScriptQuorumUp, q.UpScript}, q.UpScript != ""
}

// ReloadScripts are the scripts keepalived runs when a reload from old to
// next removes real servers (clear_diff_services), omega or not, since
// the removal is no shutdown: the notify_down of each removed real server
// that was up and, for a virtual server removed whole, its quorum_down if
// it had quorum (lost: the decision under old). A kept service that loses
// quorum by the removal runs its quorum_down from Quorum under the new
// model, once (keepalived may run it twice, for its old and its new copy).
func ReloadScripts(old, next *model.Model, health Health, lost QuorumLost) []Script {
	kept := map[state.ServiceKey]*model.VirtualServer{}
	for _, vs := range next.VirtualServers {
		for _, k := range next.ServiceKeys(vs) {
			kept[k] = vs
		}
	}
	var out []Script
	for _, vs := range old.VirtualServers {
		var nvs *model.VirtualServer
		for _, k := range old.ServiceKeys(vs) {
			if nvs = kept[k]; nvs != nil {
				break
			}
		}
		if nvs == nil {
			out = append(out, downScripts(old, health, lost, vs, true, nil)...)
			continue
		}
		stays := map[state.RealKey]bool{}
		for _, rs := range nvs.RealServers {
			stays[rs.Key(nvs)] = true
		}
		out = append(out, downScripts(old, health, lost, vs, false, func(rs *model.RealServer) bool { return !stays[rs.Key(vs)] })...)
	}
	return out
}

// OmegaScripts are keepalived's omega, for a stop that removes the
// services (keepalived runs it when it clears them): for each virtual
// server with omega, its quorum_down if it has quorum now, and the
// notify_down of each of its real servers that is up, once each (a group
// is one virtual server).
func OmegaScripts(m *model.Model, health Health, lost QuorumLost) []Script {
	var out []Script
	for _, vs := range m.VirtualServers {
		if vs.Omega {
			out = append(out, downScripts(m, health, lost, vs, true, nil)...)
		}
	}
	return out
}

// downScripts are the scripts of vs of m going down: with quorum, its
// quorum_down if it has quorum now; and the notify_down of each real
// server that gone selects (nil: all) and that is up with health.
func downScripts(m *model.Model, health Health, lost QuorumLost, vs *model.VirtualServer, quorum bool, gone func(*model.RealServer) bool) []Script {
	keys := m.ServiceKeys(vs)
	if len(keys) == 0 {
		return nil
	}
	var out []Script
	if q := vs.Quorum; quorum && q != nil && q.DownScript != "" && !lost[keys[0]] {
		out = append(out, Script{metrics.ScriptQuorumDown, q.DownScript})
	}
	for _, rs := range vs.RealServers {
		if gone != nil && !gone(rs) {
			continue
		}
		if up, _ := live(health, vs, keys[0], rs); up && rs.NotifyDown != "" {
			out = append(out, Script{metrics.ScriptNotifyDown, rs.NotifyDown})
		}
	}
	return out
}

// Package daemonview is the part of a model that only `lbx watch` carries
// out — VRRP instances, tracking scripts, sync groups, health checks, the
// IPVS sync daemon and the daemon's global settings — as canonical objects
// of effective values, and the pure diff between two such views.
//
// The daemon publishes the view of the model in force on its status
// socket (statusd.Status.DaemonModel, for a client that asks for it);
// `lbx plan` diffs it against the new file's view and `lbx apply` diffs
// the view before a reload against the one after it: kernel objects are
// planned by package plan, these are the rest, which plan and apply would
// otherwise report as "No changes".
//
// The view holds what the daemon runs, not what the file says: keepalived's
// defaults and inheritance are applied (effective.go), so that two models
// that run identically give equal views (advert_int left out or written
// as 1s; a check's delay_loop inherited from its virtual server or written
// on the check) and two that run differently give different ones.
package daemonview

import (
	"sort"

	"github.com/lbx-dev/lbx/model"
)

// Kinds of daemon-owned object (Object.Kind).
const (
	KindVRRPInstance = "vrrp_instance"
	// KindVRRPScript is a tracking script some instance tracks (the
	// daemon runs no other).
	KindVRRPScript = "vrrp_script"
	KindSyncGroup  = "sync_group"
	// KindChecks is a real server's health checking: its checks, notify
	// scripts, alpha and inhibit_on_failure.
	KindChecks = "real_server_checks"
	// KindServiceHealth is a virtual server's health settings: quorum,
	// omega, ha_suspend (left out while all are keepalived's defaults).
	KindServiceHealth = "virtual_server_health"
	KindSyncDaemon    = "lvs_sync_daemon"
	// KindGlobal is the daemon's global settings (script user, resync
	// interval, ipvs_on_stop...; left out while all are the defaults).
	// The global VRRP defaults are not in it but in each instance, which
	// is where they take effect.
	KindGlobal = "watch_global"
)

// Object is one daemon-owned object. Settings are its effective values
// under the model's names and in its formats (durations "1s", addresses
// as text), as lbx export writes them; unset fields without a default are
// absent. That makes the view canonical: models that run alike give the
// same view, and a view survives a JSON round trip unchanged (see Equal).
type Object struct {
	Address  string         `json:"address"` // "vrrp_instance.VI_1", "real_server_checks.tcp/10.0.0.1:80/10.1.0.2:80"
	Kind     string         `json:"kind"`
	Settings map[string]any `json:"settings"`
}

// Of is m's daemon-owned view, ordered by address.
func Of(m *model.Model) []Object {
	var out []Object
	add := func(kind, name string, v any) {
		if s := settingsOf(v); len(s) > 0 {
			out = append(out, Object{Address: kind + "." + name, Kind: kind, Settings: s})
		}
	}
	for _, in := range m.VRRPInstances {
		if in != nil {
			add(KindVRRPInstance, in.Name, instanceOf(m, in))
		}
	}
	for name, s := range trackedScripts(m) {
		add(KindVRRPScript, name, scriptOf(m.Global, s))
	}
	for _, g := range m.SyncGroups {
		if g != nil {
			add(KindSyncGroup, g.Name, g)
		}
	}
	checks := checksOf(m)
	for _, vs := range m.VirtualServers {
		if vs == nil {
			continue
		}
		svc := serviceName(m, vs)
		if h := healthOf(vs); h != healthOf(&model.VirtualServer{}) {
			add(KindServiceHealth, svc, h)
		}
		for _, rs := range vs.RealServers {
			if rs != nil && len(rs.Checks) > 0 {
				add(KindChecks, svc+"/"+rs.Key(vs).String(), checks.of(m, vs, rs))
			}
		}
	}
	if d := m.Global.LVSSyncDaemon; d != nil {
		add(KindSyncDaemon, "global", syncDaemonOf(m, d))
	}
	if g := globalOf(m.Global); settingsOf(g) != nil && !Equal(settingsOf(g), settingsOf(globalOf(model.Global{}))) {
		add(KindGlobal, "global", g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// serviceName names a virtual server as plans do ("tcp/10.0.0.1:80",
// "fwmark4/1"); a group's service by its group ("tcp/group:web").
func serviceName(m *model.Model, vs *model.VirtualServer) string {
	if vs.Group != "" {
		return string(vs.ProtocolOf()) + "/group:" + vs.Group
	}
	if keys := m.ServiceKeys(vs); len(keys) > 0 {
		return keys[0].String()
	}
	return vs.Name
}

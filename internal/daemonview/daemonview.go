// Package daemonview is the part of a model that only `lbx watch` carries
// out — VRRP instances, tracking scripts, sync groups, health checks, the
// IPVS sync daemon and the daemon's global settings — as canonical objects
// of effective values, and the pure diff between two such views. The
// view of a model is built by package modelview; this one links no model,
// so that a process that only serves or compares views stays small.
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

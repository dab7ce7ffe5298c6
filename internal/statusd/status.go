// Package statusd serves a running `lbx watch`'s status over a unix socket
// and reads it back for `lbx status`.
//
// Protocol (format_version 1): a client connects to the socket (default
// /run/lbx/lbx.sock, mode 0600, so root only), sends the one line
// "status\n" — or "status daemon_model\n" for the daemon's model too
// (Request) — or nothing, and receives one JSON document (Status) followed
// by a newline; the server then closes the connection. The request is read
// for at most RequestTimeout and MaxRequest bytes (a client that sends
// nothing gets the plain status once it closes its side, or after
// RequestTimeout). Every connection is bounded (ConnTimeout), at most
// MaxConns are served at once, and the snapshot is taken per connection
// from the daemon's func() Status, so a client can neither hold the daemon
// up nor see a half-updated state. Input beyond the request is only
// drained.
//
//	echo status | socat - UNIX-CONNECT:/run/lbx/lbx.sock | jq .
//	echo status daemon_model | socat - UNIX-CONNECT:/run/lbx/lbx.sock | jq .daemon_model
package statusd

import (
	"time"

	"github.com/lbx-dev/lbx/internal/daemonview"
)

// FormatVersion is Status.FormatVersion. It changes only when a field
// changes meaning or disappears; new fields do not bump it.
const FormatVersion = 1

// Status is the daemon's state as `lbx status -o json` prints it.
type Status struct {
	FormatVersion int        `json:"format_version"`
	Daemon        Daemon     `json:"daemon"`
	VRRP          []Instance `json:"vrrp"`
	RealServers   []Real     `json:"real_servers"`
	// LastReconcile is nil until the first reconcile finished.
	LastReconcile *Reconcile `json:"last_reconcile,omitempty"`
	// SyncDaemon is the IPVS connection sync daemon (the model's
	// lvs_sync_daemon); nil when the model has none.
	SyncDaemon *SyncDaemon `json:"ipvs_sync_daemon,omitempty"`
	// BGP is the scale-out announcer (the model's bgp section); nil without one.
	BGP *BGP `json:"bgp,omitempty"`
	// Counters are the daemon's event counters by name (adverts_sent,
	// drop_auth, transitions, ...), as the VRRP daemon and loop keep them.
	Counters map[string]uint64 `json:"counters,omitempty"`
	// DaemonModel is the part of the model in force that only the daemon
	// carries out (VRRP instances, scripts, checks...), canonical:
	// `lbx plan` diffs it against a file's, `lbx apply` reports what a
	// reload changed in it. Sent only to a client that asks for it
	// (Request.DaemonModel; about 270 bytes a checked real server), and
	// then never null.
	DaemonModel []daemonview.Object `json:"daemon_model,omitzero"`
}

// SyncDaemon is the IPVS connection sync daemon lbx watch runs.
type SyncDaemon struct {
	Role      string `json:"role"` // master or backup: what the VRRP state asks for
	Interface string `json:"interface"`
	SyncID    int    `json:"sync_id"`
	// Error is why the kernel does not run it as asked (the last attempt
	// failed; retried with backoff).
	Error string `json:"error,omitempty"`
}

// Daemon describes the `lbx watch` process.
type Daemon struct {
	PID     int    `json:"pid"`
	Version string `json:"version,omitempty"`
	// Process is the program that runs the model: "lbx" (lbx watch's
	// whole engine) or "lbx-vrrp" (a model of VRRP alone).
	Process   string    `json:"process,omitempty"`
	StartTime time.Time `json:"start_time"`
	ModelFile string    `json:"model_file"`
	// Node is the node of the model's nodes the daemon runs as (empty:
	// the model has none).
	Node string `json:"node,omitempty"`
	// LastReload is the last SIGHUP or `lbx apply` reload (zero: none
	// since start); LastReloadError its error, if it failed and the
	// previous model stayed in force.
	LastReload      time.Time `json:"last_reload,omitzero"`
	LastReloadError string    `json:"last_reload_error,omitempty"`
}

// Instance is one VRRP instance.
type Instance struct {
	Name      string `json:"name"`
	Interface string `json:"interface"`
	VRID      int    `json:"vrid"`
	State     string `json:"state"` // INIT, BACKUP, MASTER, FAULT
	// Priority is the configured priority; EffectivePriority the one
	// advertised now (after tracked objects' weights).
	Priority          int       `json:"priority"`
	EffectivePriority int       `json:"effective_priority"`
	MasterSince       time.Time `json:"master_since,omitzero"` // zero unless MASTER
	LastTransition    time.Time `json:"last_transition,omitzero"`
	LastReason        string    `json:"last_transition_reason,omitempty"`
	// Addresses are the virtual addresses (virtual_addresses, then
	// virtual_addresses_excluded): held while MASTER, the ones it would
	// hold as MASTER otherwise.
	Addresses []Address `json:"addresses,omitempty"`
	// Tracking is every object the instance tracks, in the model's order
	// after its own interface (and, unless unicast_src_ip or mcast_src_ip
	// is set, its source address): what makes EffectivePriority differ
	// from Priority, or the state FAULT.
	Tracking []Track `json:"tracking,omitempty"`
}

// Address is one virtual address of an instance.
type Address struct {
	Address string `json:"address"` // "192.0.2.10", "2001:db8::10"
	// Held: in the kernel as lbx put it (the instance is MASTER and the
	// reconcile that adds its addresses succeeded).
	Held     bool `json:"held"`
	Excluded bool `json:"excluded,omitempty"` // from virtual_addresses_excluded
}

// Kinds of tracked object (Track.Kind).
const (
	TrackInterface = "interface" // a link: track_interfaces, or the instance's own
	TrackScript    = "script"    // a vrrp_script: track_scripts
	// TrackSource is the link's address the instance sends from; none
	// means FAULT. Name is the link.
	TrackSource = "source"
)

// Track is one object an instance tracks and what it does to it now.
type Track struct {
	Kind string `json:"kind"` // interface, script or source
	Name string `json:"name"`
	Up   bool   `json:"up"` // a script: it succeeds (after rise/fall, reverse)
	// Weight is the configured weight: while up (> 0) or down (< 0) it is
	// added to the priority; 0 means down puts the instance in FAULT.
	Weight int `json:"weight"`
	// AppliedWeight is what it adds to the priority now (0 on an address
	// owner, priority 255, which ignores weights).
	AppliedWeight int `json:"applied_weight"`
	// Fault: it is down with weight 0, so the instance is in FAULT.
	Fault bool `json:"fault,omitempty"`
}

// Real is one real server's health.
type Real struct {
	Service string `json:"service"` // "tcp/10.0.0.1:80", as plans print it
	Real    string `json:"real"`    // "192.168.1.11:8080"
	Up      bool   `json:"up"`
	// Weight is the weight in force (0 when inhibited; misc_dynamic's).
	Weight         int       `json:"weight"`
	LastCheck      time.Time `json:"last_check,omitzero"`
	LastError      string    `json:"last_error,omitempty"`
	LatencySeconds float64   `json:"latency_seconds"` // of the last check
}

// Reconcile is the outcome of the last reconcile.
type Reconcile struct {
	Time            time.Time `json:"time"`
	DurationSeconds float64   `json:"duration_seconds"`
	Result          string    `json:"result"` // noop, changed, error
	Error           string    `json:"error,omitempty"`
	Changes         int       `json:"changes"`
	KernelWrites    int       `json:"kernel_writes"`
}

// Package vrrpd runs VRRP virtual routers: it turns a Config (the model's
// vrrp_instances, built by vrrpd/vrrpmodel; vrrpd does not link the model)
// into protocol state machines (package fsm), feeds them
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
// Files: config.go (Config), daemon.go (the loop and the effects),
// daemon_reload.go and reload.go (a reload as a diff), link.go
// (a link's source address and own-packet filter), track.go (tracked
// objects as typed keys, script runners), status.go (what the loop
// publishes).
package vrrpd

import (
	"net/netip"
	"time"

	"github.com/lbx-dev/lbx/internal/script"
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
	Notify       Notify
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

// assumedUp is the script's state before its first result: down with
// init_fail, the other way round with reverse.
func (s *ScriptConfig) assumedUp() bool { return s.InitFail == s.Reverse }

// Config is everything the daemon runs.
type Config struct {
	Instances []*Instance
	Groups    []*SyncGroup
	Scripts   map[string]*ScriptConfig
	// Links are the tracked interfaces.
	Links []string
	// ScriptUser runs the notify scripts (internal/scriptpolicy: global
	// script_user, else keepalived_script, else root). Whether scripts
	// may run at all is scriptpolicy.Check's to say, before the daemon
	// is built.
	ScriptUser *script.User
}

// Notify is the scripts run on an instance's or a sync group's
// transitions (keepalived's notify_master, notify_backup, notify_fault,
// notify_stop, and notify, which gets INSTANCE|GROUP name state priority).
type Notify struct {
	Master, Backup, Fault, Stop, Any string
}

// SyncGroup is a vrrp_sync_group: its members change state together.
type SyncGroup struct {
	Name    string
	Members []string
	Notify  Notify
}

// Weighted is a tracked link or script and its weight (0: down means
// FAULT).
type Weighted struct {
	Name   string
	Weight int
}

// Tracks is what instance x tracks, in the order its status shows them:
// its own interface (keepalived tracks it: down means FAULT), the address
// it sends from unless given (none means FAULT too), then the links and
// scripts given.
func Tracks(x *Instance, links, scripts []Weighted) []fsm.Track {
	tracks := []fsm.Track{{Key: interfaceKey(x.Interface)}}
	if tracksSource(x) {
		tracks = append(tracks, fsm.Track{Key: sourceKey(x.Interface, x.V6)})
	}
	for _, t := range links {
		tracks = append(tracks, fsm.Track{Key: interfaceKey(t.Name), Weight: t.Weight})
	}
	for _, t := range scripts {
		tracks = append(tracks, fsm.Track{Key: scriptKey(t.Name), Weight: t.Weight})
	}
	return tracks
}

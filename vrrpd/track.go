package vrrpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lbx-dev/lbx/internal/clock"
	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/vrrpd/fsm"
)

// Kinds of tracked object, as TrackStatus and TrackedObject name them.
const (
	// TrackInterface is a tracked link (track_interfaces, and the
	// instance's own interface, which keepalived tracks with weight 0).
	TrackInterface = "interface"
	// TrackScript is a vrrp_script (track_scripts).
	TrackScript = "script"
	// TrackSource is the address an instance sends from (its link's
	// primary address of the family, unless unicast_src_ip or
	// mcast_src_ip is set): none means FAULT.
	TrackSource = "source"
)

// Keys of tracked objects: what the state machine (fsm.Track.Key), the
// tracking events and the daemon's known states use. Their String is the
// object's name in logs and reasons: "interface eth1", "script chk",
// "source eth0 IPv4".
func interfaceKey(name string) fsm.TrackKey {
	return fsm.TrackKey{Kind: TrackInterface, Name: name}
}

func scriptKey(name string) fsm.TrackKey { return fsm.TrackKey{Kind: TrackScript, Name: name} }

// sourceKey is the track of an instance's source address: the link's
// primary address of its family (link.primary).
func sourceKey(ifname string, v6 bool) fsm.TrackKey {
	k := fsm.TrackKey{Kind: TrackSource, Name: ifname, Qualifier: "IPv4"}
	if v6 {
		k.Qualifier = "IPv6"
	}
	return k
}

// trackEvent is a tracked object changing state.
type trackEvent struct {
	key    fsm.TrackKey
	up     bool
	reason string
	// index is an interface's kernel index while it is up (LinkState).
	index int
	from  watcher
	// gen is the generation of the watcher or runner that sent it: a
	// reload that restarts one makes the old one's late events stale.
	gen uint64
}

// addrEvent says the addresses of a link may have changed: the daemon
// reads them again (refreshSources). From the link watcher.
type addrEvent struct {
	link string
	gen  uint64
}

// watcher names a goroutine that reports tracking events: the link
// watcher (the zero value, one for all tracked links) or the runner of
// the named vrrp_script.
type watcher struct{ script string }

// linkWatcher is the watcher of the tracked links and their addresses.
var linkWatcher = watcher{}

// runScript runs one vrrp_script forever: every interval, with a timeout
// that kills the whole process group; rise/fall consecutive results flip its
// state, and only flips are reported.
func runScript(ctx context.Context, clk clock.Clock, s *ScriptConfig, report func(trackEvent), log *slog.Logger) {
	ok := !s.InitFail
	streak := 0
	t := clk.NewTicker(s.Interval)
	defer t.Stop()
	short := false // the last run could not start (logged once)
	for {
		res, why, err := runOnce(ctx, s.Command, s.Timeout, s.User)
		if ctx.Err() != nil {
			return
		}
		wasShort := short
		short = startShortage(err)
		switch {
		case short:
			// Never ran: no result, the streak stands; the next
			// interval tries again.
			if !wasShort {
				log.Warn("track script could not start; not counted as a failure, retrying", "script", s.Name, "err", err)
			}
		case res == ok:
			streak = 0
		default:
			streak++
			need := s.Fall
			if res {
				need = s.Rise
			}
			if streak >= need {
				ok, streak = res, 0
				up := ok != s.Reverse
				report(trackEvent{key: scriptKey(s.Name), up: up, reason: fmt.Sprintf("script %s %s", s.Name, why)})
			}
		}
		if wasShort && !short {
			log.Info("track script starts again", "script", s.Name)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// runOnce runs a track script as u via /bin/sh (killed with its process group
// at the timeout, so that a hanging script and its children go away).
func runOnce(ctx context.Context, command string, timeout time.Duration, u *script.User) (bool, string, error) {
	_, err := script.Shell(ctx, command, script.Options{Timeout: timeout, User: u})
	switch {
	case err == nil:
		return true, "succeeded", nil
	case errors.Is(err, script.ErrTimeout) || ctx.Err() != nil:
		return false, fmt.Sprintf("timed out after %s (process group killed)", timeout), err
	}
	return false, "failed: " + err.Error(), err
}

// send hands v to the event loop, unless ctx ends first.
func send[T any](ctx context.Context, out chan<- T, v T) {
	select {
	case out <- v:
	case <-ctx.Done():
	}
}

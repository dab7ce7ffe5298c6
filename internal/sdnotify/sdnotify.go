// Package sdnotify tells systemd what lbx watch is doing (sd_notify(3)):
// ready, reloading, stopping, a one-line status, and watchdog keep-alives.
// Every function is a no-op returning nil when NOTIFY_SOCKET is unset, so
// the daemon calls them unconditionally; under systemd a send error is
// returned for the caller to log (it must never stop the daemon).
//
// Protocol use, for a unit with Type=notify (or Type=notify-reload):
//
//	start:  bind sockets, first reconcile, then Ready()
//	SIGHUP: Reloading(); reload the model; Ready()   (notify-reload needs both)
//	SIGTERM: Stopping(); release addresses; exit
//	loop:   Status("2/2 VRRP MASTER; 12/12 real servers up")
//	always: go Watchdog(ctx, heartbeat.Fresh(...))
package sdnotify

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// send sends one notification. NOTIFY_SOCKET stays set: the environment is
// read on every call and lbx's own scripts may be children of a service
// whose NotifyAccess=main discards their messages anyway.
func send(state string) error {
	_, err := daemon.SdNotify(false, state)
	if err != nil {
		return fmt.Errorf("sd_notify %q: %w", firstLine(state), err)
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Ready tells systemd that start-up, or a reload, is complete. Call it once
// the first reconcile is done (VRRP sockets open, kernel at the model), and
// again at the end of every reload.
func Ready() error { return send(daemon.SdNotifyReady) }

// Reloading tells systemd a reload began. It carries MONOTONIC_USEC, which
// systemd ≥ 253 requires for Type=notify-reload to match the RELOADING=1 to
// the reload it asked for; older systemd ignores the extra field. Follow it
// with Ready() when the reload is done (or failed and the old model stays).
func Reloading() error {
	return send(daemon.SdNotifyReloading + "\n" + strings.TrimSuffix(daemon.SdNotifyMonotonicUsec(), "\n"))
}

// Stopping tells systemd that shutdown began (before VRRP sends priority 0
// and the addresses are released), so `systemctl status` shows it.
func Stopping() error { return send(daemon.SdNotifyStopping) }

// Status sets the one-line status shown by `systemctl status`. Newlines in
// text are replaced so that it stays one field.
func Status(text string) error {
	return send("STATUS=" + strings.ReplaceAll(text, "\n", " "))
}

// WatchdogInterval is how often Watchdog pets systemd's watchdog: half of
// WATCHDOG_USEC, as sd_watchdog_enabled(3) advises. It is 0 when the
// watchdog is off for this process (no WatchdogSec=, or WATCHDOG_PID names
// another process).
func WatchdogInterval() (time.Duration, error) {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil || d == 0 {
		return 0, err
	}
	return d / 2, nil
}

// Watchdog sends WATCHDOG=1 every WatchdogInterval while healthy returns
// true, until ctx is done. When healthy returns false (the watch loop is
// wedged), it stops petting: systemd then kills and restarts lbx after
// WatchdogSec, which is the point. It returns nil at once when the watchdog
// is off, and nil when ctx is done; onUnhealthy, if set, is called once per
// healthy→unhealthy change (for a log line). Before healthy first returns
// true (the loop has not turned yet: lbx is starting, and systemd's start
// timeout, not the watchdog, is in force) nothing is sent and nothing is
// reported.
func Watchdog(ctx context.Context, healthy func() bool, onUnhealthy func()) error {
	every, err := WatchdogInterval()
	if err != nil || every == 0 {
		return err
	}
	t := time.NewTicker(every)
	defer t.Stop()
	wasHealthy := false // no healthy→unhealthy change before the first beat
	for {
		if healthy() {
			wasHealthy = true
			_ = send(daemon.SdNotifyWatchdog) // a lost keep-alive is retried on the next tick
		} else if wasHealthy {
			wasHealthy = false
			if onUnhealthy != nil {
				onUnhealthy()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Heartbeat is the watch loop's proof of life for Watchdog: the loop calls
// Beat on every turn (each event handled and each resync tick), and
// Fresh(maxAge) reports whether it did so recently. The loop must turn at
// least every maxAge even when idle, so give maxAge a margin over the
// resync period.
type Heartbeat struct{ last atomic.Int64 }

// Beat records that the loop is alive now.
func (h *Heartbeat) Beat() { h.last.Store(time.Now().UnixNano()) }

// Fresh returns a health func for Watchdog: true while the last Beat is
// younger than maxAge. Before the first Beat it is false.
func (h *Heartbeat) Fresh(maxAge time.Duration) func() bool {
	return func() bool {
		l := h.last.Load()
		return l != 0 && time.Since(time.Unix(0, l)) < maxAge
	}
}

package checkproc

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/checkspec"
)

// Lazy is a Client whose child starts with the first checked real server:
// a model without checks (a VRRP-only director) runs no lbx-check, whose
// pages and runtime cost about 6.6 MiB of resident memory doing nothing
// (docs/performance.md, Memory). A reload that adds checks starts it; if
// that start fails, the reload fails with its error and the next one tries
// a new child. Once started, it runs until Stop, checks or none.
//
// The child is lbx-check (Options.Path) until the targets have an ssl_get
// check, then lbx-check-tls (Options.FindTLS): only that one links TLS.
// A reload that brings the first ssl_get moves the checks to it, each
// real server starting as the engine was last told (its misc_dynamic
// weight is not carried, as after a crash); it stays there when they go
// (a move costs a start, staying costs nothing).
type Lazy struct {
	opts Options

	mu      sync.Mutex // serialises Start, Update and Stop
	ctx     context.Context
	report  func([]check.Transition)
	stopped bool
	// targets are the last the child accepted, for a move back when the
	// one with TLS fails to start; tls says the child is lbx-check-tls.
	targets []check.Target
	tls     bool

	// c is the client, nil until the first checked server. Suspend and
	// the readers (Health, Stats, Restarts) do not wait for a start in
	// progress: the engine calls them under its own lock.
	smu     sync.Mutex // guards suspend, restarts and the store of c
	suspend map[checkspec.RealID]bool
	c       atomic.Pointer[Client]
	// restarts counts those of the clients before c (moves), so that
	// the counter never goes back.
	restarts int
}

// NewLazy makes a Lazy client; nothing runs until Start has targets.
func NewLazy(opts Options) *Lazy { return &Lazy{opts: opts} }

// Start remembers ctx and report, and starts the child if there are
// targets (Client.Start).
func (l *Lazy) Start(ctx context.Context, targets []check.Target, report func([]check.Transition)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx != nil {
		return errors.New("checker process already started")
	}
	l.ctx, l.report = ctx, report
	return l.startLocked(targets, nil, 0)
}

// Update gives the child new targets, starting it for the first ones.
func (l *Lazy) Update(targets []check.Target) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch c := l.c.Load(); {
	case l.stopped:
		return errors.New("checker process stopped")
	case c != nil && check.NeedsTLS(targets) && !l.tls:
		return l.moveToTLSLocked(c, targets)
	case c != nil:
		if err := c.Update(targets); err != nil {
			return err
		}
		l.targets = targets
		return nil
	case l.ctx == nil:
		return errors.New("checker process not started")
	}
	return l.startLocked(targets, nil, l.restarts)
}

// startLocked starts a new client with targets, if any: lbx-check-tls
// if they need TLS, else lbx-check. known is the health a moved child
// carries over (nil at a first start), restarts those of the clients
// before it. The client is published before its Start so that a Suspend
// meanwhile reaches it (Client.Start sends a set changed during the
// start). With l.mu held.
func (l *Lazy) startLocked(targets []check.Target, known map[checkspec.RealID]checkspec.Health, restarts int) error {
	if len(targets) == 0 {
		return nil
	}
	opts, tls := l.opts, check.NeedsTLS(targets)
	if tls {
		if opts.Path = l.findTLS(); opts.Path == "" {
			return errNoTLSChecker
		}
	}
	c := New(opts)
	l.smu.Lock()
	c.Suspend(l.suspend)
	l.c.Store(c)
	l.restarts = restarts
	l.smu.Unlock()
	if err := c.startFrom(l.ctx, targets, known, l.report); err != nil {
		l.c.Store(nil)
		return err
	}
	l.targets, l.tls = targets, tls
	c.log.Info("health checks run in a checker process", "path", opts.Path)
	return nil
}

// moveToTLSLocked replaces old, an lbx-check, by an lbx-check-tls with
// targets. old stops first, so that no transition of its lands after the
// health carried over is read. If the new child cannot start, lbx-check
// is started again on the targets it had, and the error is returned (the
// reload fails; the checks go on as before it). With l.mu held.
func (l *Lazy) moveToTLSLocked(old *Client, targets []check.Target) error {
	if l.findTLS() == "" {
		return errNoTLSChecker
	}
	old.Stop()
	// What old's dispatch had no turn for reaches the engine first: the
	// new child starts from Health, which has it.
	for _, ts := range old.undelivered() {
		l.report(ts)
	}
	known := old.Health()
	restarts := l.restarts + old.Restarts()
	err := l.startLocked(targets, known, restarts)
	if err == nil {
		old.log.Info("ssl_get checks: the checks moved to the checker process with TLS", "targets", len(targets))
		return nil
	}
	if back := l.startLocked(l.targets, known, restarts); back != nil {
		old.log.Error("the checker process did not start again after a failed move to the one with TLS; the next reload tries again", "err", back)
	}
	return err
}

// Suspend replaces the set of suspended real servers (Client.Suspend); it
// is kept for a child started later.
func (l *Lazy) Suspend(ids map[checkspec.RealID]bool) {
	l.smu.Lock()
	l.suspend = maps.Clone(ids)
	c := l.c.Load()
	l.smu.Unlock()
	if c != nil {
		c.Suspend(ids)
	}
}

// Stop stops the child if it runs; nothing starts after it.
func (l *Lazy) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	if c := l.c.Load(); c != nil {
		c.Stop()
	}
}

// Health is Client.Health; none before the child starts.
func (l *Lazy) Health() map[checkspec.RealID]checkspec.Health {
	if c := l.c.Load(); c != nil {
		return c.Health()
	}
	return map[checkspec.RealID]checkspec.Health{}
}

// Stats is Client.Stats; none before the child starts.
func (l *Lazy) Stats() []check.TargetStats {
	if c := l.c.Load(); c != nil {
		return c.Stats()
	}
	return nil
}

// Restarts is Client.Restarts, with those of the clients before a move
// to lbx-check-tls; 0 before the child starts.
func (l *Lazy) Restarts() int {
	l.smu.Lock()
	defer l.smu.Unlock()
	if c := l.c.Load(); c != nil {
		return l.restarts + c.Restarts()
	}
	return l.restarts
}

// findTLS is where lbx-check-tls is now ("": nowhere).
func (l *Lazy) findTLS() string {
	if l.opts.FindTLS == nil {
		return ""
	}
	return l.opts.FindTLS()
}

// Running reports whether a child runs (or is starting).
func (l *Lazy) Running() bool { return l.c.Load() != nil }

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
type Lazy struct {
	opts Options

	mu      sync.Mutex // serialises Start, Update and Stop
	ctx     context.Context
	report  func([]check.Transition)
	stopped bool

	// c is the client, nil until the first checked server. Suspend and
	// the readers (Health, Stats, Restarts) do not wait for a start in
	// progress: the engine calls them under its own lock.
	smu     sync.Mutex // guards suspend and the store of c
	suspend map[checkspec.RealID]bool
	c       atomic.Pointer[Client]
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
	return l.startLocked(targets)
}

// Update gives the child new targets, starting it for the first ones.
func (l *Lazy) Update(targets []check.Target) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch c := l.c.Load(); {
	case l.stopped:
		return errors.New("checker process stopped")
	case c != nil:
		return c.Update(targets)
	case l.ctx == nil:
		return errors.New("checker process not started")
	}
	return l.startLocked(targets)
}

// startLocked starts a new client with targets, if any. The client is
// published before its Start so that a Suspend meanwhile reaches it
// (Client.Start sends a set changed during the start). With l.mu held.
func (l *Lazy) startLocked(targets []check.Target) error {
	if len(targets) == 0 {
		return nil
	}
	c := New(l.opts)
	l.smu.Lock()
	c.Suspend(l.suspend)
	l.c.Store(c)
	l.smu.Unlock()
	if err := c.Start(l.ctx, targets, l.report); err != nil {
		l.c.Store(nil)
		return err
	}
	c.log.Info("health checks run in a checker process", "path", l.opts.Path)
	return nil
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

// Restarts is Client.Restarts; 0 before the child starts.
func (l *Lazy) Restarts() int {
	if c := l.c.Load(); c != nil {
		return c.Restarts()
	}
	return 0
}

// Running reports whether a child runs (or is starting).
func (l *Lazy) Running() bool { return l.c.Load() != nil }

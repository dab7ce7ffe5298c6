package check

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lbx-dev/lbx/model"
)

// Target is one real server to check: its identity in the model and its
// checks. A real server with no checks is not a target (it is always up).
type Target struct {
	ID model.RealID
	// Also are further IDs of the same real server (a virtual server group
	// expands into several services sharing one pool): checked once,
	// reported under every ID.
	Also []model.RealID
	// Alpha starts the real server down until every check has passed once.
	Alpha  bool
	Checks []Probe
}

// Probe is one check of a target.
type Probe struct {
	Checker  Checker
	Settings Settings
}

// Transition is a change of a real server's health, ready for
// model.Facts.Health.
type Transition struct {
	ID     model.RealID
	Health model.Health
	// Reason is why the server went down ("tcp: connect: connection
	// refused"); empty when it came up or only its weight changed.
	Reason string
	At     time.Time
}

// Clock is the time source of the runner; tests use a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options tune a Runner; the zero value is what production uses.
type Options struct {
	Clock Clock
	// Jitter returns a random duration in [0, d) for warmup; nil: math/rand.
	Jitter func(d time.Duration) time.Duration
	Logger *slog.Logger
}

// Grace is added to a probe's own deadline before the runner abandons it;
// checkers enforce their deadline themselves, this only guards against a
// checker that does not.
const Grace = 500 * time.Millisecond

// Runner schedules the checks of many real servers, one goroutine per
// check, and reports health changes in batches. Its methods are safe for
// concurrent use.
type Runner struct {
	opts Options

	mu      sync.Mutex
	targets map[model.RealID]*target
	pending []Transition
	pendIdx map[model.RealID]int
	started bool
	stopped bool

	// suspended targets skip their probes and keep their state
	// (ha_suspend while this director does not hold the address).
	suspended map[model.RealID]bool

	kick   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	report func([]Transition)
}

type target struct {
	id     model.RealID
	also   []model.RealID
	alpha  bool
	probes []*probe
	up     bool
	weight *int
}

type probe struct {
	key      string
	checker  Checker
	settings Settings
	m        machine
	cancel   context.CancelFunc
	ctx      context.Context
	stats    CheckStats
}

// New makes a runner; Start sets it going.
func New(opts Options) *Runner {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Jitter == nil {
		opts.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Runner{opts: opts, targets: map[model.RealID]*target{}, pendIdx: map[model.RealID]int{}, kick: make(chan struct{}, 1)}
}

// Start begins checking targets. report receives health changes in
// batches, from one goroutine, in order; it should return quickly (changes
// arriving meanwhile are batched for the next call, the latest per real
// server winning). Start returns at once; Stop or cancelling ctx ends
// everything.
func (r *Runner) Start(ctx context.Context, targets []Target, report func([]Transition)) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return fmt.Errorf("check runner already started")
	}
	r.started = true
	r.ctx, r.cancel = context.WithCancel(ctx)
	r.report = report
	r.mu.Unlock()
	r.wg.Add(1)
	go r.dispatch()
	return r.Update(targets)
}

// Update replaces the set of targets, as on a reload. A check whose target
// ID and Settings.Key are unchanged keeps its state, its retry count and its
// schedule (keepalived forgets health on reload; lbx does not). New checks
// start fresh (down under alpha, else up); checks no longer present stop. If
// removing a check changes a server's health, that change is reported.
// After Update, Health gives the full current set of facts.
func (r *Runner) Update(targets []Target) error {
	seen := map[model.RealID]bool{}
	for _, t := range targets {
		if seen[t.ID] {
			return fmt.Errorf("%s is listed twice", model.Describe(t.ID))
		}
		seen[t.ID] = true
		if len(t.Checks) == 0 {
			return fmt.Errorf("%s has no checks", model.Describe(t.ID))
		}
		for _, p := range t.Checks {
			if p.Checker == nil || p.Settings.DelayLoop <= 0 {
				return fmt.Errorf("%s: a check has no checker or no delay_loop", model.Describe(t.ID))
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || r.stopped {
		return fmt.Errorf("check runner not running")
	}
	now := r.opts.Clock.Now()
	for id, old := range r.targets {
		if !seen[id] {
			for _, p := range old.probes {
				p.cancel()
			}
			delete(r.targets, id)
		}
	}
	for _, nt := range targets {
		t := r.targets[nt.ID]
		if t == nil {
			t = &target{id: nt.ID, alpha: nt.Alpha, up: !nt.Alpha}
			r.targets[nt.ID] = t
		}
		old := t.probes
		used := make([]bool, len(old))
		var probes []*probe
		for _, np := range nt.Checks {
			key := np.Settings.Key()
			var keep *probe
			for i, op := range old {
				if !used[i] && op.key == key {
					used[i], keep = true, op
					break
				}
			}
			if keep == nil {
				keep = &probe{key: key, checker: np.Checker, settings: np.Settings, m: newMachine(np.Settings.Retry, nt.Alpha)}
				keep.stats.Type = np.Settings.Type
				keep.ctx, keep.cancel = context.WithCancel(r.ctx)
				r.wg.Add(1)
				go r.run(t, keep)
			}
			probes = append(probes, keep)
		}
		for i, op := range old {
			if !used[i] {
				op.cancel()
			}
		}
		t.probes = probes
		t.alpha = nt.Alpha
		t.also = nt.Also
		r.settle(t, "", now)
	}
	return nil
}

// Stop ends every check and the reporting goroutine and waits for them.
func (r *Runner) Stop() {
	r.mu.Lock()
	if !r.started || r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	r.cancel()
	r.mu.Unlock()
	r.wg.Wait()
}

// Health is every target's current health, for model.Facts.Health.
func (r *Runner) Health() map[model.RealID]model.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := make(map[model.RealID]model.Health, len(r.targets))
	for _, t := range r.targets {
		for _, id := range append([]model.RealID{t.id}, t.also...) {
			h[id] = model.Health{Up: t.up, Weight: copyInt(t.weight)}
		}
	}
	return h
}

func (r *Runner) run(t *target, p *probe) {
	defer r.wg.Done()
	clock := r.opts.Clock
	delay := r.opts.Jitter(p.settings.Warmup)
	for {
		if delay > 0 {
			select {
			case <-p.ctx.Done():
				return
			case <-clock.After(delay):
			}
		} else if p.ctx.Err() != nil {
			return
		}
		if r.isSuspended(t) {
			delay = p.settings.DelayLoop
			continue
		}
		start := clock.Now()
		ctx, cancel := context.WithTimeout(p.ctx, p.settings.Deadline+Grace)
		res := p.checker.Check(ctx)
		if ctx.Err() == context.DeadlineExceeded && p.ctx.Err() == nil && res.Up {
			res = Result{Latency: res.Latency, Reason: "deadline exceeded"}
		}
		cancel()
		retry, ok := r.record(t, p, res, start)
		if !ok {
			return
		}
		next := p.settings.DelayLoop
		if retry {
			next = p.settings.DelayBeforeRetry
		}
		// The schedule counts from the start of a probe, never sooner than
		// its end: a slow probe does not drift the loop, nor make it spin.
		delay = next - clock.Now().Sub(start)
		if delay < 0 {
			delay = 0
		}
	}
}

// Suspend replaces the set of suspended real servers: their probes are
// skipped and their health stays as it was (keepalived's ha_suspend, while
// the virtual address is not on this director).
func (r *Runner) Suspend(ids map[model.RealID]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.suspended = ids
}

func (r *Runner) isSuspended(t *target) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.suspended[t.id]
}

// record applies a probe result; ok is false if the probe was stopped
// meanwhile (its result no longer counts).
func (r *Runner) record(t *target, p *probe, res Result, at time.Time) (retry, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.ctx.Err() != nil {
		return false, false
	}
	s := &p.stats
	s.Total++
	if !res.Up {
		s.Failed++
	}
	s.LastLatency, s.LastReason, s.LastCheck = res.Latency, res.Reason, at
	retry, changed := p.m.observe(res)
	if !res.Up {
		r.opts.Logger.Debug("check failed", "real", t.id.String(), "check", p.settings.Type, "reason", res.Reason, "retry", retry)
	}
	if changed {
		why := ""
		if !res.Up {
			why = p.settings.Type + ": " + res.Reason
		}
		r.settle(t, why, at)
	}
	return retry, true
}

// settle recomputes a target's health and queues a transition if it
// changed. Called with r.mu held.
func (r *Runner) settle(t *target, why string, at time.Time) {
	ms := make([]*machine, len(t.probes))
	for i, p := range t.probes {
		ms[i] = &p.m
	}
	up, w := aggregate(ms)
	if up == t.up && eqInt(w, t.weight) {
		return
	}
	t.up, t.weight = up, w
	if up {
		why = ""
	}
	r.opts.Logger.Info("real server health changed", "real", t.id.String(), "up", up, "reason", why)
	for _, id := range append([]model.RealID{t.id}, t.also...) {
		tr := Transition{ID: id, Health: model.Health{Up: up, Weight: copyInt(w)}, Reason: why, At: at}
		if i, ok := r.pendIdx[id]; ok {
			r.pending[i] = tr
		} else {
			r.pendIdx[id] = len(r.pending)
			r.pending = append(r.pending, tr)
		}
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *Runner) dispatch() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.kick:
		}
		r.mu.Lock()
		batch := r.pending
		r.pending = nil
		clear(r.pendIdx)
		r.mu.Unlock()
		if len(batch) > 0 && r.report != nil {
			r.report(batch)
		}
	}
}

func eqInt(a, b *int) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func copyInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

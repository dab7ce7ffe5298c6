package check

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/lbx-dev/lbx/check/checkspec"
)

// Target is one real server to check: its identity in the model and its
// checks. A real server with no checks is not a target (it is always up).
type Target struct {
	ID checkspec.RealID
	// Also are further IDs of the same real server (a virtual server group
	// expands into several services sharing one pool): checked once,
	// reported under every ID.
	Also []checkspec.RealID
	// Alpha starts the real server down until every check has passed once.
	Alpha  bool
	Checks []Probe
}

// Probe is one check of a target.
type Probe struct {
	Checker  Checker
	Settings Settings
	// Spec is the effective check Checker was built from (Build): plain
	// data, from which Build makes it again in a checker process.
	Spec checkspec.Check
}

// Transition is a change of a real server's health, ready for
// model.Facts.Health.
type Transition struct {
	ID     checkspec.RealID
	Health checkspec.Health
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
	// Jitter returns a random duration in [0, d) for warmup and for the
	// spread of each next probe; nil: math/rand.
	Jitter func(d time.Duration) time.Duration
	Logger *slog.Logger
}

// Grace is added to a probe's own deadline before the runner abandons it;
// checkers enforce their deadline themselves, this only guards against a
// checker that does not.
const Grace = 500 * time.Millisecond

// Runner schedules the checks of many real servers and reports health
// changes in batches. One goroutine, the loop, owns the schedule: it starts
// each probe when due — TCP_CHECK and plain HTTP_GET on its own event loop
// (evloop.go), every other check in a goroutine of its own for the length
// of one probe — and records results as they come. Its methods are safe for
// concurrent use.
type Runner struct {
	opts Options

	mu      sync.Mutex
	targets map[checkspec.RealID]*target
	pending []Transition
	pendIdx map[checkspec.RealID]int
	started bool
	stopped bool
	updated bool // the first Update (Start's) is done: later ones are reloads

	// suspended targets skip their probes and keep their state
	// (ha_suspend while this director does not hold the address).
	suspended map[checkspec.RealID]bool

	// queue holds the probes not in flight, by due time.
	queue timeHeap[*probe]
	// inbox holds results of probes run in goroutines, for the loop.
	inbox []finished
	// running counts probes in goroutines; sleepUntil is when the loop's
	// wait ends while it waits (zero: unbounded). Tests read both to know
	// when the runner is idle.
	running    int
	sleeping   bool
	sleepUntil time.Time

	ev   *evloop       // nil: every probe runs in a goroutine (fake clocks)
	wake func()        // interrupts the loop's wait
	nap  chan struct{} // the wake of a loop without evloop

	kick   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	report func([]Transition)
}

type target struct {
	id     checkspec.RealID
	name   string // id.String(), for ordering Stats without formatting
	also   []checkspec.RealID
	alpha  bool
	probes []*probe
	up     bool
	weight *int
}

type probe struct {
	key      string
	checker  Checker
	evented  evented // checker, when the event loop can run it
	settings Settings
	target   *target
	m        machine
	stats    CheckStats

	timeSlot      // its place in the queue, ordered by when it is due
	removed  bool // by Update: a result in flight is dropped
	// hung is the result channel of an abandoned probe (its checker
	// ignored its deadline): no new probe starts until it returns, so a
	// hung check holds one goroutine, not one per delay_loop.
	hung <-chan Result
	// ctx ends a probe running in a goroutine when the probe is removed or
	// the runner stops.
	ctx    context.Context
	cancel context.CancelFunc
}

// finished is a probe's result on its way to record.
type finished struct {
	p     *probe
	res   Result
	start time.Time
}

// New makes a runner; Start sets it going.
func New(opts Options) *Runner {
	r := &Runner{opts: opts, targets: map[checkspec.RealID]*target{}, pendIdx: map[checkspec.RealID]int{}, kick: make(chan struct{}, 1)}
	if r.opts.Clock == nil {
		r.opts.Clock = realClock{}
		// The event loop waits on real time only; with a test's clock
		// every probe runs in a goroutine.
		if ev, err := newEvloop(); err == nil {
			r.ev = ev
		}
	}
	if r.opts.Jitter == nil {
		r.opts.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}
	}
	if r.opts.Logger == nil {
		r.opts.Logger = slog.Default()
	}
	if r.ev != nil {
		r.wake = r.ev.wake
	} else {
		r.nap = make(chan struct{}, 1)
		r.wake = func() {
			select {
			case r.nap <- struct{}{}:
			default:
			}
		}
	}
	return r
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
	r.wg.Add(2)
	go r.dispatch()
	go r.loop()
	context.AfterFunc(r.ctx, r.wake)
	if err := r.Update(targets); err != nil {
		r.Stop()
		return err
	}
	return nil
}

// Update replaces the set of targets, as on a reload. A check whose target
// ID and Settings.Key are unchanged keeps its state, its retry count and its
// schedule (keepalived forgets health on reload; lbx does not). New checks
// start fresh (down under alpha, else up); checks no longer present stop. If
// removing a check changes a server's health, that change is reported.
// After Update, Health gives the full current set of facts.
func (r *Runner) Update(targets []Target) error {
	seen := map[checkspec.RealID]bool{}
	for _, t := range targets {
		if seen[t.ID] {
			return fmt.Errorf("%s is listed twice", checkspec.Describe(t.ID))
		}
		seen[t.ID] = true
		if len(t.Checks) == 0 {
			return fmt.Errorf("%s has no checks", checkspec.Describe(t.ID))
		}
		for _, p := range t.Checks {
			if p.Checker == nil || p.Settings.DelayLoop <= 0 {
				return fmt.Errorf("%s: a check has no checker or no delay_loop", checkspec.Describe(t.ID))
			}
			if p.Spec.UsesTLS() && tlsHandshake == nil {
				return fmt.Errorf("%s: %w", checkspec.Describe(t.ID), ErrNoTLS)
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || r.stopped {
		return fmt.Errorf("check runner not running")
	}
	now := r.opts.Clock.Now()
	r.adoptRenamed(targets, seen)
	for id, old := range r.targets {
		if !seen[id] {
			for _, p := range old.probes {
				r.remove(p)
			}
			delete(r.targets, id)
		}
	}
	for _, nt := range targets {
		t := r.targets[nt.ID]
		// keepalived: at start one failure is enough; at a reload, for a
		// new check of a real server that is down.
		fresh := !r.updated || t != nil && !t.up
		if t == nil {
			t = &target{id: nt.ID, name: nt.ID.String(), alpha: nt.Alpha, up: !nt.Alpha}
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
				keep = r.newProbe(t, key, np, nt.Alpha, fresh, now)
			} else if keep.settings != np.Settings {
				keep.reschedule(np.Settings)
			}
			probes = append(probes, keep)
		}
		for i, op := range old {
			if !used[i] {
				r.remove(op)
			}
		}
		t.probes = probes
		t.alpha = nt.Alpha
		t.also = nt.Also
		r.settle(t, "", now)
	}
	r.updated = true
	r.wake()
	return nil
}

// adoptRenamed keeps the state of a group's real servers when the
// group's first service changes (a member added in front, the first
// removed): the target, named by that first service, gets a new ID, and a
// new target would start afresh (a dead server back in IPVS until its new
// checks fail). keepalived keeps it: a group is matched by name. A new
// target takes over an old one that is going and reports the same real
// server under one of its services. Called with r.mu held.
func (r *Runner) adoptRenamed(targets []Target, seen map[checkspec.RealID]bool) {
	for _, nt := range targets {
		if r.targets[nt.ID] != nil {
			continue
		}
		ids := append([]checkspec.RealID{nt.ID}, nt.Also...)
		for oldID, old := range r.targets {
			if seen[oldID] {
				continue
			}
			if slices.ContainsFunc(old.ids(), func(id checkspec.RealID) bool { return slices.Contains(ids, id) }) {
				delete(r.targets, oldID)
				old.id, old.name = nt.ID, nt.ID.String()
				r.targets[nt.ID] = old
				break
			}
		}
	}
}

// newProbe schedules a new check of t, its first probe after a random
// part of its warmup. Called with r.mu held.
func (r *Runner) newProbe(t *target, key string, np Probe, alpha, fresh bool, now time.Time) *probe {
	p := &probe{key: key, checker: np.Checker, settings: np.Settings, target: t, m: newMachine(np.Settings.Retry, alpha, fresh)}
	if ev, ok := np.Checker.(evented); ok && r.ev != nil && ev.conversations() != nil {
		p.evented = ev
	} else {
		p.ctx, p.cancel = context.WithCancel(r.ctx)
	}
	p.stats.Type = np.Settings.Type
	r.queue.add(p, now.Add(r.opts.Jitter(np.Settings.Warmup)))
	return p
}

// reschedule gives a kept check its new schedule, keeping its state as
// keepalived's migrate_checkers does: a check that is down stays down
// (one success brings it up); one that is up keeps the retries it has
// used, but no more than the new retry allows, so that the next failure
// after them takes it down. The next probe keeps its due time; the new
// delay_loop counts from it. Called with r.mu held.
func (p *probe) reschedule(s Settings) {
	p.settings = s
	p.m.retry = s.Retry
	p.m.retryIt = min(p.m.retryIt, s.Retry)
}

// remove stops a probe: out of the queue, or its result in flight dropped.
// Called with r.mu held.
func (r *Runner) remove(p *probe) {
	p.removed = true
	r.queue.remove(p)
	if p.cancel != nil {
		p.cancel()
	}
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
	r.wake()
	r.wg.Wait()
}

// Health is every target's current health, for model.Facts.Health.
func (r *Runner) Health() map[checkspec.RealID]checkspec.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := make(map[checkspec.RealID]checkspec.Health, len(r.targets))
	for _, t := range r.targets {
		for _, id := range t.ids() {
			h[id] = checkspec.Health{Up: t.up, Weight: copyInt(t.weight)}
		}
	}
	return h
}

// ids are the target's real server under each service it is checked for.
func (t *target) ids() []checkspec.RealID {
	return append([]checkspec.RealID{t.id}, t.also...)
}

// loop is the runner's one scheduling goroutine: start what is due,
// record what finished, sleep until the next due time, deadline, result or
// Update.
func (r *Runner) loop() {
	defer r.wg.Done()
	clock := r.opts.Clock
	var due []*probe
	var bounds []time.Duration // of due's goroutine probes, read under r.mu (Update may reschedule)
	now := clock.Now()
	for {
		r.mu.Lock()
		if r.ctx.Err() != nil {
			r.mu.Unlock()
			break
		}
		for _, f := range r.inbox {
			r.record(f.p, f.res, f.start, now)
		}
		clear(r.inbox)
		r.inbox = r.inbox[:0]
		due, bounds = due[:0], bounds[:0]
		horizon := now.Add(startWindow)
		for p, ok := r.queue.due(horizon); ok; p, ok = r.queue.due(horizon) {
			if r.suspended[p.target.id] {
				r.queue.add(p, now.Add(p.settings.DelayLoop))
				continue
			}
			if p.hung != nil {
				select {
				case <-p.hung:
					p.hung = nil
				default:
					r.record(p, Result{Reason: "the previous probe has not ended (abandoned at its deadline)"}, now, now)
					continue
				}
			}
			if p.evented == nil {
				r.running++
			}
			due, bounds = append(due, p), append(bounds, p.settings.Deadline+Grace)
		}
		r.mu.Unlock()

		for i, p := range due {
			if p.evented != nil {
				r.ev.start(p.evented, p, now)
			} else {
				r.wg.Add(1)
				go r.probeInGoroutine(p, now, bounds[i])
			}
		}
		if r.ev != nil {
			r.ev.expire(now)
			r.recordEvented(r.ev.take(), now)
		}

		r.mu.Lock()
		until := r.queue.next()
		if r.ev != nil {
			if d := r.ev.next(); !d.IsZero() && (until.IsZero() || d.Before(until)) {
				until = d
			}
		}
		idle := len(r.inbox) == 0
		r.sleeping, r.sleepUntil = idle, until
		r.mu.Unlock()
		if idle {
			now = r.wait(now, until)
		} else {
			now = clock.Now()
		}
		r.mu.Lock()
		r.sleeping = false
		r.mu.Unlock()
		if r.ev != nil {
			r.recordEvented(r.ev.take(), now)
		}
	}
	if r.ev != nil {
		r.ev.close()
	}
}

// wait sleeps until until (zero: unbounded), a wake, or, with the event
// loop, socket events (handled on the way), and returns the time it woke.
func (r *Runner) wait(now, until time.Time) time.Time {
	if r.ev != nil {
		return r.ev.wait(now, until)
	}
	var timer <-chan time.Time
	if !until.IsZero() {
		timer = r.opts.Clock.After(until.Sub(now))
	}
	select {
	case <-r.nap:
	case <-timer:
	}
	return r.opts.Clock.Now()
}

func (r *Runner) recordEvented(done []evdone, now time.Time) {
	if len(done) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range done {
		p := d.token.(*probe)
		r.record(p, d.res, now.Add(-d.res.Latency), now)
	}
}

// probeInGoroutine runs one probe of a check that blocks (scripts, TLS,
// UDP, DNS...) and hands its result to the loop. A checker that does not
// return by its deadline plus Grace (one that ignores its context: a
// FIFO, a hung NFS mount) is abandoned: the probe fails, and its
// goroutine, outside the runner's wait group so that Stop does not wait
// for it, is left to end on its own. bound is Deadline+Grace, read by the
// loop under r.mu.
func (r *Runner) probeInGoroutine(p *probe, start time.Time, bound time.Duration) {
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(p.ctx, bound)
	defer cancel()
	done := make(chan Result, 1)
	go func() { done <- p.checker.Check(ctx) }()
	var res Result
	var hung <-chan Result
	select {
	case res = <-done:
		if ctx.Err() == context.DeadlineExceeded && p.ctx.Err() == nil && res.Up {
			res = Result{Latency: res.Latency, Reason: "deadline exceeded"}
		}
	case <-ctx.Done():
		select {
		case res = <-done: // it returned at its deadline after all
		default:
			res, hung = Result{Latency: bound, Reason: fmt.Sprintf("did not end within %s (abandoned)", bound)}, done
		}
	}
	r.mu.Lock()
	r.running--
	p.hung = hung
	r.inbox = append(r.inbox, finished{p, res, start})
	r.mu.Unlock()
	r.wake()
}

// Suspend replaces the set of suspended real servers: their probes are
// skipped and their health stays as it was (keepalived's ha_suspend, while
// the virtual address is not on this director).
func (r *Runner) Suspend(ids map[checkspec.RealID]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.suspended = ids
}

// record applies a probe result and schedules the next probe: after
// delay_loop, or delay_before_retry while retrying, counted from the end of
// this probe, as keepalived counts it. That rule also spreads load: checks
// started together finish at different times (the server answers them one
// after another) and stay apart, where counting from the start would send
// every probe in the same instant every loop, overflowing the servers'
// listen queues. Called with r.mu held.
func (r *Runner) record(p *probe, res Result, start, now time.Time) {
	if p.removed {
		return
	}
	t := p.target
	s := &p.stats
	s.Total++
	if !res.Up {
		s.Failed++
	}
	s.LastLatency, s.LastReason, s.LastCheck = res.Latency, res.Reason, start
	retry, changed := p.m.observe(res)
	if !res.Up {
		r.opts.Logger.Debug("check failed", "real", t.id.String(), "check", p.settings.Type, "reason", res.Reason, "retry", retry)
	}
	if changed {
		why := ""
		if !res.Up {
			why = p.settings.Type + ": " + res.Reason
		}
		r.settle(t, why, start)
	}
	next := p.settings.DelayLoop
	if retry {
		next = p.settings.DelayBeforeRetry
	}
	// Probes that finished in one turn of the loop would otherwise stay
	// together for ever; up to 2 % of the interval more pulls them apart
	// (servers see no bursts bigger than their listen queues).
	r.queue.add(p, now.Add(next+r.opts.Jitter(next/spreadDivisor)))
}

// spreadDivisor: the next probe comes up to interval/spreadDivisor late.
const spreadDivisor = 50

// startWindow: a turn of the loop also starts the probes due within this
// much of now, so that probes due close together share one wake-up of the
// loop instead of one each (timer coalescing, as the kernel's timer slack
// does). Measured in the test VM at 200 probes/s, it took the checker's
// context switches down by a third. A probe thus starts up to 10 ms early:
// 1 % of the shortest delay_loop keepalived users write.
const startWindow = 10 * time.Millisecond

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
	for _, id := range append([]checkspec.RealID{t.id}, t.also...) {
		tr := Transition{ID: id, Health: checkspec.Health{Up: up, Weight: copyInt(w)}, Reason: why, At: at}
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

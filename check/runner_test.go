package check

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// noJitter makes schedules exact, for tests that check them to the second.
func noJitter(time.Duration) time.Duration { return 0 }

// fakeClock fires After channels only when the test advances it.
type fakeClock struct {
	r       *Runner // the runner it drives, for idle
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	c := &fakeClock{now: time.Unix(1000, 0)}
	return c
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

// idle waits until the runner is idle: no probe in flight, no result
// unrecorded, and its loop asleep until a time after the clock's now (so
// that only an advance wakes it).
func (c *fakeClock) idle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := c.Now()
		r := c.r
		r.mu.Lock()
		// Nothing due in the queue either: an Update that lands while
		// the loop sleeps queues a probe the loop has not seen yet.
		next := r.queue.next()
		idle := r.sleeping && r.running == 0 && len(r.inbox) == 0 && (r.sleepUntil.IsZero() || r.sleepUntil.After(now)) && (next.IsZero() || next.After(now))
		r.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the runner to be idle")
		}
		time.Sleep(time.Millisecond)
	}
}

// advance moves time forward and wakes the sleepers due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// scripted is a Checker returning results chosen by the test.
type scripted struct {
	mu  sync.Mutex
	res Result
	n   int
}

func (s *scripted) set(r Result) { s.mu.Lock(); s.res = r; s.mu.Unlock() }
func (s *scripted) Check(context.Context) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return s.res
}

func rid(last byte) model.RealID {
	return model.RealID{
		Service: state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80, Family: state.IPv4},
		Real:    state.RealKey{Addr: netip.AddrFrom4([4]byte{10, 0, 0, last}), Port: 80},
	}
}

func settings(spec string) Settings {
	return Settings{Type: "tcp", DelayLoop: 10 * time.Second, Retry: 2, DelayBeforeRetry: time.Second, Deadline: time.Second, Spec: spec}
}

type reports struct{ ch chan []Transition }

func newReports() *reports           { return &reports{ch: make(chan []Transition, 100)} }
func (r *reports) fn(b []Transition) { r.ch <- b }

func (r *reports) next(t *testing.T) []Transition {
	t.Helper()
	select {
	case b := <-r.ch:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no report")
	}
	return nil
}

func (r *reports) none(t *testing.T) {
	t.Helper()
	select {
	case b := <-r.ch:
		t.Fatalf("unexpected report %+v", b)
	case <-time.After(50 * time.Millisecond):
	}
}

func startRunner(t *testing.T, targets []Target) (*Runner, *fakeClock, *reports) {
	t.Helper()
	clk := newFakeClock()
	rep := newReports()
	r := New(Options{Clock: clk, Jitter: noJitter})
	clk.r = r
	if err := r.Start(context.Background(), targets, rep.fn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r, clk, rep
}

// TestRunnerRetrySchedule: with delay_loop 10s, retry 2 and
// delay_before_retry 1s, a server failing from t=0 is down at once (at
// start one failure is enough, as keepalived's retry_it = retry); once it
// passed, the next outage gets its retries: failing from t=20s it is
// probed at 20, 21 and 22s and reported down at 22s; a success at the next
// loop (32s) brings it up.
func TestRunnerRetrySchedule(t *testing.T) {
	s := &scripted{res: bad()}
	r, clk, rep := startRunner(t, []Target{{ID: rid(1), Checks: []Probe{{Checker: s, Settings: settings("a")}}}})
	if b := rep.next(t); len(b) != 1 || b[0].Health.Up || b[0].At.Sub(time.Unix(1000, 0)) != 0 {
		t.Fatalf("got %+v, want down at the first failure, at 0s", b)
	}
	clk.idle(t)
	s.set(ok())
	clk.advance(10 * time.Second) // t=10s: up
	if b := rep.next(t); len(b) != 1 || !b[0].Health.Up {
		t.Fatalf("got %+v, want up", b)
	}
	clk.idle(t)
	s.set(bad())
	clk.advance(10 * time.Second)
	clk.idle(t) // t=20s: failure, retry 1 scheduled
	rep.none(t)
	clk.advance(time.Second)
	clk.idle(t) // t=21s: retry 2
	rep.none(t)
	clk.advance(time.Second)
	b := rep.next(t) // t=22s: third failure
	if len(b) != 1 || b[0].ID != rid(1) || b[0].Health.Up || b[0].Reason != "tcp: x" {
		t.Fatalf("got %+v, want one down transition of %s", b, rid(1))
	}
	if got := b[0].At.Sub(time.Unix(1000, 0)); got != 22*time.Second {
		t.Fatalf("down at %s, want 22s", got)
	}
	clk.idle(t)
	s.set(ok())
	clk.advance(9 * time.Second) // t=31s: not yet
	rep.none(t)
	clk.advance(time.Second) // t=32s
	if b := rep.next(t); len(b) != 1 || !b[0].Health.Up {
		t.Fatalf("got %+v, want up", b)
	}
	if h := r.Health()[rid(1)]; !h.Up {
		t.Fatalf("Health() = %+v, want up", h)
	}
	st := r.Stats()
	if len(st) != 1 || st[0].Checks[0].Total != 6 || st[0].Checks[0].Failed != 4 {
		t.Fatalf("stats %+v, want 6 probes 4 failed", st)
	}
}

func TestRunnerAlphaAndSeveralChecks(t *testing.T) {
	a, b := &scripted{res: ok()}, &scripted{res: bad()}
	_, clk, rep := startRunner(t, []Target{{ID: rid(1), Alpha: true, Checks: []Probe{{Checker: a, Settings: settings("a")}, {Checker: b, Settings: settings("b")}}}})
	clk.idle(t)
	rep.none(t) // alpha: down from the start, one check still failing: no change
	b.set(ok())
	clk.advance(10 * time.Second)
	if tr := rep.next(t); len(tr) != 1 || !tr[0].Health.Up {
		t.Fatalf("got %+v, want up once both checks passed", tr)
	}
	clk.idle(t)
	a.set(bad())
	b.set(bad())
	clk.advance(10 * time.Second) // both fail: retry 1
	clk.idle(t)
	clk.advance(time.Second)
	clk.idle(t)
	clk.advance(time.Second) // both down now; one transition
	if tr := rep.next(t); len(tr) != 1 || tr[0].Health.Up {
		t.Fatalf("got %+v, want one down", tr)
	}
	clk.idle(t)
	a.set(ok())
	clk.advance(10 * time.Second) // a up, b still down: no change
	rep.none(t)
}

func TestRunnerDynamicWeight(t *testing.T) {
	s := &scripted{res: dyn(40)}
	_, clk, rep := startRunner(t, []Target{{ID: rid(1), Checks: []Probe{{Checker: s, Settings: settings("a")}}}})
	if tr := rep.next(t); len(tr) != 1 || !tr[0].Health.Up || tr[0].Health.Weight == nil || *tr[0].Health.Weight != 40 {
		t.Fatalf("got %+v, want up with weight 40", tr)
	}
	clk.idle(t)
	s.set(dyn(3))
	clk.advance(10 * time.Second)
	if tr := rep.next(t); *tr[0].Health.Weight != 3 {
		t.Fatalf("got %+v, want weight 3", tr)
	}
}

// blocking is a Checker that ignores its context until released.
type blocking struct {
	release chan struct{}
	calls   atomic.Int32
}

func (b *blocking) Check(context.Context) Result {
	b.calls.Add(1)
	<-b.release
	return Result{Up: true}
}

// TestRunnerAbandonsHungCheck: a checker that ignores its deadline is
// abandoned at Deadline+Grace (the probe fails), no second probe of it
// starts while it hangs, Stop does not wait for it, and once it returns
// the check runs again.
func TestRunnerAbandonsHungCheck(t *testing.T) {
	b := &blocking{release: make(chan struct{})}
	st := settings("a")
	st.Retry, st.Deadline = 0, 100*time.Millisecond
	r, clk, rep := startRunner(t, []Target{{ID: rid(1), Checks: []Probe{{Checker: b, Settings: st}}}})
	start := time.Now()
	if tr := rep.next(t); len(tr) != 1 || tr[0].Health.Up || !strings.Contains(tr[0].Reason, "abandoned") {
		t.Fatalf("got %+v, want down, abandoned", tr)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("abandoned after %s, want about %s", took, st.Deadline+Grace)
	}
	clk.idle(t)
	clk.advance(10 * time.Second)
	clk.idle(t)
	if n := b.calls.Load(); n != 1 {
		t.Fatalf("%d calls while the first hangs, want 1", n)
	}
	close(b.release)
	time.Sleep(50 * time.Millisecond) // the abandoned call returns
	clk.advance(10 * time.Second)
	if tr := rep.next(t); len(tr) != 1 || !tr[0].Health.Up {
		t.Fatalf("got %+v, want up once the checker answers again", tr)
	}
	stopWithin(t, r, 5*time.Second)
}

// stopWithin fails the test when r.Stop does not return within d.
func stopWithin(t *testing.T, r *Runner, d time.Duration) {
	t.Helper()
	stopped := make(chan struct{})
	go func() { r.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(d):
		t.Fatalf("Stop did not return within %s", d)
	}
}

// TestRunnerStopDoesNotWaitForHungCheck: Stop returns while a checker
// that ignores its context still hangs.
func TestRunnerStopDoesNotWaitForHungCheck(t *testing.T) {
	b := &blocking{release: make(chan struct{})}
	defer close(b.release)
	st := settings("a")
	st.Deadline = 50 * time.Millisecond
	r, _, _ := startRunner(t, []Target{{ID: rid(1), Checks: []Probe{{Checker: b, Settings: st}}}})
	for b.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(st.Deadline + Grace + 100*time.Millisecond) // abandoned by now
	stopWithin(t, r, 5*time.Second)
}

// TestRunnerUpdateScheduleKeepsState: a reload that changes only a
// check's schedule (delay_loop, retry) keeps its state, as keepalived's
// migrate_checkers: a down server stays down (no up and down again), and
// runs on the new delay_loop; an up one that has used a retry goes down
// at the next failure when the new retry allows no more.
func TestRunnerUpdateScheduleKeepsState(t *testing.T) {
	down, flaky := &scripted{res: bad()}, &scripted{res: ok()}
	st := settings("a")
	st.Retry = 0
	st2 := settings("b") // retry 2
	r, clk, rep := startRunner(t, []Target{{ID: rid(1), Checks: []Probe{{Checker: down, Settings: st}}}, {ID: rid(2), Checks: []Probe{{Checker: flaky, Settings: st2}}}})
	if tr := rep.next(t); len(tr) != 1 || tr[0].ID != rid(1) || tr[0].Health.Up {
		t.Fatalf("got %+v, want rid(1) down", tr)
	}
	clk.idle(t)
	flaky.set(bad())
	clk.advance(10 * time.Second) // rid(2) fails once: retry 1 of 2
	clk.idle(t)
	rep.none(t)
	faster, oneRetry := st, st2
	faster.DelayLoop = 2 * time.Second
	oneRetry.Retry = 1
	if err := r.Update([]Target{{ID: rid(1), Checks: []Probe{{Checker: down, Settings: faster}}}, {ID: rid(2), Checks: []Probe{{Checker: flaky, Settings: oneRetry}}}}); err != nil {
		t.Fatal(err)
	}
	rep.none(t) // no transition: rid(1) stays down
	if h := r.Health(); h[rid(1)].Up || !h[rid(2)].Up {
		t.Fatalf("health after the reload %+v, want rid(1) down, rid(2) up", h)
	}
	clk.advance(time.Second) // rid(2)'s retry: the new retry 1 is used up
	if tr := rep.next(t); len(tr) != 1 || tr[0].ID != rid(2) || tr[0].Health.Up {
		t.Fatalf("got %+v, want rid(2) down at the failure after its used retry", tr)
	}
	n := down.n
	clk.idle(t)
	clk.advance(10 * time.Second) // rid(1)'s kept due time, then every 2 s
	clk.idle(t)
	clk.advance(2 * time.Second)
	clk.idle(t)
	clk.advance(2 * time.Second)
	clk.idle(t)
	if down.n-n != 3 {
		t.Errorf("rid(1) probed %d times in 14 s after the reload, want 3 (due at 10 s, then every 2 s)", down.n-n)
	}
	rep.none(t)
}

// TestRunnerUpdateKeepsGroupStateAcrossRename: a group's real server is
// one target named by the group's first service; a reload that adds a
// member in front renames it, and its state is kept (a dead server stays
// down: no up and down again), as keepalived matches a group by name.
func TestRunnerUpdateKeepsGroupStateAcrossRename(t *testing.T) {
	s := &scripted{res: bad()}
	st := settings("a")
	st.Retry = 0
	second, first := rid(1), rid(1)
	second.Service.Addr = netip.MustParseAddr("192.0.2.2")
	first.Service.Addr = netip.MustParseAddr("192.0.2.0")
	r, clk, rep := startRunner(t, []Target{{ID: rid(1), Also: []model.RealID{second}, Checks: []Probe{{Checker: s, Settings: st}}}})
	if tr := rep.next(t); tr[0].Health.Up {
		t.Fatal("want down")
	}
	clk.idle(t)
	if err := r.Update([]Target{{ID: first, Also: []model.RealID{rid(1), second}, Checks: []Probe{{Checker: s, Settings: st}}}}); err != nil {
		t.Fatal(err)
	}
	rep.none(t)
	h := r.Health()
	for _, id := range []model.RealID{first, rid(1), second} {
		if hh, ok := h[id]; !ok || hh.Up {
			t.Errorf("%s after the rename: %+v (known %v), want down", id, hh, ok)
		}
	}
}

// TestRunnerUpdateKeepsState: a reload with the same check keeps the
// server down and its schedule; a changed check starts fresh; removing the
// failing check brings the server up.
func TestRunnerUpdateKeepsState(t *testing.T) {
	s := &scripted{res: bad()}
	st := settings("a")
	st.Retry = 0
	r, clk, rep := startRunner(t, []Target{{ID: rid(1), Checks: []Probe{{Checker: s, Settings: st}}}})
	if tr := rep.next(t); tr[0].Health.Up {
		t.Fatal("want down")
	}
	clk.idle(t)
	// Same settings, a new Checker value: the old probe is kept.
	if err := r.Update([]Target{{ID: rid(1), Checks: []Probe{{Checker: &scripted{res: ok()}, Settings: st}}}}); err != nil {
		t.Fatal(err)
	}
	rep.none(t)
	if r.Health()[rid(1)].Up {
		t.Fatal("health lost on reload")
	}
	clk.advance(10 * time.Second)
	clk.idle(t)
	if s.n != 2 {
		t.Fatalf("kept probe ran %d times, want 2 (schedule kept)", s.n)
	}
	// A second, passing check added, then the failing one removed.
	good := &scripted{res: ok()}
	st2 := settings("b")
	if err := r.Update([]Target{{ID: rid(1), Checks: []Probe{{Checker: s, Settings: st}, {Checker: good, Settings: st2}}}}); err != nil {
		t.Fatal(err)
	}
	rep.none(t)
	if err := r.Update([]Target{{ID: rid(1), Checks: []Probe{{Checker: good, Settings: st2}}}}); err != nil {
		t.Fatal(err)
	}
	if tr := rep.next(t); !tr[0].Health.Up {
		t.Fatalf("got %+v, want up after removing the failing check", tr)
	}
	// A removed target disappears from Health.
	if err := r.Update([]Target{{ID: rid(2), Checks: []Probe{{Checker: good, Settings: st2}}}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Health()[rid(1)]; ok {
		t.Fatal("removed target still in Health()")
	}
	if err := r.Update([]Target{{ID: rid(2), Checks: []Probe{{Checker: good, Settings: st2}}}, {ID: rid(2), Checks: []Probe{{Checker: good, Settings: st2}}}}); err == nil {
		t.Fatal("duplicate target accepted")
	}
}

// TestRunnerSuspend: a suspended real server is not probed and keeps its
// health (no down report although its checker would fail); resumed, it is
// probed again at the next loop.
func TestRunnerSuspend(t *testing.T) {
	sc := &scripted{res: Result{Up: true}}
	r, clk, rep := startRunner(t, []Target{{ID: rid(1), Checks: []Probe{{Checker: sc, Settings: settings("a")}}}})
	clk.idle(t) // first probe done, sleeping a delay_loop
	r.Suspend(map[model.RealID]bool{rid(1): true})
	sc.set(Result{Reason: "down"})
	n := func() int { sc.mu.Lock(); defer sc.mu.Unlock(); return sc.n }
	before := n()
	for i := 0; i < 3; i++ {
		clk.advance(10 * time.Second)
		clk.idle(t)
	}
	if got := n(); got != before {
		t.Fatalf("suspended server probed %d times", got-before)
	}
	rep.none(t)
	if h := r.Health()[rid(1)]; !h.Up {
		t.Fatal("suspended server lost its health")
	}
	r.Suspend(nil)
	clk.advance(10 * time.Second) // resumed: probes fail, retries, then down
	clk.idle(t)
	clk.advance(time.Second)
	clk.idle(t)
	clk.advance(time.Second)
	if b := rep.next(t); len(b) != 1 || b[0].Health.Up {
		t.Fatalf("after resume: %+v", b)
	}
}

// gate is a Checker that blocks until the test lets it finish, and records
// when (on the fake clock) each probe started.
type gate struct {
	clk     *fakeClock
	release chan struct{}
	mu      sync.Mutex
	starts  []time.Duration
}

func (g *gate) Check(context.Context) Result {
	g.mu.Lock()
	g.starts = append(g.starts, g.clk.Now().Sub(time.Unix(1000, 0)))
	g.mu.Unlock()
	<-g.release
	return ok()
}

// TestRunnerScheduleFromEnd: delay_loop counts from the end of a probe, as
// keepalived counts it: a probe that took 3 s starts the next one 10 s
// after it ended (13 s), not 10 s after it started.
func TestRunnerScheduleFromEnd(t *testing.T) {
	clk := newFakeClock()
	g := &gate{clk: clk, release: make(chan struct{})}
	r := New(Options{Clock: clk, Jitter: noJitter})
	clk.r = r
	if err := r.Start(context.Background(), []Target{{ID: rid(1), Checks: []Probe{{Checker: g, Settings: settings("a")}}}}, func([]Transition) {}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	var once sync.Once
	free := func() { once.Do(func() { close(g.release) }) }
	t.Cleanup(free) // runs before Stop, which waits for a blocked probe
	started := func() int { g.mu.Lock(); defer g.mu.Unlock(); return len(g.starts) }
	for deadline := time.Now().Add(5 * time.Second); started() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("first probe never started")
		}
	}
	clk.advance(3 * time.Second) // the probe takes 3 s
	g.release <- struct{}{}
	clk.idle(t)
	clk.advance(9 * time.Second) // t=12s: 10 s after the start, 9 after the end
	clk.idle(t)
	if n := started(); n != 1 {
		t.Fatalf("second probe at 12s (%v): counted from the start", g.starts)
	}
	clk.advance(time.Second) // t=13s
	for deadline := time.Now().Add(5 * time.Second); started() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no second probe at 13s; starts %v", g.starts)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.starts[1] != 13*time.Second {
		t.Fatalf("probes started at %v, want [0s 13s]", g.starts)
	}
}

// TestRunnerSpread: each next probe comes up to delay_loop/50 late (the
// jitter, here its maximum), so that probes finishing together drift apart.
func TestRunnerSpread(t *testing.T) {
	clk := newFakeClock()
	s := &scripted{res: ok()}
	r := New(Options{Clock: clk, Jitter: func(d time.Duration) time.Duration { return d }})
	clk.r = r
	if err := r.Start(context.Background(), []Target{{ID: rid(1), Checks: []Probe{{Checker: s, Settings: settings("a")}}}}, func([]Transition) {}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	n := func() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }
	clk.idle(t)
	clk.advance(10 * time.Second) // on the exact schedule: not yet
	clk.idle(t)
	if got := n(); got != 1 {
		t.Fatalf("%d probes at 10s, want 1 (the next one is due at 10.2s)", got)
	}
	clk.advance(200 * time.Millisecond)
	clk.idle(t)
	if got := n(); got != 2 {
		t.Fatalf("%d probes at 10.2s, want 2", got)
	}
}

// TestRunnerStartWindow: a turn of the loop starts the probes due within
// startWindow together (one wake-up), and leaves the later ones for later.
func TestRunnerStartWindow(t *testing.T) {
	clk := newFakeClock()
	r := New(Options{Clock: clk, Jitter: noJitter})
	clk.r = r
	loops := []time.Duration{10 * time.Second, 10*time.Second + startWindow/2, 10*time.Second + 5*startWindow}
	gates := make([]*gate, len(loops))
	var targets []Target
	for i, d := range loops {
		gates[i] = &gate{clk: clk, release: make(chan struct{})}
		close(gates[i].release)
		s := settings("a")
		s.DelayLoop = d
		targets = append(targets, Target{ID: rid(byte(i + 1)), Checks: []Probe{{Checker: gates[i], Settings: s}}})
	}
	if err := r.Start(context.Background(), targets, func([]Transition) {}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	starts := func() [][]time.Duration {
		var out [][]time.Duration
		for _, g := range gates {
			g.mu.Lock()
			out = append(out, slices.Clone(g.starts))
			g.mu.Unlock()
		}
		return out
	}
	clk.idle(t)
	clk.advance(10 * time.Second)
	clk.idle(t)
	want := [][]time.Duration{{0, 10 * time.Second}, {0, 10 * time.Second}, {0}}
	if diff := cmp.Diff(want, starts()); diff != "" {
		t.Fatalf("starts at 10s (-want +got):\n%s", diff)
	}
	clk.advance(5 * startWindow)
	clk.idle(t)
	want[2] = append(want[2], loops[2])
	if diff := cmp.Diff(want, starts()); diff != "" {
		t.Fatalf("starts at %s (-want +got):\n%s", loops[2], diff)
	}
}

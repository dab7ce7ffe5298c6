// Package clocktest is a fake clock.Clock for tests: time stands still
// until the test advances it, and timers and tickers fire in deadline
// order as it does. Tests only: nothing the binaries link imports it.
//
// A fired timer's value is sent without blocking into a channel of one,
// as the runtime does: the test then waits for what the code under test
// does with it (an event the code emits), never for real time to pass.
package clocktest

import (
	"sync"
	"time"

	"github.com/lbx-dev/lbx/internal/clock"
)

// Fake is a clock.Clock whose time moves only by Advance.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*waiter
}

var _ clock.Clock = (*Fake)(nil)

// New returns a fake clock reading start.
func New(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the time forward by d, firing every timer and ticker whose
// deadline is reached, in deadline order, each with the time set to its
// deadline (a ticker fires once per period it passes; the channel keeps at
// most one value, as time.Ticker's).
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := f.now.Add(d)
	for {
		w := f.next(end)
		if w == nil {
			break
		}
		f.now = w.at
		w.fire()
	}
	f.now = end
}

// Pending returns how many timers and tickers are armed.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, w := range f.waiters {
		if w.armed {
			n++
		}
	}
	return n
}

// next returns the armed waiter with the earliest deadline not after end.
func (f *Fake) next(end time.Time) *waiter {
	var first *waiter
	for _, w := range f.waiters {
		if w.armed && !w.at.After(end) && (first == nil || w.at.Before(first.at)) {
			first = w
		}
	}
	return first
}

// NewTimer returns a timer that fires once, d after now.
func (f *Fake) NewTimer(d time.Duration) clock.Timer {
	w := &waiter{f: f, ch: make(chan time.Time, 1)}
	f.mu.Lock()
	f.waiters = append(f.waiters, w)
	f.mu.Unlock()
	w.Reset(d)
	return w
}

// NewTicker returns a ticker that fires every d from now.
func (f *Fake) NewTicker(d time.Duration) clock.Ticker {
	if d <= 0 {
		panic("clocktest: non-positive interval for NewTicker")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &waiter{f: f, ch: make(chan time.Time, 1), period: d, at: f.now.Add(d), armed: true}
	f.waiters = append(f.waiters, w)
	return tickerOf{w}
}

// waiter is a timer, or a ticker when period > 0.
type waiter struct {
	f      *Fake
	ch     chan time.Time
	at     time.Time
	period time.Duration
	armed  bool
}

// fire sends the time (dropped if the last is still unread) and re-arms a
// ticker. f.mu held.
func (w *waiter) fire() {
	select {
	case w.ch <- w.at:
	default:
	}
	if w.period > 0 {
		w.at = w.at.Add(w.period)
	} else {
		w.armed = false
	}
}

// drain drops an unread value (Go 1.23 timers: none is received after
// Stop or Reset). f.mu held.
func (w *waiter) drain() {
	select {
	case <-w.ch:
	default:
	}
}

func (w *waiter) C() <-chan time.Time { return w.ch }

func (w *waiter) Reset(d time.Duration) bool {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	was := w.armed
	w.drain()
	w.at, w.armed = w.f.now.Add(d), true
	if d <= 0 {
		w.fire()
	}
	return was
}

func (w *waiter) Stop() bool {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	was := w.armed
	w.drain()
	w.armed = false
	return was
}

// tickerOf hides Reset: a clock.Ticker has none.
type tickerOf struct{ w *waiter }

func (t tickerOf) C() <-chan time.Time { return t.w.ch }
func (t tickerOf) Stop()               { t.w.Stop() }

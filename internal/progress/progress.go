// Package progress tells a person that a long step is still running, as
// Terraform's "Still destroying... [10s elapsed]": every Every of a step's
// run, one call of Emit. The clock and the ticks are given, so that a test
// drives it without sleeping.
package progress

import (
	"context"
	"sync"
	"time"
)

// Every is how often a step is reported (Terraform's 10 s).
const Every = 10 * time.Second

// Reporter implements apply.Progress. Safe for concurrent use.
type Reporter struct {
	every time.Duration
	now   func() time.Time
	emit  func(step string, elapsed time.Duration)

	mu    sync.Mutex
	steps []*running // in the order they began: a person reads them so
}

type running struct {
	step     string
	began    time.Time
	reported int // multiples of every already emitted
}

// New makes a reporter that calls emit for each step, once each time its
// running time passes a multiple of every. now nil: the real clock.
func New(every time.Duration, now func() time.Time, emit func(step string, elapsed time.Duration)) *Reporter {
	if now == nil {
		now = time.Now
	}
	return &Reporter{every: every, now: now, emit: emit}
}

// Begin starts timing step.
func (r *Reporter) Begin(step string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, &running{step: step, began: r.now()})
}

// End stops timing step (its first running instance).
func (r *Reporter) End(step string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, s := range r.steps {
		if s.step == step {
			r.steps = append(r.steps[:i], r.steps[i+1:]...)
			return
		}
	}
}

// Tick emits each step that has run past another multiple of every since
// it was last emitted: one line per step, however late the tick (a step
// that ran 25 s when first ticked is "[20s elapsed]", once).
func (r *Reporter) Tick() {
	now := r.now()
	type line struct {
		step    string
		elapsed time.Duration
	}
	var out []line
	r.mu.Lock()
	for _, s := range r.steps {
		if n := int(now.Sub(s.began) / r.every); n > s.reported {
			s.reported = n
			out = append(out, line{s.step, time.Duration(n) * r.every})
		}
	}
	r.mu.Unlock()
	// Outside the lock: emit writes to a terminal, which may block.
	for _, l := range out {
		r.emit(l.step, l.elapsed)
	}
}

// Run calls Tick on each tick until ctx ends or ticks closes.
func (r *Reporter) Run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ticks:
			if !ok {
				return
			}
			r.Tick()
		}
	}
}

// Start runs the reporter on the real clock, ticking every second (a
// line is at most a second late), until the returned stop is called;
// stop waits for the last emit.
func (r *Reporter) Start() (stop func()) {
	t := time.NewTicker(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx, t.C)
	}()
	return func() {
		t.Stop()
		cancel()
		<-done
	}
}

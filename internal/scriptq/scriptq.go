// Package scriptq runs the operator's event scripts outside the loop that
// raises the events, so that no script can hold that loop up. vrrpd's
// notify scripts go through it, and so do lbx watch's real-server
// notify_up/down and quorum scripts (one queue each):
//
//   - Push never blocks: the queue is bounded, and what does not fit is
//     coalesced away, counted (Dropped) and logged at most every
//     LogEvery per kind.
//   - Jobs of one key (a VRRP instance, a sync group, a real server) run
//     one at a time, in the order pushed, as keepalived delivers one
//     instance's state changes; different keys run side by side (at most
//     Parallel at once), so that a hanging script holds only its own key.
//   - On overflow a key keeps its newest jobs and loses its oldest waiting
//     one: what a notify script needs most is the final state.
//   - Close gives what is queued a time budget, then kills what runs (the
//     runner's context ends) and abandons the rest, so a stop is bounded.
package scriptq

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Job is one event's scripts: run in order, as a unit (one VRRP
// transition's notify_<state> then notify).
type Job struct {
	// Key orders jobs: those of one key run one at a time, in order.
	Key string
	// Kind labels the drop counter ("notify", "notify_up", ...).
	Kind string
	// Argvs are the commands, run one after the other.
	Argvs [][]string
}

// Options size and drive a Queue.
type Options struct {
	// Run runs one command; it must return when ctx ends (killing what
	// it started) and bound the command itself (a per-script timeout).
	Run func(ctx context.Context, argv []string)
	// PerKey bounds the jobs waiting for one key (default 8), Total those
	// waiting in all (default 256), Parallel the keys running at once
	// (default 8).
	PerKey, Total, Parallel int
	// Log gets the rate-limited overflow lines (default slog.Default()).
	Log *slog.Logger
	// LogEvery is the least time between two overflow lines of one kind
	// (default 10 s).
	LogEvery time.Duration
}

// Queue is a bounded, non-blocking, per-key ordered script queue.
type Queue struct {
	o      Options
	ctx    context.Context // ends at the end of Close's budget
	cancel context.CancelFunc
	sem    chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	lanes   map[string]*lane
	waiting int
	closed  bool
	dropped map[string]uint64
	logged  map[string]logState
}

type lane struct{ pending []Job }

type logState struct {
	at       time.Time
	unlogged uint64
}

// New returns a running queue.
func New(o Options) *Queue {
	if o.PerKey <= 0 {
		o.PerKey = 8
	}
	if o.Total <= 0 {
		o.Total = 256
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.LogEvery <= 0 {
		o.LogEvery = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Queue{o: o, ctx: ctx, cancel: cancel, sem: make(chan struct{}, o.Parallel),
		lanes: map[string]*lane{}, dropped: map[string]uint64{}, logged: map[string]logState{}}
}

// Push queues j and returns at once. After Close, j is dropped (counted).
func (q *Queue) Push(j Job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.dropLocked(j, "queue closed (stopping)")
		return
	}
	l := q.lanes[j.Key]
	if l == nil {
		l = &lane{}
		q.lanes[j.Key] = l
		q.wg.Add(1)
		go q.drain(j.Key, l)
	}
	if len(l.pending) >= q.o.PerKey {
		q.evictLocked(l, "too many waiting for "+j.Key+"; its oldest dropped")
	} else if q.waiting >= q.o.Total {
		q.evictLocked(q.longestLocked(), "queue full; the oldest of the longest key dropped")
	}
	l.pending = append(l.pending, j)
	q.waiting++
}

// longestLocked is the lane with the most waiting jobs: the one that can
// best lose its oldest.
func (q *Queue) longestLocked() *lane {
	var best *lane
	for _, l := range q.lanes {
		if best == nil || len(l.pending) > len(best.pending) {
			best = l
		}
	}
	return best
}

func (q *Queue) evictLocked(l *lane, why string) {
	if l == nil || len(l.pending) == 0 {
		return
	}
	j := l.pending[0]
	l.pending = l.pending[1:]
	q.waiting--
	q.dropLocked(j, why)
}

// dropLocked counts a job that will not run and logs it, at most once
// per LogEvery per kind (the line carries how many went unlogged).
func (q *Queue) dropLocked(j Job, why string) {
	q.dropped[j.Kind]++
	st := q.logged[j.Kind]
	st.unlogged++
	if now := time.Now(); now.Sub(st.at) >= q.o.LogEvery {
		q.o.Log.Warn("script queue overflow: scripts dropped", "kind", j.Kind, "key", j.Key, "reason", why,
			"dropped_since_last_line", st.unlogged, "dropped_total", q.dropped[j.Kind])
		st = logState{at: now}
	}
	q.logged[j.Kind] = st
}

// drain runs one key's jobs in order until none is left, then retires the
// lane (a later Push starts a new one).
func (q *Queue) drain(key string, l *lane) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		if len(l.pending) == 0 {
			delete(q.lanes, key)
			q.mu.Unlock()
			return
		}
		j := l.pending[0]
		l.pending = l.pending[1:]
		q.waiting--
		abandoned := q.ctx.Err() != nil
		if abandoned {
			q.dropLocked(j, "stop budget spent")
		}
		q.mu.Unlock()
		if abandoned {
			continue
		}
		select {
		case q.sem <- struct{}{}:
		case <-q.ctx.Done():
			q.mu.Lock()
			q.dropLocked(j, "stop budget spent")
			q.mu.Unlock()
			continue
		}
		for _, argv := range j.Argvs {
			if q.ctx.Err() != nil {
				break
			}
			q.o.Run(q.ctx, argv)
		}
		<-q.sem
	}
}

// Close stops accepting jobs and lets those queued run until budget is
// spent; then the runner's context ends (killing what runs) and the rest
// is dropped. It returns when nothing runs any more.
func (q *Queue) Close(budget time.Duration) {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	t := time.NewTimer(budget)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		q.cancel()
		<-done
	}
	q.cancel()
}

// Dropped returns how many jobs were dropped, by kind.
func (q *Queue) Dropped() map[string]uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make(map[string]uint64, len(q.dropped))
	for k, v := range q.dropped {
		out[k] = v
	}
	return out
}

// Waiting returns how many jobs wait (not counting those running).
func (q *Queue) Waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiting
}

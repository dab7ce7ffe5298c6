package apply

import (
	"log/slog"
	"time"

	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// Drains are the real servers a long-running writer (lbx watch) is
// draining. A real server that leaves the model of a service with a drain
// timeout stays in the desired state at weight 0, reconcile after
// reconcile, until it has no connections or its time is up; then the plan
// deletes it. So the writer never waits for a drain: the one-shot apply
// drains inline instead, and waiting there held lbx watch's only writer,
// and with it every VRRP takeover and health change, for up to the
// timeout. Used by one goroutine at a time, as the Kernel.
type Drains struct {
	pending  map[drainKey]draining
	released int
	now      func() time.Time
}

type drainKey struct {
	svc  state.ServiceKey
	real state.RealKey
}

type draining struct {
	real     state.Real // as it was, at weight 0
	deadline time.Time
}

// NewDrains makes an empty set (now nil: the real clock).
func NewDrains(now func() time.Time) *Drains {
	if now == nil {
		now = time.Now
	}
	return &Drains{pending: map[drainKey]draining{}, now: now}
}

// Len is the number of real servers being drained.
func (dr *Drains) Len() int { return len(dr.pending) }

// Services are the services with a real server being drained.
func (dr *Drains) Services() []state.ServiceKey {
	seen := map[state.ServiceKey]bool{}
	var out []state.ServiceKey
	for k := range dr.pending {
		if !seen[k.svc] {
			seen[k.svc] = true
			out = append(out, k.svc)
		}
	}
	return out
}

// Released returns how many drains ended (deleted next) since the last
// call: changes the writer expected, not drift.
func (dr *Drains) Released() int {
	n := dr.released
	dr.released = 0
	return n
}

// hold puts the real servers being drained into d, as read in live,
// before the diff: it starts a drain for each real server that left the
// model of a service with a drain timeout (not one a runtime fact took
// out: those are in d.Drain's Declared) and ends each that is idle, past
// its deadline, back in the model or gone. whole: d and live hold every
// service (not one service's real servers), so that a drain of a service
// not in d ended with the service.
func (dr *Drains) hold(d *model.Desired, live *state.State, whole bool) {
	now := dr.now()
	for key, want := range d.State.Services {
		pol, have := d.Drain[key], live.Services[key]
		if pol.Timeout == 0 || have == nil {
			continue
		}
		for rk, h := range have.Reals {
			k := drainKey{key, rk}
			if _, in := want.Reals[rk]; in || pol.Declared[rk] || h.Weight == 0 {
				continue
			}
			if _, ok := dr.pending[k]; !ok {
				r := h
				r.Weight = 0
				dr.pending[k] = draining{real: r, deadline: now.Add(time.Duration(pol.Timeout) * time.Second)}
				slog.Info("draining real server", "real", key.String()+"/"+rk.String(), "timeout_s", pol.Timeout)
			}
		}
	}
	for k, e := range dr.pending {
		want, have := d.State.Services[k.svc], live.Services[k.svc]
		if want == nil {
			if whole {
				delete(dr.pending, k) // the service leaves too
			}
			continue
		}
		var h state.Real
		ok := have != nil
		if ok {
			h, ok = have.Reals[k.real]
		}
		// Back in the model: in want (up), or declared and taken out by a
		// runtime fact (down: deleted at once, as any failed server).
		_, back := want.Reals[k.real]
		back = back || d.Drain[k.svc].Declared[k.real]
		if !ok || back || h.Counters.ActiveConns+h.Counters.InactiveConns == 0 || !now.Before(e.deadline) {
			delete(dr.pending, k)
			if ok && !back {
				dr.released++
			}
			continue
		}
		want.Reals[k.real] = e.real
	}
}

// unblock turns the plan's drained deletes into plain ones: what hold did
// not keep in the desired state is idle or past its deadline, and the
// writer must not wait inline for it.
func (dr *Drains) unblock(p *plan.Plan) {
	for i := range p.Changes {
		if p.Changes[i].DrainSeconds > 0 {
			p.Changes[i].DrainSeconds, p.Changes[i].Reason = 0, "not in the model; idle"
		}
	}
}

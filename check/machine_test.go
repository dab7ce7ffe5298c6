package check

import (
	"testing"
	"time"
)

func ok() Result       { return Result{Up: true} }
func bad() Result      { return Result{Reason: "x"} }
func dyn(w int) Result { return Result{Up: true, Weight: &w} }

// TestMachine follows keepalived's rules step by step: each row is a
// sequence of probe results and, after each, whether the check is up and
// whether the next probe is a retry.
func TestMachine(t *testing.T) {
	type step struct {
		r     Result
		up    bool
		retry bool
		chg   bool
	}
	tests := []struct {
		name  string
		retry int
		alpha bool
		steps []step
	}{
		{"down after retry+1 failures (retry 1)", 1, false, []step{
			{bad(), true, true, false}, {bad(), false, false, true}, {bad(), false, false, false},
		}},
		{"down after retry+1 failures (retry 3)", 3, false, []step{
			{bad(), true, true, false}, {bad(), true, true, false}, {bad(), true, true, false}, {bad(), false, false, true},
		}},
		{"retry 0: first failure is down", 0, false, []step{{bad(), false, false, true}}},
		{"a success resets the retry count", 1, false, []step{
			{bad(), true, true, false}, {ok(), true, false, false}, {bad(), true, true, false}, {bad(), false, false, true},
		}},
		{"up after one success", 2, false, []step{
			{bad(), true, true, false}, {bad(), true, true, false}, {bad(), false, false, true}, {ok(), true, false, true},
		}},
		{"alpha starts down; failures do not retry", 2, true, []step{
			{bad(), false, false, false}, {ok(), true, false, true},
		}},
		{"dynamic weight change is a change", 1, false, []step{
			{dyn(5), true, false, true}, {dyn(5), true, false, false}, {dyn(0), true, false, true}, {ok(), true, false, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine(tt.retry, tt.alpha, false)
			for i, s := range tt.steps {
				retry, chg := m.observe(s.r)
				if m.up != s.up || retry != s.retry || chg != s.chg {
					t.Fatalf("step %d: up=%v retry=%v changed=%v, want %v %v %v", i, m.up, retry, chg, s.up, s.retry, s.chg)
				}
			}
		})
	}
}

func TestAggregate(t *testing.T) {
	w := func(v int) *int { return &v }
	mk := func(up bool, weight *int) *machine { return &machine{up: up, weight: weight} }
	tests := []struct {
		name string
		ms   []*machine
		up   bool
		w    *int
	}{
		{"all up", []*machine{mk(true, nil), mk(true, nil)}, true, nil},
		{"any down is down", []*machine{mk(true, nil), mk(false, nil)}, false, nil},
		{"smallest dynamic weight", []*machine{mk(true, w(7)), mk(true, w(3)), mk(true, nil)}, true, w(3)},
		{"down has no weight", []*machine{mk(true, w(7)), mk(false, w(3))}, false, nil},
	}
	for _, tt := range tests {
		up, got := aggregate(tt.ms)
		if up != tt.up || !eqInt(got, tt.w) {
			t.Errorf("%s: got %v %v, want %v %v", tt.name, up, got, tt.up, tt.w)
		}
	}
}

// TestDetectionTime drives the machine on a virtual clock the way the
// runner schedules it and checks keepalived's reaction time: a server that
// dies just after a passing probe is declared down delay_loop +
// retry × delay_before_retry later.
func TestDetectionTime(t *testing.T) {
	for _, tc := range []struct {
		loop, dbr time.Duration
		retry     int
	}{{6 * time.Second, 1 * time.Second, 1}, {60 * time.Second, 3 * time.Second, 3}, {2 * time.Second, 0, 0}} {
		m := newMachine(tc.retry, false, false)
		now := time.Duration(0)
		m.observe(ok()) // the last passing probe, at t=0; the server dies now
		next := tc.loop
		for m.up {
			now += next
			retry, _ := m.observe(bad())
			next = tc.loop
			if retry {
				next = tc.dbr
			}
		}
		want := tc.loop + time.Duration(tc.retry)*tc.dbr
		if now != want {
			t.Errorf("loop %s retry %d dbr %s: down at %s, want %s", tc.loop, tc.retry, tc.dbr, now, want)
		}
	}
}

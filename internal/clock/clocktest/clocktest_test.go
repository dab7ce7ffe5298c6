package clocktest

import (
	"testing"
	"time"
)

// Timers and tickers fire when the time reaches them, in deadline order,
// each seeing its own deadline; a stopped or reset timer delivers nothing
// stale.
func TestFake(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		steps   []time.Duration // Advance calls
		timer   time.Duration   // one timer of this wait
		reset   time.Duration   // if > 0: reset to this after the first step
		stop    bool            // stop after the first step
		ticker  time.Duration   // if > 0, a ticker of this period
		fired   bool            // the timer fired, at
		at      time.Duration   // since t0
		tickets int             // ticker values received, reading after each step
	}{
		{name: "not yet", steps: []time.Duration{999 * time.Millisecond}, timer: time.Second},
		{name: "on time", steps: []time.Duration{time.Second}, timer: time.Second, fired: true, at: time.Second},
		{name: "passed, sees its deadline", steps: []time.Duration{5 * time.Second}, timer: time.Second, fired: true, at: time.Second},
		{name: "zero wait fires at once", steps: []time.Duration{0}, fired: true},
		{name: "reset later", steps: []time.Duration{500 * time.Millisecond, time.Second}, timer: time.Second, reset: 2 * time.Second},
		{name: "reset later, reached", steps: []time.Duration{500 * time.Millisecond, 2 * time.Second}, timer: time.Second, reset: 2 * time.Second, fired: true, at: 2500 * time.Millisecond},
		{name: "stopped", steps: []time.Duration{500 * time.Millisecond, 2 * time.Second}, timer: time.Second, stop: true},
		{name: "ticker, one per step read", steps: []time.Duration{time.Second, time.Second, 500 * time.Millisecond}, timer: time.Hour, ticker: time.Second, tickets: 2},
		{name: "ticker, periods passed at once coalesce", steps: []time.Duration{10 * time.Second}, timer: time.Hour, ticker: time.Second, tickets: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := New(t0)
			tm := f.NewTimer(tc.timer)
			var tickC <-chan time.Time
			if tc.ticker > 0 {
				tk := f.NewTicker(tc.ticker)
				defer tk.Stop()
				tickC = tk.C()
			}
			ticks := 0
			for i, d := range tc.steps {
				f.Advance(d)
				if i == 0 && tc.reset > 0 {
					tm.Reset(tc.reset)
				}
				if i == 0 && tc.stop {
					tm.Stop()
				}
				select {
				case <-tickC:
					ticks++
				default:
				}
			}
			select {
			case at := <-tm.C():
				if !tc.fired {
					t.Fatalf("fired at %s; want not fired", at.Sub(t0))
				}
				if at.Sub(t0) != tc.at {
					t.Errorf("fired at %s; want %s", at.Sub(t0), tc.at)
				}
			default:
				if tc.fired {
					t.Fatal("not fired")
				}
			}
			if ticks != tc.tickets {
				t.Errorf("%d ticks received; want %d", ticks, tc.tickets)
			}
		})
	}
}

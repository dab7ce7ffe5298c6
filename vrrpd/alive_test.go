package vrrpd

import (
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/clock"
)

// TestAlive: the watchdog's view of the event loop is its last turn's age.
func TestAlive(t *testing.T) {
	cases := []struct {
		name string
		ago  time.Duration // since the last turn; 0: never turned
		want bool
	}{
		{name: "never turned (before Run)", want: false},
		{name: "turned just now", ago: time.Millisecond, want: true},
		{name: "still for longer than maxAge (stuck)", ago: 2 * time.Minute, want: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &Daemon{clk: clock.Real()}
			if c.ago > 0 {
				d.beat.Store(time.Now().Add(-c.ago).UnixNano())
			}
			if got := d.Alive(time.Minute); got != c.want {
				t.Fatalf("Alive = %v, want %v", got, c.want)
			}
		})
	}
}

package progress

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// clock is a fake clock a test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestReporter(t *testing.T) {
	type op struct {
		begin, end string        // a step begins or ends, or
		advance    time.Duration // the clock moves, then a tick
	}
	for _, tc := range []struct {
		name string
		ops  []op
		want []string
	}{
		{"short step: nothing", []op{{begin: "a"}, {advance: 9 * time.Second}, {end: "a"}, {advance: time.Minute}}, nil},
		{"every 10 s while it runs", []op{{begin: "draining r1"}, {advance: 10 * time.Second}, {advance: 5 * time.Second}, {advance: 5 * time.Second}, {advance: 10 * time.Second}, {end: "draining r1"}, {advance: 10 * time.Second}},
			[]string{"draining r1 10s", "draining r1 20s", "draining r1 30s"}},
		{"a late tick reports once", []op{{begin: "a"}, {advance: 25 * time.Second}, {advance: 4 * time.Second}, {advance: time.Second}},
			[]string{"a 20s", "a 30s"}},
		{"steps in the order they began", []op{{begin: "b"}, {advance: 5 * time.Second}, {begin: "a"}, {advance: 5 * time.Second}, {advance: 5 * time.Second}, {end: "b"}, {advance: 5 * time.Second}},
			[]string{"b 10s", "a 10s"}},
		{"minutes as Terraform prints them", []op{{begin: "a"}, {advance: 70 * time.Second}}, []string{"a 1m10s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1000, 0)}
			var got []string
			r := New(Every, c.now, func(step string, elapsed time.Duration) { got = append(got, fmt.Sprintf("%s %s", step, elapsed)) })
			for _, o := range tc.ops {
				switch {
				case o.begin != "":
					r.Begin(o.begin)
				case o.end != "":
					r.End(o.end)
				default:
					c.advance(o.advance)
					r.Tick()
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("emitted %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRunTicks: Run ticks on what its channel delivers and ends with it.
func TestRunTicks(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	lines := make(chan string, 4)
	r := New(Every, c.now, func(step string, elapsed time.Duration) { lines <- fmt.Sprintf("%s %s", step, elapsed) })
	r.Begin("a")
	ticks := make(chan time.Time)
	done := make(chan struct{})
	go func() { r.Run(context.Background(), ticks); close(done) }()
	c.advance(10 * time.Second)
	ticks <- c.t
	if got := <-lines; got != "a 10s" {
		t.Errorf("emitted %q", got)
	}
	close(ticks)
	<-done
}

package testkit

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds and returns how long that took; it
// fails the test with one message naming what and the time waited when
// cond still does not hold after within. Use it for what the code under
// test does not signal (a peer's state, a process ending); wait on an
// event or a channel where there is one.
func Eventually(t testing.TB, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	every := pollInterval(within)
	for {
		if cond() {
			return time.Since(start)
		}
		if waited := time.Since(start); waited >= within {
			t.Fatalf("timed out after %s waiting for %s", waited.Round(time.Millisecond), what)
			return waited
		}
		time.Sleep(every)
	}
}

// pollInterval is a 200th of the wait, between 5ms and 50ms: short waits
// (an in-process engine) are seen within a few milliseconds, and long ones
// (a BGP session, a child process) do not spin the two cores that every
// test on the machine shares.
func pollInterval(within time.Duration) time.Duration {
	return min(max(within/200, 5*time.Millisecond), 50*time.Millisecond)
}

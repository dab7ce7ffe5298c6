// Package clock is the time a resident loop reads and waits on, behind a
// small interface, so that the loop's tests drive a fake one
// (clock/clocktest) instead of sleeping. Real is the one the binaries use.
package clock

import "time"

// Clock tells the time and makes timers and tickers on it.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
	NewTicker(d time.Duration) Ticker
}

// Timer is time.Timer behind an interface (Go 1.23 semantics: after Stop
// or Reset, no stale value is received).
type Timer interface {
	C() <-chan time.Time
	Reset(d time.Duration) bool
	Stop() bool
}

// Ticker is time.Ticker behind an interface.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Real is the system clock.
func Real() Clock { return realClock{} }

// Since is the time elapsed on c since t.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

type realClock struct{}

func (realClock) Now() time.Time                   { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer   { return realTimer{time.NewTimer(d)} }
func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }
func (t realTimer) C() <-chan time.Time            { return t.t.C }
func (t realTimer) Reset(d time.Duration) bool     { return t.t.Reset(d) }
func (t realTimer) Stop() bool                     { return t.t.Stop() }
func (t realTicker) C() <-chan time.Time           { return t.t.C }
func (t realTicker) Stop()                         { t.t.Stop() }

type realTimer struct{ t *time.Timer }
type realTicker struct{ t *time.Ticker }

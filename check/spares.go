package check

import "time"

// spares keeps, per check, the socket of its last probe that passed,
// disconnected, for its next probe: the event loop's way of making a
// probe one connect(2) and one disconnect instead of socket(2), an
// epoll_ctl, a setsockopt and a close(2). A disconnect (connect with
// AF_UNSPEC) ends the connection as close with SO_LINGER 0 does — one
// reset, no TIME_WAIT on either end — and leaves the socket unbound, in
// no lookup table, with its options and its epoll registration: the next
// connect gets a new source port as a new socket would, and the server
// sees the same segments (SYN, request, reset). What it saves is the
// kernel's making and freeing of a socket and a file, and their epoll
// entry, every probe (docs/performance.md, Health checking).
//
// A spare not taken within one to two sweep periods (a check removed by
// a reload, a long delay_loop) is closed; at most maxSpares are kept, so
// that the loop's descriptors stay within any open-files limit.
type spares struct {
	fresh, stale map[evented]int // by check; put goes to fresh, a sweep ages fresh to stale and closes stale
	sweepAt      time.Time
}

const (
	// sweepEvery: a spare lives one to two periods untaken; longer than
	// any delay_loop in practice (keepalived's default is 60 s).
	sweepEvery = 2 * time.Minute
	maxSpares  = 1024
)

func newSpares() spares {
	return spares{fresh: map[evented]int{}, stale: map[evented]int{}}
}

// take returns ev's spare socket, if it has one.
func (s *spares) take(ev evented) (int, bool) {
	for _, m := range [2]map[evented]int{s.fresh, s.stale} {
		if fd, ok := m[ev]; ok {
			delete(m, ev)
			return fd, true
		}
	}
	return -1, false
}

// put disconnects fd, whose conversation passed, and keeps it as ev's
// spare; false: it was not kept (the caller closes it).
func (s *spares) put(ev evented, fd int) bool {
	if s.len() >= maxSpares || rawDisconnect(fd) != nil {
		return false
	}
	if old, ok := s.take(ev); ok { // a check with two sockets in flight at once (none today)
		rawClose(old)
	}
	s.fresh[ev] = fd
	return true
}

// sweep closes the spares untaken since the sweep before last, once a
// period.
func (s *spares) sweep(now time.Time) {
	if s.sweepAt.IsZero() {
		s.sweepAt = now.Add(sweepEvery)
	}
	if now.Before(s.sweepAt) {
		return
	}
	s.sweepAt = now.Add(sweepEvery)
	for _, fd := range s.stale {
		rawClose(fd)
	}
	clear(s.stale)
	s.fresh, s.stale = s.stale, s.fresh
}

// len is the number of spares kept.
func (s *spares) len() int { return len(s.fresh) + len(s.stale) }

// close closes every spare.
func (s *spares) close() {
	for _, m := range [2]map[evented]int{s.fresh, s.stale} {
		for _, fd := range m {
			rawClose(fd)
		}
		clear(m)
	}
}

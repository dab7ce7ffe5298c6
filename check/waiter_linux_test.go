package check

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWaiter: a sleep ends when its timer rings, on a wake from another
// goroutine, or at once when a wake came before it; at an event on the
// loop's sockets only when it watches them; arming clears a ring nobody
// took.
func TestWaiter(t *testing.T) {
	const short = 40 * time.Millisecond
	const forever = time.Duration(-1 << 63) // a sleep with no end: until zero
	// event makes the stand-in for the loop's socket epoll readable.
	event := func(fd int) { rawWrite(fd, []byte{1, 0, 0, 0, 0, 0, 0, 0}) }
	cases := []struct {
		name     string
		before   func(w *waiter, fd int) // on the sleeping goroutine
		during   func(w *waiter, fd int) // from another goroutine, short after the sleep begins
		d        time.Duration
		sockets  bool
		min, max time.Duration
	}{
		{name: "rings", d: short, min: short, max: short + slack},
		{name: "nothing to sleep", d: 0, max: slack / 10},
		{name: "past", d: -time.Second, max: slack / 10},
		{name: "woken", during: func(w *waiter, _ int) { w.wake() }, d: forever, min: short, max: short + slack},
		{name: "woken before", before: func(w *waiter, _ int) { w.wake() }, d: forever, max: slack / 10},
		{
			// A wake taken by a sleep of 0 leaves its ring in the timer;
			// the next sleep must not end on it.
			name: "stale ring cleared",
			before: func(w *waiter, _ int) {
				w.wake()
				now := time.Now()
				w.sleep(now, now)
				time.Sleep(5 * time.Millisecond)
			},
			d: short, min: short, max: short + slack,
		},
		{name: "socket event watched", during: func(_ *waiter, fd int) { event(fd) }, d: forever, sockets: true, min: short, max: short + slack},
		{name: "socket event not watched", during: func(_ *waiter, fd int) { event(fd) }, d: 3 * short, min: 3 * short, max: 3*short + slack},
		{name: "event ready before watching", before: func(_ *waiter, fd int) { event(fd) }, d: forever, sockets: true, max: slack / 10},
		{
			name: "watched, then not",
			before: func(w *waiter, fd int) {
				w.watch(true)
				w.sleep(time.Now(), time.Now().Add(time.Millisecond))
				event(fd)
			},
			d: short, min: short, max: short + slack,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The loop's socket epoll, with an eventfd for a socket.
			sockets, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(sockets)
			efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(efd)
			if err := rawEpollAdd(sockets, efd, unix.EPOLLIN); err != nil {
				t.Fatal(err)
			}
			w, err := newWaiter(sockets)
			if err != nil {
				t.Fatal(err)
			}
			defer w.close()
			if c.before != nil {
				c.before(w, efd)
			}
			if !w.watch(c.sockets) {
				t.Fatalf("watch(%v) failed", c.sockets)
			}
			start := time.Now()
			if c.during != nil {
				go func() { time.Sleep(short); c.during(w, efd) }()
			}
			until := start.Add(c.d)
			if c.d == forever {
				until = time.Time{}
			}
			w.sleep(start, until)
			if el := time.Since(start); el < c.min || el > c.max {
				t.Errorf("sleep for %s (sockets %v) took %s, want %s..%s", c.d, c.sockets, el, c.min, c.max)
			}
		})
	}
}

package check

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// waiter is what the event loop sleeps on: an epoll instance of its own,
// one file in the Go runtime's poller, that holds a timerfd and the loop's
// socket epoll, whose events count only while the loop watches them. The loop parks there (no
// thread blocked in a system call) and wakes once when the timer rings,
// to the nanosecond, or at the first socket event if it asked for those.
// The runtime's own timers would not do: its poller waits in whole
// milliseconds, rounded down, so a sleep of 4.7 ms wakes the thread at
// 4 ms to find nothing due and sleeps again (natively, twice the loop's
// context switches a second).
type waiter struct {
	epfd     int
	tfd      int      // the timerfd
	sockets  int      // the loop's socket epoll, in epfd
	watching bool     // whether its events wake the waiter
	file     *os.File // epfd, for the runtime's poller
	raw      syscall.RawConn
	woken    atomic.Bool
	readyFn  func(fd uintptr) bool // w.ready, made once (a method value allocates)
	events   [2]unix.EpollEvent
	// epoch and monoAtEpoch are one instant as a time.Time and on
	// CLOCK_MONOTONIC (the timerfd's clock), in nanoseconds.
	epoch       time.Time
	monoAtEpoch int64
}

func newWaiter(sockets int) (*waiter, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create: %w", err)
	}
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	w := &waiter{epfd: epfd, tfd: tfd, sockets: sockets}
	w.readyFn = w.ready
	w.epoch, w.monoAtEpoch = epochPair()
	err = rawEpollAdd(epfd, tfd, unix.EPOLLIN)
	if err == nil {
		// Added once, with no events: watch turns them on and off with
		// EPOLL_CTL_MOD, which (unlike adding an epoll to an epoll) makes
		// the kernel walk no loop check over every socket.
		err = rawEpollAdd(epfd, sockets, 0)
	}
	if err == nil {
		// Non-blocking, so that os.NewFile hands it to the runtime's poller.
		err = unix.SetNonblock(epfd, true)
	}
	if err != nil {
		unix.Close(epfd)
		unix.Close(tfd)
		return nil, fmt.Errorf("waiter: %w", err)
	}
	w.file = os.NewFile(uintptr(epfd), "waiter")
	if w.raw, err = w.file.SyscallConn(); err == nil {
		// Deadlines work only on files of the poller: this says it took it.
		err = w.file.SetReadDeadline(time.Time{})
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("waiter not pollable: %w", err)
	}
	return w, nil
}

// epochPair is one instant as a time.Time and on CLOCK_MONOTONIC: the
// clock read after time.Now, so that an error in the pair makes the timer
// late, never early (early, the loop would wake before a deadline, find
// nothing due and arm the same instant again until it came). Of a few
// tries, the one with the two clock reads closest together.
func epochPair() (time.Time, int64) {
	var best time.Time
	bestMono, bestGap := int64(0), int64(-1)
	for range 5 {
		var a, b unix.Timespec
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &a)
		t := time.Now()
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &b)
		if gap := b.Nano() - a.Nano(); bestGap < 0 || gap < bestGap {
			best, bestMono, bestGap = t, b.Nano(), gap
		}
	}
	return best, bestMono
}

// sleep parks the calling goroutine until until (zero: until a wake; not
// after now: not at all), or an event on the loop's sockets while it
// watches them. Arming the timer also clears a ring nobody took.
func (w *waiter) sleep(now, until time.Time) {
	if !until.IsZero() && !until.After(now) {
		w.woken.Store(false)
		return
	}
	w.setAt(until)
	// A wake between the set above and this check has rung already or
	// was undone by the set: either way the flag says so.
	if !w.woken.Load() {
		w.raw.Read(w.readyFn)
	}
	w.woken.Store(false)
}

// watch makes the loop's socket events wake the waiter, or not, and says
// whether they do as asked. Turned on while events are ready, they wake
// it at once.
func (w *waiter) watch(on bool) bool {
	if on == w.watching {
		return true
	}
	var events uint32
	if on {
		events = unix.EPOLLIN
	}
	if rawEpollCtl(w.epfd, unix.EPOLL_CTL_MOD, w.sockets, events) != nil {
		return false
	}
	w.watching = on
	return true
}

// wake ends a sleep, now or the next one; safe from any goroutine. A wake
// that comes as a sleep ends may be taken by it: the caller changes what
// the loop reads (under the runner's lock) before it wakes it, and the
// loop reads it after every sleep.
func (w *waiter) wake() {
	w.woken.Store(true)
	w.settime(0, unix.NsecToTimespec(1)) // in 1 ns
}

// setAt arms the timer to ring once at t (zero: disarms it). t is put on
// the timerfd's clock through the offset taken at the start, so that
// arming it reads no clock (in the test VM every clock read is a system
// call of its own: its clocksource is the emulated HPET).
func (w *waiter) setAt(t time.Time) {
	if t.IsZero() {
		w.settime(0, unix.Timespec{})
		return
	}
	// Sub of two readings of this process uses their monotonic clock. A
	// time before the clock's start (none the loop makes) rings at once.
	w.settime(unix.TFD_TIMER_ABSTIME, unix.NsecToTimespec(max(1, w.monoAtEpoch+int64(t.Sub(w.epoch)))))
}

func (w *waiter) settime(flags int, at unix.Timespec) {
	ts := unix.ItimerSpec{Value: at}
	unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(w.tfd), uintptr(flags), uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
}

// ready says whether the timer rang or a watched socket has an event:
// what the runtime's poller calls before it parks the goroutine and after
// each wake-up. Neither is taken here (the loop polls its sockets; the
// next set clears a ring).
func (w *waiter) ready(fd uintptr) bool {
	return rawEpollPoll(int(fd), w.events[:]) > 0
}

func (w *waiter) close() {
	w.file.Close()
	unix.Close(w.tfd)
}

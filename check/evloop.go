package check

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// conversation is one connection of an evented check: the request sent
// once connected (nil: connecting is the whole check) and the URL the reply
// is judged against.
type conversation struct {
	request []byte
	url     *URL
}

// evented is a check that the runner drives on its event loop rather than
// in a goroutine: TCP_CHECK and plain HTTP_GET, the checks that are run by
// the hundred every second.
type evented interface {
	Checker
	conn() *Conn
	// conversations are run in order, each on a connection of its own,
	// each step under Conn.Timeout (conversationSteps); all must pass.
	// nil: not evented (SSL_GET).
	conversations() []conversation
	// failure words the reason of a failed conversation.
	failure(i int, msg string) string
}

// evop is one probe of an evented check in flight.
type evop struct {
	ev        evented
	convs     []conversation
	i         int // the conversation in flight
	fd        int
	connected bool
	sent      int // request bytes written
	resp      response
	start     time.Time // of the probe
	convStart time.Time // of the conversation in flight
	timeSlot            // its place in byDue, ordered by its current step's deadline
	token     any
}

// evdone is a finished evented probe.
type evdone struct {
	token any
	res   Result
}

// evloop runs evented probes on one epoll instance, as keepalived's
// scheduler does: per probe a non-blocking connect, a write, a read or two
// and a reset, on the check's spare socket from its last probe that passed
// (spares.go: disconnected, still in epoll) or on a new socket registered
// edge-triggered and closed with a reset (release) — no goroutine, timer, Go netpoller
// registration or net.Conn per probe. With a goroutine per probe, 500 servers checked every second
// cost 2.3 times keepalived's CPU (make bench-watch). It is used by one
// goroutine (the runner's loop); only wake may be called from others.
type evloop struct {
	epfd int
	// The loop sleeps on its waiter and collects what epoll has ready
	// when it wakes (epoll_pwait with a zero timeout, made raw:
	// rawsys_linux.go). Woken by every socket event, the loop turned once
	// or twice a probe (the connect's completion, the reply), and the
	// runtime woke once more for each spare socket's disconnect; while
	// probes are in flight it turns every turnEvery instead and takes what
	// came meanwhile in one go: a wake-up is a context switch and a pass
	// of the Go scheduler, the dearest part of a probe after the kernel's
	// TCP work. A turn that found nothing (slow servers, or none answering)
	// makes the next sleep end at the first socket event instead: one
	// turn with nothing to do, not one every turnEvery.
	waiter *waiter
	quiet  bool          // the last turn found no event for a probe, and none started since
	ready  int           // events poll found
	ops    map[int]*evop // by socket
	byDue  timeHeap[*evop]
	events []unix.EpollEvent
	buf    []byte // one read buffer for every probe: they are judged as read
	free   []*evop
	done   []evdone
	spares spares
}

// turnEvery is how often the loop looks at its sockets while probes are in
// flight: what a probe's verdict may wait for a turn (its reply is judged
// up to this much after it came; its latency reads up to this much
// longer). A probe's deadlines are kept to the clock's precision all the
// same: the loop also wakes at the earliest.
const turnEvery = 5 * time.Millisecond

func newEvloop() (*evloop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create: %w", err)
	}
	w, err := newWaiter(epfd)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	return &evloop{epfd: epfd, waiter: w, ops: map[int]*evop{}, events: make([]unix.EpollEvent, 128), buf: make([]byte, 4096), spares: newSpares()}, nil
}

// wake interrupts wait; safe from any goroutine.
func (l *evloop) wake() { l.waiter.wake() }

// take returns the probes finished since the last take (valid until the
// next call of any other method).
func (l *evloop) take() []evdone {
	d := l.done
	l.done = l.done[:0]
	return d
}

// wait sleeps until until (zero: no bound) or a wake; while probes are in
// flight, no longer than turnEvery, or, after a turn that found nothing,
// until their first socket event. Then it handles the socket events ready;
// take returns the probes they finished. It returns the time it woke.
func (l *evloop) wait(now, until time.Time) time.Time {
	// After a quiet turn the sockets wake the loop; else, or if the
	// waiter cannot watch them, it ticks.
	inFlight := l.inFlight() > 0
	if ok := l.waiter.watch(inFlight && l.quiet); inFlight && (!l.quiet || !ok) {
		if turn := now.Add(turnEvery); until.IsZero() || turn.Before(until) {
			until = turn
		}
	}
	l.waiter.sleep(now, until)
	now = time.Now()
	l.quiet = l.collect(now) == 0
	return now
}

// collect handles every socket event ready now and says how many were a
// probe's.
func (l *evloop) collect(now time.Time) int {
	n := 0
	for {
		l.poll()
		n += l.handle(now)
		if l.ready < len(l.events) {
			return n // drained: a full batch may have left more
		}
	}
}

// handle steps the probes of the l.ready events collected and says how
// many there were. Events of spare sockets (the error report of their
// disconnect, spares.go) have no probe.
func (l *evloop) handle(now time.Time) int {
	n := 0
	for _, e := range l.events[:l.ready] {
		if op := l.ops[int(e.Fd)]; op != nil {
			l.step(op, e.Events, now)
			n++
		}
	}
	return n
}

// poll collects the events ready now into l.events (l.ready of them).
func (l *evloop) poll() { l.ready = rawEpollPoll(l.epfd, l.events) }

// start begins a probe of ev; token comes back with its result.
func (l *evloop) start(ev evented, token any, now time.Time) {
	op := l.alloc()
	*op = evop{ev: ev, convs: ev.conversations(), token: token, start: now, fd: -1}
	l.open(op, now)
	l.quiet = false // its events are on their way: the next turn is a tick
}

// open starts conversation op.i: on the check's spare socket when it has
// one (already in epoll), else on a new one.
func (l *evloop) open(op *evop, now time.Time) {
	c := op.ev.conn()
	op.connected, op.sent = false, 0
	if u := op.convs[op.i].url; u != nil {
		op.resp = newResponse(u)
	}
	op.convStart = now
	if fd, ok := l.spares.take(op.ev); ok {
		if err := c.connect(fd); err == nil {
			l.watch(op, fd, now)
			return
		}
		// A spare that cannot connect again is not the server's fault:
		// a new socket says what the server says.
		closeWithReset(fd)
	}
	fd, err := c.connectNonblocking()
	if atFileLimit(err) && l.spares.len() > 0 {
		// Spare sockets are a saving, never the reason a probe fails:
		// at the open-files limit (thousands of probes in flight while
		// the servers are slow) they are given back and the probe
		// tries again.
		l.spares.close()
		fd, err = c.connectNonblocking()
	}
	if err != nil {
		l.finish(op, now, reason(err))
		return
	}
	if err := rawEpollAdd(l.epfd, fd, unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP|unix.EPOLLET); err != nil {
		closeWithReset(fd)
		l.finish(op, now, "epoll: "+reason(err))
		return
	}
	l.watch(op, fd, now)
}

// watch makes fd, connecting, op's socket.
func (l *evloop) watch(op *evop, fd int, now time.Time) {
	op.fd = fd
	l.ops[fd] = op
	l.byDue.add(op, op.ev.conn().stepDeadline(now, now))
}

const readable = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR

// step advances op on socket events (edge-triggered: each call drains
// what it is told about).
func (l *evloop) step(op *evop, events uint32, now time.Time) {
	if !op.connected {
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		// EPOLLOUT alone is a completed connect: no SO_ERROR read. A
		// failed one also has EPOLLERR (or EPOLLHUP), and SO_ERROR
		// says why.
		if events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			soerr, err := rawSoError(op.fd)
			if err == nil && soerr != 0 {
				err = syscall.Errno(soerr)
			}
			if err != nil {
				l.finish(op, now, reason(err))
				return
			}
		}
		op.connected = true
		l.progress(op, now)
	}
	cv := op.convs[op.i]
	if cv.request == nil {
		l.pass(op, now)
		return
	}
	if op.sent < len(cv.request) {
		n, err := rawWrite(op.fd, cv.request[op.sent:])
		if err == unix.EAGAIN {
			return // the next EPOLLOUT edge
		}
		if err != nil {
			l.finish(op, now, "send: "+reason(err))
			return
		}
		if op.sent += n; op.sent < len(cv.request) {
			return
		}
	}
	if events&readable == 0 {
		return
	}
	for {
		n, err := rawRead(op.fd, l.buf)
		switch {
		case n > 0:
			if done, fail := op.resp.feed(l.buf[:n]); done {
				l.conclude(op, now, fail)
				return
			}
			l.progress(op, now)
		case err == unix.EAGAIN:
			return
		case err == unix.EINTR:
		case err != nil:
			l.finish(op, now, reason(err))
			return
		default: // n == 0: the server closed
			l.conclude(op, now, op.resp.eof())
			return
		}
	}
}

// progress re-arms op's step deadline: the connect completed or bytes
// came in.
func (l *evloop) progress(op *evop, now time.Time) {
	l.byDue.move(op, op.ev.conn().stepDeadline(op.convStart, now))
}

func (l *evloop) conclude(op *evop, now time.Time, fail string) {
	if fail != "" {
		l.finish(op, now, fail)
		return
	}
	l.pass(op, now)
}

// pass ends a conversation that passed: the next one starts, or the probe
// is up.
func (l *evloop) pass(op *evop, now time.Time) {
	l.keep(op)
	if op.i+1 < len(op.convs) {
		op.i++
		l.open(op, now)
		return
	}
	l.record(op, now, "")
}

// keep ends a conversation that passed: its socket, disconnected with a
// reset, becomes the check's spare for its next connection (spares.go).
func (l *evloop) keep(op *evop) {
	if fd := op.fd; op.ev.conn().reusable() && l.spares.put(op.ev, fd) {
		delete(l.ops, fd)
		op.fd = -1 // the spare's now: release leaves it open
	}
	l.release(op)
}

// finish closes op's socket and records its result (fail "" = up).
func (l *evloop) finish(op *evop, now time.Time, fail string) {
	l.release(op)
	l.record(op, now, fail)
}

// record queues op's result and frees it.
func (l *evloop) record(op *evop, now time.Time, fail string) {
	res := Result{Up: fail == "", Latency: now.Sub(op.start)}
	if fail != "" {
		res.Reason = op.ev.failure(op.i, fail)
	}
	l.done = append(l.done, evdone{op.token, res})
	*op = evop{}
	l.free = append(l.free, op)
}

func (l *evloop) alloc() *evop {
	if k := len(l.free); k > 0 {
		op := l.free[k-1]
		l.free = l.free[:k-1]
		return op
	}
	return &evop{}
}

// release closes op's socket, which also removes it from epoll, with a
// reset (SO_LINGER 0), as HAProxy closes its health checks: the verdict is
// in (or the probe gave up), nothing more is to be said, and a reset ends
// the connection in one segment where a FIN close takes the FIN, its ACK,
// the server's FIN and its ACK, and leaves a TIME_WAIT socket on one end
// for a minute (docs/performance.md has what it saves). A real server
// may log the reset (keepalived issue 2560 reports logs of its TCP_CHECK's).
func (l *evloop) release(op *evop) {
	l.byDue.remove(op)
	if op.fd >= 0 {
		delete(l.ops, op.fd)
		closeWithReset(op.fd)
		op.fd = -1
	}
	op.resp = response{}
}

// expire fails the conversations whose deadline has passed, after what
// is ready on the sockets (what came since the turn's wait collected): a
// process scheduled late (a saturated machine) finds responses in whose
// step deadlines passed while it waited for a CPU. Failing those as
// timeouts took working servers down in the bench VM whenever its one
// httpd fell behind; keepalived's scheduler, too, runs the sockets epoll
// reports ready before its expired timers. A step that made progress has
// its deadline re-armed from now (within the conversation's hard bound).
func (l *evloop) expire(now time.Time) {
	if d := l.byDue.next(); d.IsZero() || d.After(now) {
		return
	}
	l.collect(now)
	for op, ok := l.byDue.due(now); ok; op, ok = l.byDue.due(now) {
		l.finish(op, now, "timeout")
	}
	l.spares.sweep(now)
}

// next is the earliest deadline in flight (zero: none).
func (l *evloop) next() time.Time { return l.byDue.next() }

// inFlight is the number of probes in flight.
func (l *evloop) inFlight() int { return len(l.byDue) }

// close abandons every probe in flight and releases the loop.
func (l *evloop) close() {
	for fd := range l.ops {
		unix.Close(fd)
	}
	clear(l.ops)
	l.spares.close()
	l.byDue = nil
	l.waiter.close()
	unix.Close(l.epfd)
}

// atFileLimit says err is the process's or the system's open-files limit.
func atFileLimit(err error) bool {
	return errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE)
}

// connectNonblocking opens a non-blocking socket with the connection's
// options and starts connecting it.
func (c *Conn) connectNonblocking() (int, error) {
	addr := c.Addr.Addr().Unmap()
	family := unix.AF_INET6
	if addr.Is4() {
		family = unix.AF_INET
	}
	fd, err := rawSocket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return -1, err
	}
	fail := func(err error) (int, error) {
		unix.Close(fd)
		return -1, err
	}
	if c.Interface != "" || c.FWMark != 0 {
		if err := sockopts(fd, c.Interface, c.FWMark); err != nil {
			return fail(err)
		}
	}
	if c.BindAddr.IsValid() || c.BindPort != 0 {
		local := c.BindAddr.Unmap()
		if !local.IsValid() {
			local = netip.IPv6Unspecified()
			if family == unix.AF_INET {
				local = netip.IPv4Unspecified()
			}
		}
		if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(local, uint16(c.BindPort)))); err != nil {
			return fail(fmt.Errorf("bind %s: %w", netip.AddrPortFrom(local, uint16(c.BindPort)), err))
		}
	}
	if err := c.connect(fd); err != nil {
		return fail(err)
	}
	return fd, nil
}

// connect starts connecting fd, a new socket or a spare, to the server.
func (c *Conn) connect(fd int) error {
	if err := rawConnect(fd, netip.AddrPortFrom(c.Addr.Addr().Unmap(), c.Addr.Port())); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		return err
	}
	return nil
}

// reusable says whether a probe's socket may be kept for the next one: not
// with a bind address or port, which a kept socket would go on holding
// between probes.
func (c *Conn) reusable() bool { return !c.BindAddr.IsValid() && c.BindPort == 0 }

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if a := ap.Addr(); a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
}

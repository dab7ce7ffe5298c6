package checkproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/checkspec"
)

// Options configure a Client.
type Options struct {
	// Path is the checker binary (lbx-check); Args its flags.
	Path string
	Args []string
	// FindTLS locates the checker with TLS (lbx-check-tls) that Lazy
	// runs for ssl_get checks, when a model first needs it (FindTLS: an
	// lbx-check-tls installed after the start is found); nil, or "": none
	// (ssl_get checks are then refused).
	FindTLS func() string
	// Stderr receives the child's logs; nil: this process's stderr.
	Stderr *os.File
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before a crashed child is
	// started again (doubling from the first to the second; 100 ms and
	// 5 s when zero). CallTimeout bounds a request's reply (10 s).
	MinBackoff, MaxBackoff, CallTimeout time.Duration
	// Build is lbx's own build; a child of another build is refused,
	// at Start and at every restart (the binary may have been replaced
	// under a running lbx watch). Zero: ThisBuild("").
	Build Build
}

// Client runs the checks in a child process and has check.Runner's
// methods, so that lbx watch uses either. It keeps the last health the
// child reported: Health answers from it, and while a crashed child is
// restarted the kernel keeps that health. The restarted child starts each
// real server as it was last known (down ones under alpha, until their
// checks pass again) and the ha_suspend set is given again; a difference
// it then reports (a misc_dynamic weight is not carried over) is
// delivered as a transition.
type Client struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	sess     *session // nil while the child is being (re)started
	targets  []target // the last set the child accepted
	suspend  []checkspec.RealID
	health   map[checkspec.RealID]checkspec.Health
	stats    []check.TargetStats // the last stats read, for Stats while restarting
	started  bool
	stopped  bool
	queue    [][]check.Transition // for report, in order
	restarts int

	kick   chan struct{}
	report func([]check.Transition)
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New makes a client; Start starts the child.
func New(opts Options) *Client {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 10 * time.Second
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Build == (Build{}) {
		opts.Build = ThisBuild("")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Client{opts: opts, log: log, health: map[checkspec.RealID]checkspec.Health{}, kick: make(chan struct{}, 1)}
}

// Start starts the child with targets and returns once it has accepted
// them (an error if it could not be started or refused them). report
// receives transitions in order from one goroutine of the client's own,
// so it may call the client's methods.
func (c *Client) Start(ctx context.Context, targets []check.Target, report func([]check.Transition)) error {
	return c.startFrom(ctx, targets, nil, report)
}

// startFrom is Start with each target that known has starting as it was
// last known (asKnown): the child that takes over from another (Lazy's
// move to lbx-check-tls).
func (c *Client) startFrom(ctx context.Context, targets []check.Target, known map[checkspec.RealID]checkspec.Health, report func([]check.Transition)) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("checker process already started")
	}
	c.started = true
	c.report = report
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.mu.Unlock()
	s, err := c.spawn()
	if err != nil {
		c.cancel()
		return err
	}
	// A Suspend before Start (the engine's: no instance is MASTER yet)
	// goes with the first update, before the first probe.
	c.mu.Lock()
	susp := c.suspend
	c.mu.Unlock()
	if _, err := s.call(c, request{Op: opUpdate, Targets: asKnown(wireTargets(targets), known), Suspend: susp}, false, c.opts.CallTimeout); err != nil {
		s.shutdown()
		c.cancel()
		return err
	}
	c.mu.Lock()
	c.sess = s
	susp2 := c.suspend
	c.mu.Unlock()
	if !slices.Equal(susp, susp2) {
		_ = s.send(request{Op: opSuspend, Suspend: susp2})
	}
	c.wg.Add(2)
	go c.supervise(s)
	go c.dispatch()
	return nil
}

// Update gives the child a new set of targets (a reload); as with
// check.Runner, unchanged checks keep their state. It fails while the
// child is being restarted.
func (c *Client) Update(targets []check.Target) error {
	_, err := c.call(request{Op: opUpdate, Targets: wireTargets(targets)})
	return err
}

// Suspend replaces the set of suspended real servers. It does not wait
// for the child (the engine calls it under its lock); a restarted child
// is given the set again.
func (c *Client) Suspend(ids map[checkspec.RealID]bool) {
	list := make([]checkspec.RealID, 0, len(ids))
	for id, on := range ids {
		if on {
			list = append(list, id)
		}
	}
	c.mu.Lock()
	c.suspend = list
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		// A failed write means the child is gone; its restart resends.
		_ = s.send(request{Op: opSuspend, Suspend: list})
	}
}

// Health is every target's last reported health.
func (c *Client) Health() map[checkspec.RealID]checkspec.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := make(map[checkspec.RealID]checkspec.Health, len(c.health))
	for id, v := range c.health {
		h[id] = v
	}
	return h
}

// Stats asks the child for every target's counters; while it cannot
// answer, the last ones read.
func (c *Client) Stats() []check.TargetStats {
	m, err := c.call(request{Op: opStats})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.log.Debug("checker process stats", "err", err)
		return c.stats
	}
	c.stats = m.Stats
	return m.Stats
}

// Probe starts the child, checks its build as Start would, and stops it:
// lbx watch --checker auto runs the checks inline instead of starting a
// checker of another build (a *BuildMismatchError).
func (c *Client) Probe() error {
	s, err := c.spawn()
	if err != nil {
		return err
	}
	s.shutdown()
	return nil
}

// Restarts is how many times the child was started again after a crash.
func (c *Client) Restarts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts
}

// Stop ends the child (it sees its input end and stops its checks; killed
// after 5 s) and the client's goroutines, and waits for them.
func (c *Client) Stop() {
	c.mu.Lock()
	if !c.started || c.stopped {
		c.mu.Unlock()
		return
	}
	c.stopped = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

func (c *Client) call(q request) (message, error) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s == nil {
		return message{}, errors.New("the checker process is restarting")
	}
	return s.call(c, q, false, c.opts.CallTimeout)
}

// supervise restarts the child when it exits and shuts it down when the
// client stops.
func (c *Client) supervise(s *session) {
	defer c.wg.Done()
	backoff := c.opts.MinBackoff
	for {
		select {
		case <-c.ctx.Done():
			s.shutdown()
			return
		case <-s.exited:
		}
		<-s.done
		lived := time.Since(s.begun)
		c.mu.Lock()
		c.sess = nil
		c.mu.Unlock()
		if lived > 30*time.Second {
			backoff = c.opts.MinBackoff
		}
		c.log.Error("the checker process exited; health is kept as last reported until it is back", "err", s.err, "restart_in", backoff)
		for {
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, c.opts.MaxBackoff)
			var err error
			if s, err = c.restart(); err == nil {
				break
			}
			c.log.Error("restarting the checker process", "err", err, "retry_in", backoff)
		}
	}
}

// restart starts a child on the last accepted targets, each real server
// starting as it was last known, and the suspend set.
func (c *Client) restart() (*session, error) {
	s, err := c.spawn()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	targets := asKnown(slices.Clone(c.targets), c.health)
	susp := c.suspend
	c.mu.Unlock()
	if _, err := s.call(c, request{Op: opUpdate, Targets: targets, Suspend: susp}, true, c.opts.CallTimeout); err != nil {
		s.shutdown()
		return nil, err
	}
	c.mu.Lock()
	c.sess = s
	c.restarts++
	susp2 := c.suspend
	c.mu.Unlock()
	// A Suspend while the child was starting found no session.
	if !slices.Equal(susp, susp2) {
		_ = s.send(request{Op: opSuspend, Suspend: susp2})
	}
	c.log.Info("the checker process is back", "pid", s.cmd.Process.Pid, "targets", len(targets))
	return s, nil
}

// asKnown starts each of ts that known has as it was last known: a down
// one under alpha, until its checks pass again (a misc_dynamic weight is
// not carried). It changes ts in place.
func asKnown(ts []target, known map[checkspec.RealID]checkspec.Health) []target {
	for i, t := range ts {
		if h, ok := known[t.ID]; ok {
			ts[i].Alpha = !h.Up
		}
	}
	return ts
}

// accept records the child's health after an update it accepted, in the
// order of the stream. After a restart the differences from what was
// known are queued as transitions.
func (c *Client) accept(ts []target, h []healthOf, restarted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := healthMap(h)
	if restarted {
		var diff []check.Transition
		at := time.Now()
		for id, v := range now {
			if old, ok := c.health[id]; !ok || old.Up != v.Up || !sameWeight(old.Weight, v.Weight) {
				diff = append(diff, check.Transition{ID: id, Health: v, Reason: reasonIf(!v.Up, "the checker process restarted"), At: at})
			}
		}
		c.queueLocked(diff)
	}
	c.targets, c.health = ts, now
}

// reported records transitions the child pushed and queues them.
func (c *Client) reported(ts []check.Transition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range ts {
		c.health[t.ID] = t.Health
	}
	c.queueLocked(ts)
}

func (c *Client) queueLocked(ts []check.Transition) {
	if len(ts) == 0 {
		return
	}
	c.queue = append(c.queue, ts)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// dispatch hands queued transitions to report. The queue is unbounded so
// that the reader never waits on report, which may call back into the
// client (the engine reads Health under its own lock).
func (c *Client) dispatch() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.kick:
		}
		c.mu.Lock()
		q := c.queue
		c.queue = nil
		c.mu.Unlock()
		for _, ts := range q {
			if c.report != nil {
				c.report(ts)
			}
		}
	}
}

// undelivered takes the transitions queued and not yet given to report:
// after Stop, those its dispatch had no turn for (Health has them). Lazy's
// move to lbx-check-tls delivers them itself, so that what the engine
// was told matches the health the new child starts from.
func (c *Client) undelivered() [][]check.Transition {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

func sameWeight(a, b *int) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func reasonIf(down bool, why string) string {
	if down {
		return why
	}
	return ""
}

// session is one child process and its connection.
type session struct {
	cmd   *exec.Cmd
	conn  *net.UnixConn
	begun time.Time

	wmu sync.Mutex
	enc *json.Encoder

	mu      sync.Mutex
	seq     uint64
	pending map[uint64]*pendingCall

	done   chan struct{} // the reader ended: no more replies
	exited chan struct{} // the process was reaped; err is why
	err    error
}

// pendingCall is a request waiting for its reply; an update's reply is
// recorded by the reader itself, so that health and pushed transitions
// are applied in the order the child sent them.
type pendingCall struct {
	q         request
	restarted bool
	reply     chan message
}

// spawn starts a child on a fresh socketpair, its end as fd 3, and checks
// that it is of lbx's build (the hello request) before any other request.
// A mismatch at a restart fails it as a crash would: it is logged and
// tried again with backoff, health kept as last reported, so that a
// half-done upgrade that a service restart completes costs no flap.
func (c *Client) spawn() (*session, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("checker process: socketpair: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "checkproc"), os.NewFile(uintptr(fds[1]), "checkproc-child")
	defer ours.Close()
	defer theirs.Close()
	fc, err := net.FileConn(ours)
	if err != nil {
		return nil, fmt.Errorf("checker process: %w", err)
	}
	cmd := exec.Command(c.opts.Path, c.opts.Args...)
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.Stderr = c.opts.Stderr
	// No Pdeathsig: it fires when the OS thread that forked exits, which
	// the Go runtime does when a goroutine locked to it ends
	// (golang/go#27505). The child ends instead when its fd 3 reads EOF,
	// which the kernel guarantees when lbx dies.
	if err := cmd.Start(); err != nil {
		fc.Close()
		return nil, fmt.Errorf("checker process %s: %w", c.opts.Path, err)
	}
	s := &session{cmd: cmd, conn: fc.(*net.UnixConn), begun: time.Now(), enc: json.NewEncoder(fc),
		pending: map[uint64]*pendingCall{}, done: make(chan struct{}), exited: make(chan struct{})}
	go s.read(c)
	go func() {
		s.err = cmd.Wait()
		if s.err == nil {
			s.err = errors.New("exited with status 0")
		}
		close(s.exited)
	}()
	m, err := s.call(c, request{Op: opHello}, false, c.opts.CallTimeout)
	if err := checkHello(c.opts.Path, c.opts.Build, m, err); err != nil {
		s.shutdown()
		return nil, err
	}
	c.log.Debug("checker process started", "pid", cmd.Process.Pid, "path", c.opts.Path, "build", m.Build.String())
	return s, nil
}

func (s *session) send(q request) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.enc.Encode(q)
}

func (s *session) call(c *Client, q request, restarted bool, timeout time.Duration) (message, error) {
	s.mu.Lock()
	s.seq++
	q.Seq = s.seq
	pc := &pendingCall{q: q, restarted: restarted, reply: make(chan message, 1)}
	s.pending[q.Seq] = pc
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, q.Seq)
		s.mu.Unlock()
	}()
	if err := s.send(q); err != nil {
		return message{}, fmt.Errorf("checker process: %w", err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m := <-pc.reply:
		if m.Err != "" {
			return m, errors.New(m.Err)
		}
		return m, nil
	case <-s.done:
		return message{}, errors.New("the checker process exited")
	case <-t.C:
		return message{}, fmt.Errorf("the checker process did not answer %s within %v", q.Op, timeout)
	}
}

// read decodes the child's messages until its end closes.
func (s *session) read(c *Client) {
	defer close(s.done)
	dec := json.NewDecoder(s.conn)
	for {
		var m message
		if err := dec.Decode(&m); err != nil {
			// A dead child's end reads EOF or, with data unread, a reset;
			// supervise logs its exit.
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
				c.log.Error("checker process: reading its messages", "err", err)
			}
			return
		}
		switch m.Op {
		case opReport:
			c.reported(m.Transitions)
		case opReply:
			s.mu.Lock()
			pc := s.pending[m.Seq]
			s.mu.Unlock()
			if pc == nil {
				continue // its caller gave up
			}
			if pc.q.Op == opUpdate && m.Err == "" {
				c.accept(pc.q.Targets, m.Health, pc.restarted)
			}
			pc.reply <- m
		}
	}
}

// shutdown closes the child's input, which ends it; it is killed if it
// has not exited within 5 s.
func (s *session) shutdown() {
	s.wmu.Lock()
	_ = s.conn.CloseWrite()
	s.wmu.Unlock()
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.conn.Close()
	<-s.done
}

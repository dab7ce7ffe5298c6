package check

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// probeOn runs one probe of ev on the loop l to its end.
func probeOn(t *testing.T, l *evloop, ev evented) Result {
	t.Helper()
	l.start(ev, "token", time.Now())
	d := l.take()
	for ; len(d) == 0; d = l.take() {
		l.wait(time.Now(), l.next())
		l.expire(time.Now())
	}
	if len(d) != 1 || l.inFlight() != 0 || len(l.ops) != 0 {
		t.Fatalf("finished %+v with %d in flight and %d sockets watched, want the one probe and none", d, l.inFlight(), len(l.ops))
	}
	return d[0].res
}

// TestEvloopSpareSockets: a check whose probe passed makes its next probe
// on the same socket, disconnected in between; the server sees each
// connection end with a reset, as with a new socket closed with SO_LINGER
// 0. A probe that failed, or a check with a bind address, leaves no spare,
// and a spare whose server has gone fails the next probe with the
// server's answer.
func TestEvloopSpareSockets(t *testing.T) {
	st, _ := ParseStatusSet(nil)
	type step struct {
		serve     bool // the server listens for this probe
		up        bool
		reason    string
		spare     bool // a spare is left after it
		sameSock  bool // it ran on the previous probe's socket
		serverErr error
	}
	httpOf := func(c Conn) evented { return NewHTTP(HTTP{Conn: c, URLs: []URL{{Path: "/", Status: st}}}) }
	tcpOf := func(c Conn) evented { return &TCP{Conn: c} }
	bound := func(c Conn) Conn { c.BindAddr = netip.MustParseAddr("127.0.0.1"); return c }
	tests := []struct {
		name   string
		listen string // "": 127.0.0.1:0
		make   func(Conn) evented
		conn   func(Conn) Conn
		steps  []step
	}{
		{"http passes three times on one socket", "", httpOf, nil, []step{
			{serve: true, up: true, spare: true, serverErr: syscall.ECONNRESET},
			{serve: true, up: true, spare: true, sameSock: true, serverErr: syscall.ECONNRESET},
			{serve: true, up: true, spare: true, sameSock: true, serverErr: syscall.ECONNRESET},
		}},
		{"tcp passes twice on one socket", "", tcpOf, nil, []step{
			{serve: true, up: true, spare: true, serverErr: syscall.ECONNRESET},
			{serve: true, up: true, spare: true, sameSock: true, serverErr: syscall.ECONNRESET},
		}},
		{"ipv6: http passes twice on one socket", "[::1]:0", httpOf, nil, []step{
			{serve: true, up: true, spare: true, serverErr: syscall.ECONNRESET},
			{serve: true, up: true, spare: true, sameSock: true, serverErr: syscall.ECONNRESET},
		}},
		{"the server goes: the spare's connect is refused, no spare after", "", httpOf, nil, []step{
			{serve: true, up: true, spare: true, serverErr: syscall.ECONNRESET},
			{serve: false, up: false, reason: "connection refused"},
			{serve: true, up: true, spare: true, serverErr: syscall.ECONNRESET},
		}},
		{"a bind address: a new socket every probe", "", httpOf, bound, []step{
			{serve: true, up: true, serverErr: syscall.ECONNRESET},
			{serve: true, up: true, serverErr: syscall.ECONNRESET},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.listen == "" {
				tt.listen = "127.0.0.1:0"
			}
			ln, err := net.Listen("tcp", tt.listen)
			if err != nil {
				t.Skipf("no listener on %s: %v", tt.listen, err)
			}
			addr := ln.Addr().String()
			c := conn(t, ln.Addr())
			if tt.conn != nil {
				c = tt.conn(c)
			}
			ev := tt.make(c)
			l, err := newEvloop()
			if err != nil {
				t.Fatal(err)
			}
			defer l.close()
			lastFd := -1
			for i, s := range tt.steps {
				if s.serve && ln == nil {
					if ln, err = net.Listen("tcp", addr); err != nil {
						t.Fatal(err)
					}
				}
				if !s.serve && ln != nil {
					ln.Close()
					ln = nil
				}
				ended := make(chan error, 1)
				if ln != nil {
					go serveOnce(ln, ended)
				}
				res := probeOn(t, l, ev)
				if res.Up != s.up || !strings.Contains(res.Reason, s.reason) {
					t.Fatalf("probe %d: up=%v %q, want up=%v and a reason containing %q", i, res.Up, res.Reason, s.up, s.reason)
				}
				if s.serverErr != nil {
					if err := <-ended; !errors.Is(err, s.serverErr) {
						t.Errorf("probe %d: the server's read ended with %v, want %v", i, err, s.serverErr)
					}
				}
				fd, ok := l.spares.fresh[ev]
				if ok != s.spare {
					t.Fatalf("probe %d: spare kept = %v, want %v", i, ok, s.spare)
				}
				if s.sameSock && fd != lastFd {
					t.Errorf("probe %d: ran on socket %d, want the spare %d", i, fd, lastFd)
				}
				lastFd = fd
			}
			if ln != nil {
				ln.Close()
			}
		})
	}
}

// serveOnce answers one connection of ln with 200 and reports how the
// client ended it (ECONNRESET for a reset).
func serveOnce(ln net.Listener, ended chan<- error) {
	c, err := ln.Accept()
	if err != nil {
		ended <- err
		return
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 4096)); err != nil { // TCP_CHECK sends nothing
		ended <- err
		return
	}
	io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
	_, err = io.Copy(io.Discard, c)
	ended <- err
}

// TestSparesSweep: a spare untaken for a whole sweep period is closed at
// the next, one taken in time is not; no more than maxSpares are kept.
func TestSparesSweep(t *testing.T) {
	socket := func(t *testing.T) int {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fd
	}
	open := func(fd int) bool { _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); return err == nil }
	t0 := time.Now()
	tests := []struct {
		name     string
		takeAt   []time.Duration // after the sweeps at these times, the spare is taken and put back
		sweeps   []time.Duration
		wantOpen bool
	}{
		{"untaken: closed at the second sweep", nil, []time.Duration{0, sweepEvery, 2 * sweepEvery}, false},
		{"untaken: kept through the first", nil, []time.Duration{0, sweepEvery}, true},
		{"taken between sweeps: kept", []time.Duration{sweepEvery, 2 * sweepEvery}, []time.Duration{0, sweepEvery, 2 * sweepEvery, 3 * sweepEvery}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpares()
			defer s.close()
			ev := &TCP{}
			fd := socket(t)
			if !s.put(ev, fd) {
				t.Fatal("put refused a socket")
			}
			for _, at := range tt.sweeps {
				s.sweep(t0.Add(at))
				for _, tk := range tt.takeAt {
					if tk == at {
						got, ok := s.take(ev)
						if !ok || got != fd || !s.put(ev, got) {
							t.Fatalf("after the sweep at %s: take = %d %v, want %d", at, got, ok, fd)
						}
					}
				}
			}
			if open(fd) != tt.wantOpen {
				t.Errorf("socket open = %v, want %v", open(fd), tt.wantOpen)
			}
		})
	}
	t.Run("at most maxSpares", func(t *testing.T) {
		s := newSpares()
		defer s.close()
		for i := 0; i < maxSpares; i++ {
			if !s.put(&TCP{}, socket(t)) {
				t.Fatalf("put %d refused", i)
			}
		}
		fd := socket(t)
		defer unix.Close(fd)
		if s.put(&TCP{}, fd) {
			t.Fatalf("put number %d kept, want it refused", maxSpares+1)
		}
	})
}

// TestSparesGivenBackAtFileLimit: a probe that finds the process at its
// open-files limit with spare sockets kept closes them and passes, where
// its socket(2) failed with EMFILE.
func TestSparesGivenBackAtFileLimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ev := &TCP{Conn: conn(t, ln.Addr())}
	l, err := newEvloop()
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	var was unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &was); err != nil {
		t.Fatal(err)
	}
	probe, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(probe)
	// Descriptors are numbered lowest first: probe+16 leaves 16 to fill.
	low := unix.Rlimit{Cur: uint64(probe + 16), Max: was.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Skipf("cannot lower the open-files limit: %v", err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &was)
	for {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if errors.Is(err, unix.EMFILE) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !l.spares.put(&TCP{}, fd) {
			unix.Close(fd)
			t.Fatal("put refused a socket")
		}
	}
	ended := make(chan error, 1)
	go serveOnce(ln, ended)
	if res := probeOn(t, l, ev); !res.Up {
		t.Fatalf("the probe at the open-files limit failed: %s", res.Reason)
	}
	if n := l.spares.len(); n > 1 {
		t.Errorf("%d spares left, want those of the limit given back (the probe's own at most)", n)
	}
}

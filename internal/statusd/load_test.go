package statusd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/fdtest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// serveLogged is serve with the server's log captured.
func serveLogged(t *testing.T, path string) (*Server, *bytes.Buffer) {
	t.Helper()
	s, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s.log = slog.New(slog.NewTextHandler(&logs, nil))
	run(t, s, sample)
	return s, &logs
}

// TestAcceptEMFILE: the process runs out of descriptors while a client
// connects (the kernel answers the server's accept with EMFILE). The
// server logs it, keeps its socket, and answers that client and new ones
// once descriptors are free again. (Before issue 26 it closed its socket
// for good: `lbx status` said "no lbx watch is running".)
func TestAcceptEMFILE(t *testing.T) {
	path := t.TempDir() + "/lbx.sock"
	_, logs := serveLogged(t, path)
	// The client's socket is made before the table is full: connect
	// needs no new descriptor, the server's accept does.
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	release := fdtest.Exhaust(t)
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		release()
		t.Fatalf("connect with the table full: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // the server's accept fails meanwhile
	release()

	// The client that connected during the shortage gets its document.
	syscall.Write(fd, []byte("status\n"))
	syscall.Shutdown(fd, syscall.SHUT_WR)
	tv := syscall.Timeval{Sec: 3}
	syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	var doc bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if n <= 0 || err != nil {
			break
		}
		doc.Write(buf[:n])
	}
	var st Status
	if err := json.Unmarshal(doc.Bytes(), &st); err != nil || st.Daemon.PID == 0 {
		t.Errorf("client connected during the shortage: %v, got %q", err, doc.String())
	}
	// New clients are answered.
	if _, err := Query(context.Background(), path); err != nil {
		t.Errorf("query after the shortage: %v", err)
	}
	if !strings.Contains(logs.String(), "too many open files") {
		t.Errorf("the accept error was not logged:\n%s", logs)
	}
}

// TestManyClients: 10,000 clients connect and hold their connections.
// The server holds at most MaxConns of them (the rest are closed at once),
// so its descriptors stay bounded, and once they go it answers again.
func TestManyClients(t *testing.T) {
	const n = 10000
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if lim.Cur < n+1000 {
		testkit.Skip(t, fmt.Sprintf("RLIMIT_NOFILE %d: too few descriptors for %d clients", lim.Cur, n))
	}
	path := t.TempDir() + "/lbx.sock"
	serveLogged(t, path)
	before := fdtest.Count(t, 0)
	var held []net.Conn
	for len(held) < n {
		c, err := net.Dial("unix", path)
		if err != nil {
			// The backlog is full (EAGAIN): let the server drain it.
			time.Sleep(time.Millisecond)
			continue
		}
		held = append(held, c)
	}
	time.Sleep(200 * time.Millisecond) // the server accepts what is queued
	server := fdtest.Count(t, 0) - before - len(held)
	for _, c := range held {
		c.Close()
	}
	t.Logf("%d clients held: the server had %d descriptors open for them (MaxConns %d)", len(held), server, MaxConns)
	if server > MaxConns+2 {
		t.Errorf("server descriptors %d with %d clients held, want at most MaxConns (%d) + 2", server, len(held), MaxConns)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*ConnTimeout)
	defer cancel()
	for {
		_, err := Query(ctx, path)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("query after the clients left: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// failingListener fails its first n Accepts with err.
type failingListener struct {
	net.Listener
	n   atomic.Int32
	err error
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.n.Add(-1) >= 0 {
		return nil, l.err
	}
	return l.Listener.Accept()
}

// TestAcceptErrorsRetried: whatever Accept fails with (short of the
// socket's closing), the server logs it once, retries, and answers.
func TestAcceptErrorsRetried(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.EPROTO} {
		t.Run(errno.Error(), func(t *testing.T) {
			s, err := Listen(t.TempDir() + "/lbx.sock")
			if err != nil {
				t.Fatal(err)
			}
			fl := &failingListener{Listener: s.ln, err: &net.OpError{Op: "accept", Net: "unix", Err: os.NewSyscallError("accept4", errno)}}
			fl.n.Store(5)
			s.ln = fl
			var logs bytes.Buffer
			s.log = slog.New(slog.NewTextHandler(&logs, nil))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx, func(Request) Status { return sample() }) }()
			qctx, qcancel := context.WithTimeout(ctx, 3*time.Second)
			defer qcancel()
			if _, err := Query(qctx, s.Path()); err != nil {
				t.Errorf("query after %d accept errors: %v", 5, err)
			}
			if n := strings.Count(logs.String(), errno.Error()); n != 1 {
				t.Errorf("the accept error logged %d times, want once (rate-limited):\n%s", n, logs.String())
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
}

// TestQueryWaitsOutBusy: MaxConns silent clients hold every slot (each
// for up to ConnTimeout), so the daemon closes new clients at once; Query
// asks again and gets its answer once a slot is free.
func TestQueryWaitsOutBusy(t *testing.T) {
	path, _ := serve(t, sample)
	for range MaxConns {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	time.Sleep(100 * time.Millisecond) // every silent client holds a slot
	start := time.Now()
	if _, err := Query(context.Background(), path); err != nil {
		t.Fatalf("query with %d silent clients: %v", MaxConns, err)
	}
	t.Logf("answered after %v", time.Since(start).Round(time.Millisecond))
}

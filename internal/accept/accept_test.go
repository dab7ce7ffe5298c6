package accept

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scripted is a listener whose Accept returns its errs in order, then
// blocks until closed.
type scripted struct {
	errs   []error
	closed chan struct{}
}

func (s *scripted) Accept() (net.Conn, error) {
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		if err == nil {
			c, _ := net.Pipe()
			return c, nil
		}
		return nil, err
	}
	<-s.closed
	return nil, net.ErrClosed
}
func (s *scripted) Close() error   { close(s.closed); return nil }
func (s *scripted) Addr() net.Addr { return nil }

func opErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

func TestRetrying(t *testing.T) {
	for _, tc := range []struct {
		name     string
		errs     []error
		logLines int
		minWait  time.Duration // the backoffs' sum
	}{
		{"no error", []error{nil}, 0, 0},
		{"one EMFILE", []error{opErr(syscall.EMFILE), nil}, 1, MinBackoff},
		{"four ENFILE", []error{opErr(syscall.ENFILE), opErr(syscall.ENFILE), opErr(syscall.ENFILE), opErr(syscall.ENFILE), nil}, 1, 15 * MinBackoff},
		{"not temporary", []error{opErr(syscall.EPROTO), errors.New("odd"), nil}, 1, 3 * MinBackoff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			l := Retrying(&scripted{errs: tc.errs, closed: make(chan struct{})}, "test", slog.New(slog.NewTextHandler(&logs, nil)))
			start := time.Now()
			c, err := l.Accept()
			if err != nil || c == nil {
				t.Fatalf("Accept = %v, %v; want a connection", c, err)
			}
			c.Close()
			if el := time.Since(start); el < tc.minWait {
				t.Errorf("Accept returned after %v, want at least %v of backoff", el, tc.minWait)
			}
			if n := strings.Count(logs.String(), "accept failed"); n != tc.logLines {
				t.Errorf("%d log lines, want %d:\n%s", n, tc.logLines, logs.String())
			}
			l.Close()
			if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
			}
		})
	}
}

// TestLogRate: errors are logged at most once per every; the next line
// counts the ones left out.
func TestLogRate(t *testing.T) {
	var logs bytes.Buffer
	l := Retrying(nil, "test", slog.New(slog.NewTextHandler(&logs, nil)))
	l.every = 100 * time.Millisecond
	for range 5 {
		l.report(opErr(syscall.EMFILE), MinBackoff)
	}
	time.Sleep(150 * time.Millisecond)
	l.report(opErr(syscall.EMFILE), MinBackoff)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "errors_not_logged=4") {
		t.Errorf("log, want 2 lines, the second with errors_not_logged=4:\n%s", logs.String())
	}
}

// TestCloseEndsBackoff: Close during a backoff returns Accept at once.
func TestCloseEndsBackoff(t *testing.T) {
	errs := make([]error, 20) // 20 EMFILEs: several seconds of backoff
	for i := range errs {
		errs[i] = opErr(syscall.EMFILE)
	}
	l := Retrying(&scripted{errs: errs, closed: make(chan struct{})}, "test", slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }()
	time.Sleep(100 * time.Millisecond)
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept = %v, want net.ErrClosed", err)
		}
	case <-time.After(500 * time.Millisecond):
		t.Error("Accept still backing off 500ms after Close")
	}
}

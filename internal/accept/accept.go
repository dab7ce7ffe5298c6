// Package accept keeps a listening socket alive through accept errors.
//
// A server loop that stops on the first Accept error lets anything that
// exhausts the process's descriptors (EMFILE), the system's (ENFILE) or
// memory (ENOBUFS) close a daemon's socket for good. Retrying wraps a
// listener so that Accept retries every error but the listener's own
// closing, backing off from 5 ms to 1 s and logging at most once per
// LogEvery.
package accept

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Backoff bounds and the log's rate.
const (
	MinBackoff = 5 * time.Millisecond
	MaxBackoff = time.Second
	LogEvery   = 10 * time.Second
)

// Listener is a net.Listener whose Accept returns only a connection or,
// once the listener is closed, the close's error.
type Listener struct {
	net.Listener
	name  string
	log   *slog.Logger
	every time.Duration // LogEvery; shorter in tests

	closed    chan struct{}
	closeOnce sync.Once

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int
}

// Retrying wraps ln; name says which socket in the log ("metrics",
// "status socket /run/lbx/lbx.sock").
func Retrying(ln net.Listener, name string, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.Default()
	}
	return &Listener{Listener: ln, name: name, log: log, every: LogEvery, closed: make(chan struct{})}
}

// Accept waits for a connection, retrying after errors until it gets one
// or the listener is closed.
func (l *Listener) Accept() (net.Conn, error) {
	wait := time.Duration(0)
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			return c, nil
		}
		if l.isClosed(err) {
			// Closed: a stop, whatever this last attempt said (an
			// attempt made as Close ran may still see EMFILE).
			if !errors.Is(err, net.ErrClosed) {
				err = net.ErrClosed
			}
			return nil, err
		}
		wait = min(max(2*wait, MinBackoff), MaxBackoff)
		l.report(err, wait)
		select {
		case <-time.After(wait):
		case <-l.closed:
			return nil, net.ErrClosed
		}
	}
}

// Close closes the listener and ends a backoff in progress.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func (l *Listener) isClosed(err error) bool {
	select {
	case <-l.closed:
		return true
	default:
	}
	return errors.Is(err, net.ErrClosed)
}

// report logs err unless an error was logged less than LogEvery ago; the
// next line counts the errors left out meanwhile.
func (l *Listener) report(err error, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.lastLog.IsZero() && now.Sub(l.lastLog) < l.every {
		l.suppressed++
		return
	}
	l.log.Warn("accept failed; retrying", "socket", l.name, "err", err, "retry_in", wait, "errors_not_logged", l.suppressed)
	l.lastLog, l.suppressed = now, 0
}

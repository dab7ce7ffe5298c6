package statusd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lbx-dev/lbx/internal/accept"
	"github.com/lbx-dev/lbx/internal/paths"
	"golang.org/x/sys/unix"
)

// Limits of the server. A client gets its document within ConnTimeout or
// the connection is closed; beyond MaxConns concurrent clients, new ones
// are closed at once.
const (
	ConnTimeout = 2 * time.Second
	MaxConns    = 8
)

// Server is a bound status socket. Make one with Listen at daemon start
// (so that a second `lbx watch` fails before touching the kernel), then run
// Serve.
type Server struct {
	path string
	ln   net.Listener // a *net.UnixListener; tests wrap it
	lock *os.File
	sem  chan struct{}
	log  *slog.Logger
	wg   sync.WaitGroup
}

// Listen binds the status socket at path. It holds an exclusive lock on
// path+".lock" for the server's life: with the lock taken, a daemon is
// running and Listen refuses, naming its pid; with the lock free, a socket
// file left at path is a dead daemon's and is removed. The socket is made
// mode 0600 (root only: the status names every server of the network).
func Listen(path string) (*Server, error) {
	if path == "" {
		path = paths.HostStatusSocket
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errRunning(path)
		}
		return nil, fmt.Errorf("status socket: lock %s.lock: %w", path, err)
	}
	release := func() { lock.Close() } // closing the fd drops the flock
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			release()
			return nil, fmt.Errorf("status socket: %s exists and is not a socket; remove it or give another --status-socket", path)
		}
		// Belt and braces: a process answering on the socket without
		// our lock (an older lbx) is alive; never steal its socket.
		if c, err := net.DialUnix("unix", nil, unixAddr(path)); err == nil {
			c.Close()
			release()
			return nil, errRunning(path)
		}
		if err := os.Remove(path); err != nil {
			release()
			return nil, fmt.Errorf("status socket: remove stale %s: %w", path, err)
		}
		slog.Info("removed a stale status socket", "path", path)
	}
	ln, err := net.ListenUnix("unix", unixAddr(path))
	if err != nil {
		release()
		return nil, fmt.Errorf("status socket: %w", err)
	}
	// chmod right after bind: between the two the socket has the umask's
	// mode, and the directory (root's /run/lbx) bounds who can reach it.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		release()
		return nil, fmt.Errorf("status socket: %w", err)
	}
	return &Server{path: path, ln: ln, lock: lock, sem: make(chan struct{}, MaxConns), log: slog.Default()}, nil
}

// errRunning names the running daemon, asking it for its pid (best effort).
func errRunning(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if st, err := Query(ctx, path); err == nil {
		return fmt.Errorf("another lbx watch is running (pid %d, status socket %s); stop it first", st.Daemon.PID, path)
	}
	return fmt.Errorf("another lbx watch is running (status socket %s is in use); stop it first", path)
}

// unixAddr is the status socket at path, as the server listens on it and
// clients dial it.
func unixAddr(path string) *net.UnixAddr { return &net.UnixAddr{Name: path, Net: "unix"} }

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Serve answers clients with snapshot(their request) until ctx is done,
// then closes the socket (removing its file), waits for in-flight clients
// (at most ConnTimeout) and releases the lock. snapshot is called once per
// client, from the client's goroutine: it must be safe for concurrent use
// and fast (copy the state under the loop's lock, nothing more), and it
// need build the daemon model only when the request asks for it (what it
// sends otherwise is left out).
func (s *Server) Serve(ctx context.Context, snapshot func(Request) Status) error {
	// Accept errors (EMFILE when something else took every descriptor)
	// are logged and retried: the socket outlives the shortage.
	ln := accept.Retrying(s.ln, "status socket "+s.path, s.log)
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer s.lock.Close()
	defer s.wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("status socket %s: %w", s.path, err) // closed by Close
		}
		select {
		case s.sem <- struct{}{}:
		default:
			c.Close() // too many at once: the client sees EOF and retries
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.sem }()
			s.handle(c, snapshot)
		}()
	}
}

// Close closes the socket without Serve (a daemon that fails after Listen).
func (s *Server) Close() error {
	err := s.ln.Close()
	s.lock.Close()
	return err
}

func (s *Server) handle(c net.Conn, snapshot func(Request) Status) {
	defer c.Close()
	deadline := time.Now().Add(ConnTimeout)
	c.SetDeadline(deadline)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("status snapshot panicked", "panic", r)
		}
	}()
	req := readRequest(c, deadline)
	st := snapshot(req)
	st.FormatVersion = FormatVersion
	st.DaemonModel = req.daemonModel(st.DaemonModel)
	b, err := json.Marshal(st)
	if err != nil {
		s.log.Error("status: encode", "err", err)
		return
	}
	if _, err := c.Write(append(b, '\n')); err != nil {
		s.log.Debug("status: write", "err", err)
		return
	}
	// Half-close, then drain what the client sent beyond its request
	// until it closes: closing a unix socket with unread input would
	// reset the client's connection before it read the document.
	if hc, ok := c.(interface{ CloseWrite() error }); ok {
		hc.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(c, 4096))
}

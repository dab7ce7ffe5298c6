package statusd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/lbx-dev/lbx/internal/paths"
)

// ErrNotRunning is wrapped by Query's error when no daemon answers.
var ErrNotRunning = errors.New("no lbx watch is running")

// maxDoc bounds the document a client reads (a model of thousands of real
// servers is a few MB).
const maxDoc = 64 << 20

// Query asks the daemon at path for its status. With no daemon running it
// returns an error wrapping ErrNotRunning whose text is one line for the
// user: "no lbx watch is running (no socket at /run/lbx/lbx.sock)". A
// daemon busy with MaxConns clients closes new ones without an answer:
// Query asks again until ctx's deadline (by default 2*ConnTimeout, by
// which the daemon has let every earlier client go).
func Query(ctx context.Context, path string) (*Status, error) {
	return QueryRequest(ctx, path, Request{})
}

// QueryRequest is Query asking for what req names. A daemon that does not
// send what was asked for (an lbx watch older than the client) is an
// error saying so.
func QueryRequest(ctx context.Context, path string, req Request) (*Status, error) {
	if path == "" {
		path = paths.HostStatusSocket
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*ConnTimeout)
		defer cancel()
	}
	start := time.Now()
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		b, err := exchange(ctx, path, req.line(), start)
		if err != nil {
			return nil, err
		}
		if len(b) > 0 {
			st, err := decode(b, path)
			if err == nil && req.DaemonModel && st.DaemonModel == nil {
				return nil, fmt.Errorf("status socket %s: lbx watch (pid %d, version %q) did not send its model, which this lbx needs: restart it with this lbx's version", path, st.Daemon.PID, st.Daemon.Version)
			}
			return st, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("status socket %s: the daemon closed the connection without answering (busy; try again)", path)
		case <-time.After(wait):
		}
	}
}

// exchange sends one request and returns what the daemon wrote: nothing
// when it was busy.
func exchange(ctx context.Context, path, request string, start time.Time) ([]byte, error) {
	// A unix connect does not wait (a full backlog fails at once), so ctx
	// bounds only the exchange. DialUnix, not a Dialer: dialing by address
	// string links the DNS resolver into every binary with a status socket.
	c, err := net.DialUnix("unix", nil, unixAddr(path))
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("%w (no socket at %s)", ErrNotRunning, path)
		case errors.Is(err, syscall.ECONNREFUSED):
			return nil, fmt.Errorf("%w (stale socket at %s)", ErrNotRunning, path)
		case errors.Is(err, os.ErrPermission):
			return nil, fmt.Errorf("cannot read %s: permission denied (the status socket is root's: run as root)", path)
		}
		return nil, fmt.Errorf("status socket %s: %w", path, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if _, err := c.Write([]byte(request)); err != nil {
		if isReset(err) {
			return nil, nil // closed before we wrote: busy
		}
		return nil, fmt.Errorf("status socket %s: %w", path, err)
	}
	c.CloseWrite()
	b, err := io.ReadAll(io.LimitReader(c, maxDoc))
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("status socket %s: no answer within %v (is lbx watch wedged?)", path, time.Since(start).Round(time.Millisecond))
		}
		if isReset(err) && len(b) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("status socket %s: %w", path, err)
	}
	return b, nil
}

// isReset: the daemon closed the connection under us (at MaxConns it
// closes new clients at once).
func isReset(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

func decode(b []byte, path string) (*Status, error) {
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("status socket %s: bad document: %w", path, err)
	}
	if st.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("status socket %s: format_version %d, this lbx reads %d (upgrade lbx status to the daemon's version)", path, st.FormatVersion, FormatVersion)
	}
	return &st, nil
}

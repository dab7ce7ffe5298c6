package check

import (
	"context"
	"time"
)

// TCP is TCP_CHECK: up when a TCP connection to Conn.Addr completes within
// the timeout. Nothing is sent; the connection is closed at once.
type TCP struct{ Conn Conn }

// Check implements Checker.
func (t *TCP) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withDeadline(ctx, t.Conn.Timeout)
	defer cancel()
	c, err := t.Conn.dialer("tcp").DialContext(ctx, "tcp", t.Conn.Addr.String())
	if err != nil {
		return down(start, "connect: %s", reason(err))
	}
	c.Close()
	return up(start)
}

package check

import (
	"context"
	"time"
)

// TCP is TCP_CHECK: up when a TCP connection to Conn.Addr completes within
// the timeout. Nothing is sent; the connection is closed at once.
type TCP struct{ Conn Conn }

// connectOnly is TCP_CHECK's one conversation: connecting is the check.
var connectOnly = []conversation{{}}

// conn and conversations make TCP_CHECK an evented check.
func (t *TCP) conn() *Conn                      { return &t.Conn }
func (t *TCP) conversations() []conversation    { return connectOnly }
func (t *TCP) failure(_ int, msg string) string { return "connect: " + msg }

// Check implements Checker (the blocking path, for callers outside the
// runner).
func (t *TCP) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withDeadline(ctx, t.Conn.Timeout)
	defer cancel()
	c, err := t.Conn.dialer("tcp").DialContext(ctx, "tcp", t.Conn.Addr.String())
	if err != nil {
		return down(start, "%s", t.failure(0, reason(err)))
	}
	c.Close()
	return up(start)
}

package check

import (
	"context"
	"net/textproto"
	"time"
)

// DefaultHeloName is keepalived's default helo_name.
const DefaultHeloName = "smtpchecker.keepalived.org"

// SMTP is SMTP_CHECK: connect, read a 220 banner, send HELO, expect 250,
// then QUIT (its reply is not awaited beyond the deadline and not judged).
// No TLS, no EHLO extensions, no mail is sent. Each step (the connect,
// each reply) has connect_timeout, as keepalived re-arms its timer for
// every read, within smtpSteps of them in all: a server that delays its
// greeting (postscreen, a tarpit) passes as under keepalived.
type SMTP struct {
	Conn     Conn
	HeloName string
}

// Check implements Checker.
func (s *SMTP) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withDeadline(ctx, smtpSteps*s.Conn.Timeout)
	defer cancel()
	c, err := s.Conn.dialer("tcp").DialContext(ctx, "tcp", s.Conn.Addr.String())
	if err != nil {
		return down(start, "connect: %s", reason(err))
	}
	defer c.Close()
	// nextStep: connect_timeout for the next reply, never past the bound.
	bound, _ := ctx.Deadline()
	nextStep := func() {
		d := time.Now().Add(s.Conn.Timeout)
		if d.After(bound) {
			d = bound
		}
		c.SetDeadline(d)
	}
	nextStep()
	// Closing the connection when ctx ends unblocks reads even if the
	// caller's context is cancelled before the deadline.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	tp := textproto.NewConn(c)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return down(start, "banner: %s", reasonSMTP(ctx, err))
	}
	nextStep()
	if err := tp.PrintfLine("HELO %s", s.HeloName); err != nil {
		return down(start, "HELO: %s", ioReason(ctx, err))
	}
	if _, _, err := tp.ReadResponse(250); err != nil {
		return down(start, "HELO: %s", reasonSMTP(ctx, err))
	}
	nextStep()
	if tp.PrintfLine("QUIT") == nil {
		tp.ReadResponse(221) // politeness only; the server already passed
	}
	return up(start)
}

// smtpSteps bounds an SMTP conversation (connect, banner, HELO's reply,
// QUIT's) at this many connect_timeouts.
const smtpSteps = 4

func reasonSMTP(ctx context.Context, err error) string {
	if pe, ok := err.(*textproto.Error); ok {
		return pe.Error()
	}
	return ioReason(ctx, err)
}

package check

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"
)

// UDP is UDP_CHECK: send Payload on a connected UDP socket. With
// RequireReply it is up only if a datagram comes back before the deadline.
// Without, it is down only if the kernel reports ICMP port unreachable
// (ECONNREFUSED on the connected socket) before the deadline, and up
// otherwise — so silence counts as up, and every such check lasts the whole
// connect_timeout. keepalived's reply-content matching
// (min/max_reply_length, reply data and mask) is not implemented.
type UDP struct {
	Conn         Conn
	Payload      []byte
	RequireReply bool
}

// Check implements Checker.
func (u *UDP) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withDeadline(ctx, u.Conn.Timeout)
	defer cancel()
	c, err := u.Conn.dialUDP(ctx)
	if err != nil {
		return down(start, "socket: %s", reason(err))
	}
	defer c.Close()
	if _, err := c.Write(u.Payload); err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return down(start, "port unreachable")
		}
		return down(start, "send: %s", reason(err))
	}
	buf := make([]byte, 1500)
	_, err = c.Read(buf)
	switch {
	case err == nil:
		return up(start)
	case errors.Is(err, syscall.ECONNREFUSED):
		return down(start, "port unreachable")
	case u.RequireReply:
		return down(start, "no reply: %s", ioReason(ctx, err))
	}
	// No reply and no ICMP error: up, unless our caller gave up first.
	if errors.Is(ctx.Err(), context.Canceled) {
		return down(start, "cancelled")
	}
	return up(start)
}

// dialUDP opens a connected UDP socket bound by ctx's deadline: the socket
// deadline covers reads and writes, and cancelling ctx closes it, so no
// probe outlives its deadline.
func (c Conn) dialUDP(ctx context.Context) (net.Conn, error) {
	conn, err := c.dialer("udp").DialContext(ctx, "udp", c.Addr.String())
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return &stopConn{Conn: conn, stop: stop}, nil
}

// stopConn releases the context hook when the socket is closed.
type stopConn struct {
	net.Conn
	stop func() bool
}

func (s *stopConn) Close() error {
	s.stop()
	return s.Conn.Close()
}

// Package check runs lbx's health checks: one Checker per protocol behind a
// common interface (seesaw's design), and a Runner that schedules them per
// real server with keepalived's semantics (delay_loop, retry,
// delay_before_retry, alpha, warmup) and reports only state changes.
//
// Every check runs under a hard deadline derived from its settings
// (connect_timeout, per step of an HTTP conversation and at most
// conversationSteps of them; or the misc timeout): a server that accepts and never
// answers, a slow TLS handshake or a script that never exits costs at most
// that deadline, and only to its own real server: TCP and plain HTTP checks
// run side by side on the runner's event loop (evloop.go), the others each
// in a goroutine for the length of a probe.
package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Checker is one health check of one real server.
type Checker interface {
	// Check probes once. It returns by the deadline of its settings or
	// ctx's, whichever is earlier; it never panics on bad replies.
	Check(ctx context.Context) Result
}

// Result is the outcome of one probe.
type Result struct {
	Up      bool
	Latency time.Duration
	// Reason says briefly why a probe failed ("connection refused",
	// "status 503 not in 200-299"); empty on success.
	Reason string
	// Weight is set by misc_dynamic scripts (exit code − 2); nil otherwise.
	Weight *int
}

func up(start time.Time) Result { return Result{Up: true, Latency: time.Since(start)} }

func down(start time.Time, format string, args ...any) Result {
	return Result{Latency: time.Since(start), Reason: fmt.Sprintf(format, args...)}
}

// Conn are the connection settings shared by network checks
// (keepalived's conn_opts).
type Conn struct {
	Addr      netip.AddrPort // connect_ip:connect_port
	BindAddr  netip.Addr     // bindto; zero: any
	BindPort  int            // bind_port; 0: any
	Interface string         // bind_if (SO_BINDTODEVICE)
	FWMark    uint32         // fwmark (SO_MARK) on the checker's sockets
	Timeout   time.Duration  // connect_timeout: see conversationSteps
}

// conversationSteps bounds a conversation (connect, request, reply) at this
// many connect_timeouts. Within it, connect_timeout is the deadline of each
// step, as keepalived re-arms its timer for the connect and for every read:
// a server that is slow to accept and then slow to answer passes, as it
// does under keepalived, and a server that trickles its reply a byte at a
// time still fails at the bound (keepalived has none).
const conversationSteps = 3

// stepDeadline is the deadline of the next step of a conversation that
// started at start: connect_timeout from now, never past the bound.
func (c *Conn) stepDeadline(start, now time.Time) time.Time {
	d := now.Add(c.Timeout)
	if bound := start.Add(conversationSteps * c.Timeout); d.After(bound) {
		return bound
	}
	return d
}

// dialer builds a net.Dialer honouring bindto/bind_port/bind_if/fwmark and
// the timeout. network is "tcp" or "udp".
func (c Conn) dialer(network string) *net.Dialer {
	d := &net.Dialer{Timeout: c.Timeout, KeepAlive: -1}
	if c.BindAddr.IsValid() || c.BindPort != 0 {
		ap := netip.AddrPortFrom(c.BindAddr, uint16(c.BindPort))
		if network == "udp" {
			d.LocalAddr = net.UDPAddrFromAddrPort(ap)
		} else {
			d.LocalAddr = net.TCPAddrFromAddrPort(ap)
		}
		if !c.BindAddr.IsValid() {
			// Port only: let the kernel choose the address.
			switch network {
			case "udp":
				d.LocalAddr = &net.UDPAddr{Port: c.BindPort}
			default:
				d.LocalAddr = &net.TCPAddr{Port: c.BindPort}
			}
		}
	}
	if c.Interface != "" || c.FWMark != 0 {
		iface, mark := c.Interface, c.FWMark
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) { serr = sockopts(int(fd), iface, mark) })
			if err != nil {
				return err
			}
			return serr
		}
	}
	return d
}

// sockopts applies bind_if and fwmark to a socket before it connects.
func sockopts(fd int, iface string, mark uint32) error {
	if iface != "" {
		if err := unix.BindToDevice(fd, iface); err != nil {
			return fmt.Errorf("bind_if %s: %w", iface, err)
		}
	}
	if mark != 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, int(mark)); err != nil {
			return fmt.Errorf("fwmark %d: %w", mark, err)
		}
	}
	return nil
}

// withDeadline bounds ctx by d from now (d <= 0: ctx unchanged).
func withDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// reason shortens a network error to what an operator needs: the syscall
// error or "timeout" rather than the whole dial chain.
func reason(err error) string {
	if err == nil {
		return ""
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// ioReason is reason for an I/O error on a connection that is closed when
// ctx ends: the close shows up as "use of closed network connection", but
// the cause is the deadline (or the caller's cancellation).
func ioReason(ctx context.Context, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout"
	case errors.Is(ctx.Err(), context.Canceled):
		return "cancelled"
	}
	return reason(err)
}

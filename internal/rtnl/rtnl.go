// Package rtnl is route netlink for the VRRP daemons: notifications of
// links and addresses, dumps of them, and address adds and deletes,
// received into one buffer that a connection keeps and grows only to the
// largest datagram it read.
//
// The rest of lbx uses vishvananda/netlink, which receives into a 64 KiB
// array on the caller's stack: a goroutine that waits on one of its
// subscriptions holds a 128 KiB stack, the array zeroed at every read. A
// VRRP daemon waits on three, and its address writer on a fourth; their
// stacks were a sixth of lbx-vrrp's memory.
package rtnl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrDumpInterrupted is a dump that a change made while it ran left
// inconsistent (NLM_F_DUMP_INTR): the caller reads it again.
var ErrDumpInterrupted = errors.New("netlink dump interrupted by a change; read it again")

// bufferStep rounds a buffer up. The kernel fills a dump's datagrams to
// about a page, or to the largest read the socket asked for, so the
// buffer stops growing after the first.
const bufferStep = 4 << 10

// notifyBuffer is the socket's receive buffer when it joins groups.
const notifyBuffer = 1 << 20

// Conn is a route netlink socket. It reads what the kernel sends only:
// an unprivileged process may not address another's rtnetlink socket,
// and what root's would send is dropped.
type Conn struct {
	mu     sync.Mutex // one reader at a time: buf
	closed atomic.Bool
	f      *os.File
	rc     syscall.RawConn
	pid    uint32
	seq    uint32
	buf    []byte
	req    []byte // the last request, its space reused
	// notified: the socket joined groups; else a message of another
	// sequence is a stale answer (of a request that failed half way).
	notified bool
	// The poller's callbacks, bound once (a closure per call would be
	// allocated at every datagram), and what the last one got.
	waitPeek func(fd uintptr) bool
	peekNow  func(fd uintptr)
	readNow  func(fd uintptr)
	writeNow func(fd uintptr)
	got      int
	kernel   bool
	err      error
}

// Open opens a socket that receives the notifications of the given
// multicast groups (unix.RTNLGRP_LINK, ...); none for dumps and requests
// alone. Close ends a Receive, Dump or request in progress.
func Open(groups ...uint32) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	pid, err := setup(fd, groups)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "rtnetlink")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	c := &Conn{f: f, rc: rc, pid: pid, notified: len(groups) > 0}
	c.waitPeek = c.tryPeek
	c.peekNow = func(fd uintptr) { c.tryPeek(fd) }
	c.readNow = c.readBuf
	c.writeNow = c.writeReq
	return c, nil
}

// setup binds fd, joins the groups and returns the socket's port id.
func setup(fd int, groups []uint32) (uint32, error) {
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("netlink bind: %w", err)
	}
	if len(groups) > 0 {
		// Room for a burst (a thousand VIPs added at once) before the
		// kernel drops notifications (ENOBUFS): kernel memory, beyond
		// rmem_max for root. Best effort: the default still works, with
		// a resync after each overflow.
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, notifyBuffer) != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, notifyBuffer)
		}
	}
	for _, g := range groups {
		if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(g)); err != nil {
			return 0, fmt.Errorf("netlink group %d: %w", g, err)
		}
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0, fmt.Errorf("netlink socket name: %w", err)
	}
	nl, ok := sa.(*unix.SockaddrNetlink)
	if !ok {
		return 0, fmt.Errorf("netlink socket name: %T", sa)
	}
	return nl.Pid, nil
}

// Close closes the socket; a read in progress or after returns
// os.ErrClosed.
func (c *Conn) Close() error {
	c.closed.Store(true)
	return c.f.Close()
}

// ioError is err from the file's poller (the socket closed, mostly) as
// the caller knows it.
func (c *Conn) ioError(err error) error {
	if c.closed.Load() {
		return os.ErrClosed
	}
	return fmt.Errorf("netlink: %w", err)
}

// Receive waits for notifications, then calls fn with each message that
// has arrived by then (up to maxBurst datagrams: a flood still returns),
// and returns: a caller acts once for a burst (a master's addresses come
// together). An error (unix.ENOBUFS: the kernel dropped notifications;
// the socket closed) means the caller has missed changes.
func (c *Conn) Receive(fn func(Message)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < maxBurst; i++ {
		wait := i == 0
		b, err := c.read(wait)
		if err != nil || b == nil {
			return err
		}
		if err := Messages(b, fn); err != nil {
			return err
		}
	}
	return nil
}

// maxBurst bounds the datagrams one Receive reads.
const maxBurst = 1024

// Dump asks for every link (unix.RTM_GETLINK) or address
// (unix.RTM_GETADDR) of family (unix.AF_UNSPEC for all) and calls fn with
// each message of the answer. On a socket that joined groups, fn gets the
// notifications that arrive meanwhile too. A dump that a change
// interrupted returns ErrDumpInterrupted after its last message.
func (c *Conn) Dump(typ uint16, family uint8, fn func(Message)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.req = appendDumpRequest(c.req[:0], typ, family)
	return c.exchange(&answer{notified: c.notified, fn: fn})
}

// exchange sends c.req (a dump or a request) with the next sequence
// number and reads its answer into a until the answer ends. c.mu is held.
func (c *Conn) exchange(a *answer) error {
	c.seq++
	binary.NativeEndian.PutUint32(c.req[8:], c.seq)
	a.pid, a.seq = c.pid, c.seq
	if err := c.send(); err != nil {
		return err
	}
	for !a.done {
		b, err := c.read(true)
		if err != nil {
			return err
		}
		if err := Messages(b, a.take); err != nil {
			return err
		}
	}
	return a.result()
}

// answer follows the answer to one dump or request on a socket: the
// messages of its port and sequence up to NLMSG_DONE or NLMSG_ERROR (a
// request's acknowledgement: ack); others are notifications (passed on
// if the socket joined groups) or a stale answer (dropped).
type answer struct {
	pid, seq          uint32
	notified, ack     bool
	fn                func(Message)
	done, interrupted bool
	err               error
}

func (a *answer) take(m Message) {
	if m.Pid != a.pid || m.Seq != a.seq {
		if a.notified {
			a.fn(m)
		}
		return
	}
	a.interrupted = a.interrupted || m.Flags&unix.NLM_F_DUMP_INTR != 0
	switch m.Type {
	case unix.NLMSG_DONE:
		// It may carry the dump's error, as NLMSG_ERROR does.
		a.done = true
		if len(m.Data) >= 4 {
			a.err = ackError(m.Data)
		}
	case unix.NLMSG_ERROR:
		a.done = true
		if a.err = ackError(m.Data); a.err == nil && !a.ack {
			a.err = fmt.Errorf("%w: an acknowledgement ended a dump", errMalformed)
		}
	default:
		if a.fn != nil {
			a.fn(m)
		}
	}
}

// result is the outcome once done: a request's error as the kernel gave
// it; a dump's error, else ErrDumpInterrupted if a change interrupted it.
func (a *answer) result() error {
	switch {
	case a.ack:
		return a.err
	case a.err != nil:
		return fmt.Errorf("netlink dump: %w", a.err)
	case a.interrupted:
		return ErrDumpInterrupted
	}
	return nil
}

// appendDumpRequest writes a dump's request into b, which is empty: its
// header (its sequence number left to exchange), then a zeroed ifinfomsg
// or ifaddrmsg that names the family.
func appendDumpRequest(b []byte, typ uint16, family uint8) []byte {
	body := unix.SizeofIfAddrmsg
	if typ == unix.RTM_GETLINK {
		body = unix.SizeofIfInfomsg
	}
	b = appendHeader(b, typ, unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	b = append(b, make([]byte, body)...)
	b[headerLen] = family
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	return b
}

// appendHeader appends a message header to b, its length left to the
// caller to set once the message is whole, its sequence number to
// exchange.
func appendHeader(b []byte, typ, flags uint16) []byte {
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	return append(b, make([]byte, 8)...) // sequence number, port id
}

// ackError is an NLMSG_ERROR's error: a negative errno, 0 for none (an
// acknowledgement).
func ackError(data []byte) error {
	if len(data) < 4 {
		return fmt.Errorf("%w: short error message", errMalformed)
	}
	if errno := -int32(binary.NativeEndian.Uint32(data)); errno > 0 {
		return unix.Errno(errno)
	}
	return nil
}

// send writes c.req. A netlink socket that is not connected sends to
// the kernel.
func (c *Conn) send() error {
	if cerr := c.rc.Control(c.writeNow); cerr != nil {
		return c.ioError(cerr)
	}
	if c.err != nil {
		return fmt.Errorf("netlink send: %w", c.err)
	}
	return nil
}

func (c *Conn) writeReq(fd uintptr) { _, c.err = unix.Write(int(fd), c.req) }

// read reads the next datagram from the kernel into c.buf, grown first to
// fit it (a peek with MSG_TRUNC gives its whole length): a socket of
// notifications keeps a buffer of the largest it got, a page mostly. A
// datagram from another sender (only root may send one) is dropped. When
// wait is false and nothing has arrived, it returns nil.
func (c *Conn) read(wait bool) ([]byte, error) {
	for {
		n, kernel, err := c.peek(wait)
		if err != nil || n < 0 {
			return nil, err
		}
		if n > len(c.buf) {
			c.buf = make([]byte, (n+bufferStep-1)/bufferStep*bufferStep)
		}
		// read(2): the peek told the sender.
		cerr := c.rc.Control(c.readNow)
		switch {
		case cerr != nil:
			return nil, c.ioError(cerr)
		case c.err != nil:
			return nil, fmt.Errorf("netlink receive: %w", c.err)
		case kernel:
			return c.buf[:c.got], nil
		}
	}
}

func (c *Conn) readBuf(fd uintptr) { c.got, c.err = unix.Read(int(fd), c.buf) }

// peek waits (if wait) for the next datagram and returns its length and
// whether the kernel sent it; -1 when wait is false and none is there.
func (c *Conn) peek(wait bool) (n int, kernel bool, err error) {
	var cerr error
	if wait {
		cerr = c.rc.Read(c.waitPeek)
	} else {
		cerr = c.rc.Control(c.peekNow)
	}
	switch {
	case cerr != nil:
		return 0, false, c.ioError(cerr)
	case c.err == unix.EAGAIN && !wait:
		return -1, false, nil
	case c.err != nil:
		return 0, false, fmt.Errorf("netlink receive: %w", c.err)
	}
	return c.got, c.kernel, nil
}

// tryPeek peeks once; false (the poller waits) when nothing has arrived.
func (c *Conn) tryPeek(fd uintptr) bool {
	c.got, c.kernel, c.err = peekFrom(fd, c.buf)
	return c.err != unix.EAGAIN
}

// peekFrom is recvfrom(2) with MSG_PEEK|MSG_TRUNC: the length of the next
// datagram, and whether the kernel (port 0) sent it. unix.Recvfrom would
// allocate the sender's address at each call, and a dump or a burst of
// notifications is hundreds of them.
func peekFrom(fd uintptr, b []byte) (n int, kernel bool, err error) {
	var sa unix.RawSockaddrNetlink
	salen := uint32(unix.SizeofSockaddrNetlink)
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	r, _, errno := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(p), uintptr(len(b)), unix.MSG_PEEK|unix.MSG_TRUNC,
		uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&salen)))
	if errno != 0 {
		return 0, false, errno
	}
	return int(r), salen >= unix.SizeofSockaddrNetlink && sa.Family == unix.AF_NETLINK && sa.Pid == 0, nil
}

// SubscribeAddrs sends every address notification to ch until done is
// closed, or the subscription breaks (a notification lost, the socket
// gone): then it closes ch. It has vishvananda/netlink's
// AddrSubscribeWithOptions' shape, which internal/nlwatch follows.
func SubscribeAddrs(ch chan Addr, done chan struct{}) error {
	c, err := Open(unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR)
	if err != nil {
		return err
	}
	go func() {
		<-done
		c.Close()
	}()
	go func() {
		defer close(ch)
		for c.Receive(func(m Message) {
			if a, ok := m.Addr(); ok {
				select {
				case ch <- a:
				case <-done:
				}
			}
		}) == nil {
		}
	}()
	return nil
}

// AddAddr adds a (its Index, Addr, Bits, Label, Scope and Flags) as lbx
// watch's engine does through vishvananda/netlink: the address as both
// local and peer, an IPv4 subnet's broadcast address (`ip address add
// ... brd +`), the label for IPv4 only. An address that is there already
// is unix.EEXIST; an IPv4-mapped IPv6 one is refused (unix.EINVAL), as
// the kernel refuses it as IPv4.
func (c *Conn) AddAddr(a Addr) error {
	return c.request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, a)
}

// DelAddr deletes a (by Index, Addr and Bits). An address that is not
// there is unix.EADDRNOTAVAIL.
func (c *Conn) DelAddr(a Addr) error {
	return c.request(unix.RTM_DELADDR, 0, a)
}

// appendAddrRequest writes an address request into b, which is empty:
// its space is reused.
func appendAddrRequest(b []byte, typ, flags uint16, a Addr) []byte {
	local := a.Addr.AsSlice()
	b = appendHeader(b, typ, unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	b = append(b, make([]byte, unix.SizeofIfAddrmsg)...)
	msg := b[headerLen:]
	msg[0] = unix.AF_INET6
	if a.Addr.Is4() {
		msg[0] = unix.AF_INET
	}
	msg[1], msg[3] = uint8(a.Bits), a.Scope
	binary.NativeEndian.PutUint32(msg[4:], uint32(a.Index))
	if a.Flags <= 0xff {
		msg[2] = uint8(a.Flags)
	} else {
		b = appendAttr(b, unix.IFA_FLAGS, binary.NativeEndian.AppendUint32(nil, a.Flags))
	}
	b = appendAttr(b, unix.IFA_LOCAL, local)
	b = appendAttr(b, unix.IFA_ADDRESS, local)
	if a.Addr.Is4() {
		if a.Bits < 31 { // RFC 3021: a /31 or /32 has none
			b = appendAttr(b, unix.IFA_BROADCAST, broadcast(a.Addr, a.Bits))
		}
		if a.Label != "" {
			b = appendAttr(b, unix.IFA_LABEL, append([]byte(a.Label), 0))
		}
	}
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	return b
}

// broadcast is the last address of addr's IPv4 subnet of bits.
func broadcast(addr netip.Addr, bits int) []byte {
	b := addr.As4()
	return binary.BigEndian.AppendUint32(nil, binary.BigEndian.Uint32(b[:])|^uint32(0)>>bits)
}

// appendAttr appends a route attribute, padded.
func appendAttr(b []byte, typ uint16, v []byte) []byte {
	n := unix.SizeofRtAttr + len(v)
	b = binary.NativeEndian.AppendUint16(b, uint16(n))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	return append(b, make([]byte, align(n)-n)...)
}

// request sends an address request (typ, flags, a) with the next
// sequence number and waits for the kernel's acknowledgement: nil, or the
// error it reports (a unix.Errno). Anything else read meanwhile is
// dropped: a socket that joined groups does not make requests.
func (c *Conn) request(typ, flags uint16, a Addr) error {
	if a.Addr.Is4In6() {
		return fmt.Errorf("address %s: %w", a.Addr, unix.EINVAL)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.req = appendAddrRequest(c.req[:0], typ, flags, a)
	return c.exchange(&answer{ack: true})
}

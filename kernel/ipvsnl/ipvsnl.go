// Package ipvsnl writes IPVS rules over generic netlink, many requests per
// system call. moby/ipvs (and ipvsadm) send one request and wait for its
// acknowledgement before the next, so programming 10,000 rules costs 10,000
// round trips; the kernel, though, processes every message of one sendmsg in
// order and acknowledges each, so a whole batch costs one round trip. No Go
// library pipelines IPVS requests, hence this package. It also sets what
// moby/ipvs cannot: the destination address family and the tunnel type.
//
// Message layout follows include/uapi/linux/ip_vs.h.
package ipvsnl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Commands (IPVS_CMD_*).
const (
	CmdNewService = 1
	CmdSetService = 2
	CmdDelService = 3
	CmdNewDest    = 5
	CmdSetDest    = 6
	CmdDelDest    = 7
)

// Attribute numbers (IPVS_CMD_ATTR_*, IPVS_SVC_ATTR_*, IPVS_DEST_ATTR_*).
const (
	cmdAttrService = 1
	cmdAttrDest    = 2

	svcAttrAF        = 1
	svcAttrProtocol  = 2
	svcAttrAddr      = 3
	svcAttrPort      = 4
	svcAttrFWMark    = 5
	svcAttrSchedName = 6
	svcAttrFlags     = 7
	svcAttrTimeout   = 8
	svcAttrNetmask   = 9

	destAttrAddr       = 1
	destAttrPort       = 2
	destAttrFwdMethod  = 3
	destAttrWeight     = 4
	destAttrUThresh    = 5
	destAttrLThresh    = 6
	destAttrAddrFamily = 11
	destAttrTunType    = 13
	destAttrTunPort    = 14
	destAttrTunFlags   = 15

	genlVersion = 1

	fwdTunnel = 0x2 // IP_VS_CONN_F_TUNNEL
)

// Tunnel types and flags (IP_VS_CONN_F_TUNNEL_TYPE_*, IP_VS_TUNNEL_ENCAP_FLAG_*).
const (
	TunIPIP    = 0
	TunGUE     = 1
	TunGRE     = 2
	TunCsum    = 1 << 0
	TunRemCsum = 1 << 1
)

// Service identifies an IPVS service and carries its settings (for
// new/set; delete and destination commands use only the identity).
type Service struct {
	Family   uint16 // unix.AF_INET or unix.AF_INET6
	Protocol uint16 // IP protocol; 0 for fwmark services
	Addr     netip.Addr
	Port     uint16
	FWMark   uint32
	Sched    string
	Flags    uint32 // IP_VS_SVC_F_*; sent with a full mask
	Timeout  uint32
	Netmask  uint32 // IPv4: mask in network byte order as uint32 bytes; IPv6: prefix length
}

// Dest is an IPVS destination (real server).
type Dest struct {
	Addr      netip.Addr
	Port      uint16
	FwdMethod uint32 // IP_VS_CONN_F_MASQ/TUNNEL/DROUTE
	Weight    uint32
	UThresh   uint32
	LThresh   uint32
	TunType   uint8 // 0 ipip, 1 gue, 2 gre (kernel >= 5.2/5.3)
	TunPort   uint16
	TunFlags  uint16
}

// Op is one IPVS write.
type Op struct {
	Cmd     uint8
	Service Service
	Dest    *Dest   // for destination commands
	Daemon  *Daemon // for sync daemon commands (Service unused)
}

// Conn is a generic netlink socket bound to one network namespace.
type Conn struct {
	fd     int
	family uint16
	seq    uint32
	pid    uint32
	// Timeout bounds the wait for acknowledgements of one batch.
	Timeout time.Duration
	// BatchSize is how many requests share one sendmsg.
	BatchSize int
	buf       []byte
}

// ErrUnavailable means the kernel has no IPVS generic netlink family.
var ErrUnavailable = errors.New("IPVS generic netlink family not found")

// Open opens a socket in the namespace at nsPath ("" = current).
func Open(nsPath string) (*Conn, error) {
	fam, err := netlink.GenlFamilyGet("IPVS")
	if err != nil {
		return nil, ErrUnavailable
	}
	fd, err := socketIn(nsPath)
	if err != nil {
		return nil, err
	}
	c := &Conn{fd: fd, family: fam.ID, Timeout: 30 * time.Second, BatchSize: 256, buf: make([]byte, 1<<16)}
	// Error ACKs carry only the header of the failed request, so a batch
	// of failures cannot overflow the receive buffer.
	unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	c.setTimeouts()
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	c.pid = sa.(*unix.SockaddrNetlink).Pid
	return c, nil
}

// socketIn creates a blocking netlink socket inside a namespace: the socket
// keeps the namespace it was created in.
func socketIn(nsPath string) (int, error) {
	if nsPath == "" {
		return unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	}
	target, err := netns.GetFromPath(nsPath)
	if err != nil {
		return -1, err
	}
	defer target.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return -1, err
	}
	defer orig.Close()
	if err := netns.Set(target); err != nil {
		return -1, err
	}
	fd, serr := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err := netns.Set(orig); err != nil {
		// The thread is in the wrong namespace; never reuse it.
		panic(fmt.Sprintf("ipvsnl: cannot return to the original network namespace: %v", err))
	}
	if serr == nil {
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	return fd, serr
}

// Close closes the socket.
func (c *Conn) Close() error { return unix.Close(c.fd) }

// Write sends ops in batches and returns one error per op (nil = done).
// The kernel executes every request of a batch in order even after one
// fails, so the errors say exactly what happened to each. A transport
// failure (timeout, socket error) marks the op it concerns and every
// later one with that error.
func (c *Conn) Write(ops []Op) []error {
	// The time the kernel takes, on its own in the debug log: a cold apply
	// is mostly this part, and its cost per request depends on the kernel's
	// state (docs/performance.md), not on lbx.
	defer logWrite(len(ops), time.Now())
	errs := make([]error, len(ops))
	for start := 0; start < len(ops); start += c.BatchSize {
		end := min(start+c.BatchSize, len(ops))
		if err := c.writeBatch(ops[start:end], errs[start:end]); err != nil {
			// Acknowledged requests keep their result; the rest of the
			// batch and every later op get the transport error.
			for i := start; i < len(ops); i++ {
				if i >= end || errs[i] == pendingMark {
					errs[i] = err
				}
			}
			return errs
		}
	}
	return errs
}

func logWrite(requests int, start time.Time) {
	took := time.Since(start)
	slog.Debug("ipvs requests written", "requests", requests,
		"took_ms", strconv.FormatFloat(took.Seconds()*1000, 'f', 2, 64))
}

// pendingMark is the placeholder for an op whose ACK has not arrived.
var pendingMark = errors.New("no acknowledgement")

func (c *Conn) writeBatch(ops []Op, errs []error) error {
	msg := make([]byte, 0, len(ops)*160)
	first := c.seq + 1
	for i := range ops {
		c.seq++
		msg = appendRequest(msg, c.family, c.seq, ops[i])
		errs[i] = pendingMark
	}
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("send IPVS batch: %w", err)
	}
	left := len(ops)
	deadline := time.Now().Add(c.Timeout)
	for left > 0 {
		n, _, err := unix.Recvfrom(c.fd, c.buf, 0)
		if err == unix.EAGAIN || err == unix.EINTR {
			if time.Now().After(deadline) {
				return fmt.Errorf("the kernel did not acknowledge %d IPVS request(s) within %s", left, c.Timeout)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("receive IPVS acknowledgements: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(c.buf[:n])
		if err != nil {
			return fmt.Errorf("parse IPVS acknowledgements: %w", err)
		}
		for _, m := range msgs {
			idx := int(m.Header.Seq - first)
			if m.Header.Type != unix.NLMSG_ERROR || idx < 0 || idx >= len(ops) || len(m.Data) < 4 {
				continue
			}
			if errs[idx] != pendingMark {
				continue
			}
			if code := int32(binary.NativeEndian.Uint32(m.Data[:4])); code != 0 {
				errs[idx] = syscall.Errno(-code)
			} else {
				errs[idx] = nil
			}
			left--
		}
	}
	return nil
}

// appendRequest appends one netlink message: nlmsghdr, genlmsghdr, then the
// service (and destination) nested attributes.
func appendRequest(b []byte, family uint16, seq uint32, op Op) []byte {
	start := len(b)
	b = append(b, make([]byte, unix.NLMSG_HDRLEN)...)
	b = append(b, op.Cmd, genlVersion, 0, 0)
	if op.Daemon != nil {
		return finishRequest(appendDaemon(b, op.Cmd, op.Daemon), start, family, seq)
	}
	svc := nestStart(&b, cmdAttrService)
	s := op.Service
	b = appendServiceID(b, s)
	if op.Cmd == CmdNewService || op.Cmd == CmdSetService {
		b = attr(b, svcAttrSchedName, append([]byte(s.Sched), 0))
		var fl [8]byte
		binary.NativeEndian.PutUint32(fl[0:], s.Flags)
		binary.NativeEndian.PutUint32(fl[4:], 0xffffffff)
		b = attr(b, svcAttrFlags, fl[:])
		b = attrU32(b, svcAttrTimeout, s.Timeout)
		b = attrU32(b, svcAttrNetmask, s.Netmask)
	}
	nestEnd(b, svc)
	if d := op.Dest; d != nil {
		dst := nestStart(&b, cmdAttrDest)
		b = attr(b, destAttrAddr, d.Addr.AsSlice())
		b = attrBE16(b, destAttrPort, d.Port)
		if op.Cmd != CmdDelDest {
			af := uint16(unix.AF_INET)
			if d.Addr.Is6() {
				af = unix.AF_INET6
			}
			b = attrU32(b, destAttrFwdMethod, d.FwdMethod)
			b = attrU32(b, destAttrWeight, d.Weight)
			b = attrU32(b, destAttrUThresh, d.UThresh)
			b = attrU32(b, destAttrLThresh, d.LThresh)
			b = attrU16(b, destAttrAddrFamily, af)
			// Always for a tunnel destination, ipip (0) included: an
			// update from gue back to ipip must say so.
			if d.FwdMethod&0x7 == fwdTunnel {
				b = attr(b, destAttrTunType, []byte{d.TunType})
				b = attrBE16(b, destAttrTunPort, d.TunPort)
				b = attrU16(b, destAttrTunFlags, d.TunFlags)
			}
		}
		nestEnd(b, dst)
	}
	return finishRequest(b, start, family, seq)
}

// finishRequest fills in the netlink header of the request at b[start:].
func finishRequest(b []byte, start int, family uint16, seq uint32) []byte {
	hdr := b[start:]
	binary.NativeEndian.PutUint32(hdr[0:], uint32(len(b)-start))
	binary.NativeEndian.PutUint16(hdr[4:], family)
	binary.NativeEndian.PutUint16(hdr[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(hdr[8:], seq)
	binary.NativeEndian.PutUint32(hdr[12:], 0)
	return b
}

// appendServiceID appends the attributes that identify a service: family,
// then fwmark, or protocol, address and port.
func appendServiceID(b []byte, s Service) []byte {
	b = attrU16(b, svcAttrAF, s.Family)
	if s.FWMark != 0 {
		return attrU32(b, svcAttrFWMark, s.FWMark)
	}
	b = attrU16(b, svcAttrProtocol, s.Protocol)
	b = attr(b, svcAttrAddr, s.Addr.AsSlice())
	return attrBE16(b, svcAttrPort, s.Port)
}

func align4(n int) int { return (n + 3) &^ 3 }

func attr(b []byte, typ uint16, data []byte) []byte {
	l := unix.NLA_HDRLEN + len(data)
	var h [4]byte
	binary.NativeEndian.PutUint16(h[0:], uint16(l))
	binary.NativeEndian.PutUint16(h[2:], typ)
	b = append(b, h[:]...)
	b = append(b, data...)
	return append(b, make([]byte, align4(l)-l)...)
}

func attrU16(b []byte, typ, v uint16) []byte {
	var d [2]byte
	binary.NativeEndian.PutUint16(d[:], v)
	return attr(b, typ, d[:])
}

func attrBE16(b []byte, typ, v uint16) []byte {
	var d [2]byte
	binary.BigEndian.PutUint16(d[:], v)
	return attr(b, typ, d[:])
}

func attrU32(b []byte, typ uint16, v uint32) []byte {
	var d [4]byte
	binary.NativeEndian.PutUint32(d[:], v)
	return attr(b, typ, d[:])
}

// nestStart appends a nested attribute header and returns its offset; the
// length is filled in by nestEnd. NLA_F_NESTED is not set, as ipvsadm and
// moby/ipvs do not set it and old kernels' IPVS parsers predate it.
func nestStart(b *[]byte, typ uint16) int {
	off := len(*b)
	var h [4]byte
	binary.NativeEndian.PutUint16(h[2:], typ)
	*b = append(*b, h[:]...)
	return off
}

func nestEnd(b []byte, off int) {
	binary.NativeEndian.PutUint16(b[off:], uint16(len(b)-off))
}

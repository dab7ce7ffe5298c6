package vrrpd

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/rtnl"
	"github.com/lbx-dev/lbx/vrrpd/packet"
)

// kernelTransport is the real network: raw sockets and netlink.
type kernelTransport struct{ log *slog.Logger }

func (kernelTransport) Open(ifname string, v6 bool) (Link, error) { return openLink(ifname, v6, true) }

// rawLink is one raw VRRP socket: an interface and a family.
type rawLink struct {
	ifi  *net.Interface
	p4   *ipv4.PacketConn
	p6   *ipv6.PacketConn
	conn net.PacketConn
	// ipc is conn, read through the standard library (Read); oob is the
	// read's control-message buffer (one reader per link).
	ipc *net.IPConn
	oob []byte
	// dumps reads the interface's addresses: a route netlink socket of
	// the link's network namespace.
	dumps *rtnl.Conn

	// Send's state, kept between sends; writeFn is l.write, bound once.
	sendMu  sync.Mutex
	raw     syscall.RawConn
	writeFn func(uintptr) bool
	sendOOB []byte
	sendSrc netip.Addr
	sendTo  unix.Sockaddr
	sendDst netip.Addr
	sendBuf []byte
	sendErr error
}

func (l *rawLink) Close() error {
	l.dumps.Close()
	return l.conn.Close()
}

func (l *rawLink) Index() int { return l.ifi.Index }

// rawSocket opens a raw IP socket of protocol proto. Given ifname, it is
// bound to that device as soon as it exists, so that each link sees only
// its own packets (keepalived does the same), and an IPv4 socket may send
// to a broadcast address, as the standard library's sockets may. It is
// built by hand rather than with net.ListenConfig: a dial or listen by
// address string links the whole DNS resolver into lbx-vrrp, and every
// page of its binary is resident (docs/performance.md, VRRP).
func rawSocket(ifname string, v6 bool, proto int) (net.PacketConn, error) {
	family := unix.AF_INET
	if v6 {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	f := os.NewFile(uintptr(fd), "raw")
	defer f.Close() // FilePacketConn holds a duplicate
	if ifname != "" {
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname); err != nil {
			return nil, os.NewSyscallError("setsockopt SO_BINDTODEVICE", err)
		}
	}
	if !v6 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
			return nil, os.NewSyscallError("setsockopt SO_BROADCAST", err)
		}
	}
	return net.FilePacketConn(f)
}

func openLink(ifname string, v6 bool, joinMulticast bool) (*rawLink, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", ifname, err)
	}
	dumps, err := rtnl.Open()
	if err != nil {
		return nil, err
	}
	l := &rawLink{ifi: ifi, dumps: dumps}
	if err := l.listen(ifname, v6, joinMulticast); err != nil {
		dumps.Close()
		return nil, err
	}
	if l.raw, err = l.ipc.SyscallConn(); err != nil {
		l.Close()
		return nil, err
	}
	l.writeFn = l.write
	return l, nil
}

// listen opens the link's raw socket.
func (l *rawLink) listen(ifname string, v6 bool, joinMulticast bool) error {
	ifi := l.ifi
	if !v6 {
		c, err := rawSocket(ifname, false, packet.IPProto)
		if err != nil {
			return fmt.Errorf("raw VRRP socket on %s (needs root or CAP_NET_RAW): %w", ifname, err)
		}
		l.conn, l.ipc = c, c.(*net.IPConn)
		l.oob = ipv4.NewControlMessage(ipv4.FlagTTL | ipv4.FlagDst | ipv4.FlagInterface)
		p := ipv4.NewPacketConn(c)
		l.p4 = p
		for _, step := range []error{
			p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true),
			p.SetMulticastInterface(ifi),
			p.SetMulticastTTL(packet.TTL),
			p.SetTTL(packet.TTL),
			p.SetMulticastLoopback(false),
		} {
			if step != nil {
				c.Close()
				return fmt.Errorf("VRRP socket on %s: %w", ifname, step)
			}
		}
		if joinMulticast {
			if err := p.JoinGroup(ifi, &net.IPAddr{IP: packet.Group4.AsSlice()}); err != nil {
				c.Close()
				return fmt.Errorf("join %s on %s: %w", packet.Group4, ifname, err)
			}
		}
		return nil
	}
	c, err := rawSocket(ifname, true, packet.IPProto)
	if err != nil {
		return fmt.Errorf("raw VRRP socket on %s (needs root or CAP_NET_RAW): %w", ifname, err)
	}
	l.conn, l.ipc = c, c.(*net.IPConn)
	l.oob = ipv6.NewControlMessage(ipv6.FlagHopLimit | ipv6.FlagDst | ipv6.FlagInterface)
	p := ipv6.NewPacketConn(c)
	l.p6 = p
	for _, step := range []error{
		p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true),
		p.SetMulticastInterface(ifi),
		p.SetMulticastHopLimit(packet.TTL),
		p.SetHopLimit(packet.TTL),
		p.SetMulticastLoopback(false),
	} {
		if step != nil {
			c.Close()
			return fmt.Errorf("VRRP socket on %s: %w", ifname, step)
		}
	}
	if joinMulticast {
		if err := p.JoinGroup(ifi, &net.IPAddr{IP: packet.Group6.AsSlice()}); err != nil {
			c.Close()
			return fmt.Errorf("join %s on %s: %w", packet.Group6, ifname, err)
		}
	}
	return nil
}

func (l *rawLink) Read(buf []byte) (Received, error) {
	// The standard library's recvmsg, and x/net only to parse the control
	// messages: x/net reads through golang.org/x/sys/unix, which asks the
	// socket for its protocol (getsockopt SO_PROTOCOL) at every read from
	// an IP socket, a system call more for every advert received.
	n, oobn, _, src, err := l.ipc.ReadMsgIP(buf, l.oob)
	if err != nil {
		return Received{}, err
	}
	r := Received{Data: buf[:n], TTL: -1}
	if src != nil {
		r.Src, _ = netip.AddrFromSlice(src.IP)
	}
	var dst net.IP
	if l.p4 != nil {
		// An IPv4 raw socket reads the IP header too (IPv6's does not).
		// The kernel has checked it; were it short, nothing is left,
		// which the validation drops as too short.
		hl := int(buf[0]&0x0f) * 4
		if n < 20 || hl < 20 || hl > n {
			hl = n
		}
		r.Data = buf[hl:n]
		r.Src = r.Src.Unmap()
		var cm ipv4.ControlMessage
		if cm.Parse(l.oob[:oobn]) == nil && oobn > 0 {
			r.TTL, dst = cm.TTL, cm.Dst
		}
	} else {
		var cm ipv6.ControlMessage
		if cm.Parse(l.oob[:oobn]) == nil && oobn > 0 {
			r.TTL, dst = cm.HopLimit, cm.Dst
		}
	}
	if dst != nil {
		r.Dst, _ = netip.AddrFromSlice(dst)
		r.Dst = r.Dst.Unmap()
	}
	return r, nil
}

// Send writes one packet through the standard library's poller with the
// source and interface in a control message built once for each source,
// to a destination converted once: an advert allocates nothing (x/net's
// WriteTo built both at every send, about 400 bytes).
func (l *rawLink) Send(b []byte, src, dst netip.Addr) error {
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	if l.sendOOB == nil || src != l.sendSrc {
		l.sendOOB, l.sendSrc = l.control(src), src
	}
	if l.sendTo == nil || dst != l.sendDst {
		l.sendTo, l.sendDst = sockaddr(dst), dst
	}
	l.sendBuf = b
	if err := l.raw.Write(l.writeFn); err != nil {
		return err
	}
	if l.sendErr != nil {
		return &net.OpError{Op: "write", Net: l.conn.LocalAddr().Network(), Addr: &net.IPAddr{IP: dst.AsSlice()}, Err: l.sendErr}
	}
	return nil
}

// write is Send's system call; the poller waits while it would block.
func (l *rawLink) write(fd uintptr) (done bool) {
	_, l.sendErr = unix.SendmsgN(int(fd), l.sendBuf, l.sendOOB, l.sendTo, 0)
	return l.sendErr != unix.EAGAIN
}

// control is the control message that sends from src (none: the kernel
// picks) out of the link's interface. IPv6's carries the hop limit too.
func (l *rawLink) control(src netip.Addr) []byte {
	if l.p4 != nil {
		cm := &ipv4.ControlMessage{IfIndex: l.ifi.Index}
		if src.IsValid() {
			cm.Src = src.AsSlice()
		}
		return cm.Marshal()
	}
	// No zone on a link-local destination: the socket is bound to the
	// interface and the control message names it by index. Go resolves a
	// zone's name through a cache of up to a minute, which may still hold
	// the index of an interface since made again (or, in a process that
	// works in several namespaces, another namespace's): the kernel then
	// refuses the send (EINVAL, two interfaces named).
	cm := &ipv6.ControlMessage{IfIndex: l.ifi.Index, HopLimit: packet.TTL}
	if src.IsValid() {
		cm.Src = src.AsSlice()
	}
	return cm.Marshal()
}

func sockaddr(dst netip.Addr) unix.Sockaddr {
	if dst.Is4() {
		return &unix.SockaddrInet4{Addr: dst.As4()}
	}
	return &unix.SockaddrInet6{Addr: dst.As16()}
}

// Addrs returns the interface's addresses of the link's family (by the
// index it had when opened). A dump that a change interrupted is read
// again, twice; a third is an error, not a partial list (which could
// lack the source address and fault the instance).
func (l *rawLink) Addrs() ([]netip.Addr, error) {
	family := uint8(unix.AF_INET)
	if l.p6 != nil {
		family = unix.AF_INET6
	}
	var out []netip.Addr
	var err error
	for try := 0; try < 3; try++ {
		out = out[:0]
		err = l.dumps.Dump(unix.RTM_GETADDR, family, func(m rtnl.Message) {
			if a, ok := m.Addr(); ok && a.Index == l.ifi.Index && !a.Deleted {
				out = append(out, a.Addr)
			}
		})
		if !errors.Is(err, rtnl.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

package vrrpd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

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
}

func (l *rawLink) Close() error { return l.conn.Close() }

func (l *rawLink) Index() int { return l.ifi.Index }

// bindToDevice restricts a raw socket to one interface, so that each link
// sees only its own packets (keepalived does the same).
func bindToDevice(name string) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, name)
		})
		if err != nil {
			return err
		}
		return serr
	}
}

func openLink(ifname string, v6 bool, joinMulticast bool) (*rawLink, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", ifname, err)
	}
	lc := net.ListenConfig{Control: bindToDevice(ifname)}
	l := &rawLink{ifi: ifi}
	if !v6 {
		c, err := lc.ListenPacket(context.Background(), "ip4:112", "0.0.0.0")
		if err != nil {
			return nil, fmt.Errorf("raw VRRP socket on %s (needs root or CAP_NET_RAW): %w", ifname, err)
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
				return nil, fmt.Errorf("VRRP socket on %s: %w", ifname, step)
			}
		}
		if joinMulticast {
			if err := p.JoinGroup(ifi, &net.IPAddr{IP: packet.Group4.AsSlice()}); err != nil {
				c.Close()
				return nil, fmt.Errorf("join %s on %s: %w", packet.Group4, ifname, err)
			}
		}
		return l, nil
	}
	c, err := lc.ListenPacket(context.Background(), "ip6:112", "::")
	if err != nil {
		return nil, fmt.Errorf("raw VRRP socket on %s (needs root or CAP_NET_RAW): %w", ifname, err)
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
			return nil, fmt.Errorf("VRRP socket on %s: %w", ifname, step)
		}
	}
	if joinMulticast {
		if err := p.JoinGroup(ifi, &net.IPAddr{IP: packet.Group6.AsSlice()}); err != nil {
			c.Close()
			return nil, fmt.Errorf("join %s on %s: %w", packet.Group6, ifname, err)
		}
	}
	return l, nil
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

func (l *rawLink) Send(b []byte, src, dst netip.Addr) error {
	ip := &net.IPAddr{IP: dst.AsSlice()}
	if l.p4 != nil {
		cm := &ipv4.ControlMessage{IfIndex: l.ifi.Index}
		if src.IsValid() {
			cm.Src = src.AsSlice()
		}
		_, err := l.p4.WriteTo(b, cm, ip)
		return err
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
	_, err := l.p6.WriteTo(b, cm, ip)
	return err
}

// Addrs returns the interface's addresses (by the index it had when opened).
func (l *rawLink) Addrs() ([]netip.Addr, error) {
	addrs, err := l.ifi.Addrs()
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, x := range addrs {
		if n, ok := x.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}

package vrrpd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/vrrpd/packet"
)

// link is one raw VRRP socket: an interface and a family. Every instance on
// that interface and family shares it; packets are sorted by VRID.
type link struct {
	ifi  *net.Interface
	v6   bool
	p4   *ipv4.PacketConn
	p6   *ipv6.PacketConn
	conn net.PacketConn

	mu    sync.Mutex
	local map[netip.Addr]bool // addresses of the interface, refreshed lazily
	at    time.Time

	stop context.CancelFunc // ends the link's read loop; nil before it runs
}

// close ends the read loop (cancel first, so that the read error the close
// causes is taken for the end it is) and closes the socket.
func (l *link) close() {
	if l.stop != nil {
		l.stop()
	}
	l.conn.Close()
}

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

func openLink(ifname string, v6 bool, joinMulticast bool) (*link, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", ifname, err)
	}
	lc := net.ListenConfig{Control: bindToDevice(ifname)}
	l := &link{ifi: ifi, v6: v6}
	if !v6 {
		c, err := lc.ListenPacket(context.Background(), "ip4:112", "0.0.0.0")
		if err != nil {
			return nil, fmt.Errorf("raw VRRP socket on %s (needs root or CAP_NET_RAW): %w", ifname, err)
		}
		l.conn = c
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
	l.conn = c
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

// received is one packet as read from a link.
type received struct {
	b        []byte
	src, dst netip.Addr
	ttl      int // -1: unknown (no control message)
}

func (l *link) read(buf []byte) (received, error) {
	if l.p4 != nil {
		n, cm, src, err := l.p4.ReadFrom(buf)
		if err != nil {
			return received{}, err
		}
		r := received{b: buf[:n], ttl: -1}
		if a, ok := src.(*net.IPAddr); ok {
			r.src, _ = netip.AddrFromSlice(a.IP)
			r.src = r.src.Unmap()
		}
		if cm != nil {
			r.ttl = cm.TTL
			r.dst, _ = netip.AddrFromSlice(cm.Dst)
			r.dst = r.dst.Unmap()
		}
		return r, nil
	}
	n, cm, src, err := l.p6.ReadFrom(buf)
	if err != nil {
		return received{}, err
	}
	r := received{b: buf[:n], ttl: -1}
	if a, ok := src.(*net.IPAddr); ok {
		r.src, _ = netip.AddrFromSlice(a.IP)
	}
	if cm != nil {
		r.ttl = cm.HopLimit
		r.dst, _ = netip.AddrFromSlice(cm.Dst)
	}
	return r, nil
}

func (l *link) send(b []byte, src, dst netip.Addr) error {
	ip := &net.IPAddr{IP: dst.AsSlice()}
	if l.p4 != nil {
		cm := &ipv4.ControlMessage{IfIndex: l.ifi.Index}
		if src.IsValid() {
			cm.Src = src.AsSlice()
		}
		_, err := l.p4.WriteTo(b, cm, ip)
		return err
	}
	cm := &ipv6.ControlMessage{IfIndex: l.ifi.Index, HopLimit: packet.TTL}
	if src.IsValid() {
		cm.Src = src.AsSlice()
	}
	if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() {
		ip.Zone = l.ifi.Name
	}
	_, err := l.p6.WriteTo(b, cm, ip)
	return err
}

// isLocal reports whether a is one of the interface's addresses (our own
// packets coming back, e.g. via a bridge hairpin or another socket).
func (l *link) isLocal(a netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.at) > 2*time.Second {
		l.local = map[netip.Addr]bool{}
		if addrs, err := l.ifi.Addrs(); err == nil {
			for _, x := range addrs {
				if n, ok := x.(*net.IPNet); ok {
					if ip, ok := netip.AddrFromSlice(n.IP); ok {
						l.local[ip.Unmap()] = true
					}
				}
			}
		}
		l.at = time.Now()
	}
	return l.local[a]
}

// primary picks the source address for a link: IPv4 the first address of
// the interface, IPv6 its link-local address (RFC 5798 §5.1.2.1), none
// that skip says is not the link's own.
func (l *link) primary(skip func(netip.Addr) bool) (netip.Addr, error) {
	addrs, err := l.ifi.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("addresses of %s: %w", l.ifi.Name, err)
	}
	for _, x := range addrs {
		n, ok := x.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if skip(ip) {
			continue
		}
		if !l.v6 && ip.Is4() || l.v6 && ip.Is6() && ip.IsLinkLocalUnicast() {
			return ip, nil
		}
	}
	fam := "IPv4 address"
	if l.v6 {
		fam = "IPv6 link-local address"
	}
	return netip.Addr{}, noSourceError("interface " + l.ifi.Name + " has no " + fam + " to send VRRP from; add one or set unicast_src_ip / mcast_src_ip")
}

// errNoSource is what primary's error is when the link has no address to
// send from: a fact (the instance is FAULT until one comes). Any other
// error is a failure to read the addresses (EMFILE, ENOBUFS...), which says
// nothing about them and is retried (Daemon.sourceUnread).
var errNoSource = errors.New("no address to send from")

type noSourceError string

func (e noSourceError) Error() string        { return string(e) }
func (e noSourceError) Is(target error) bool { return target == errNoSource }

package check

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Ping is PING_CHECK: one ICMP (or ICMPv6) echo request; up when the echo
// reply from the target arrives before the deadline. It opens a raw ICMP
// socket (root or CAP_NET_RAW) and falls back to an unprivileged datagram
// ICMP socket where net.ipv4.ping_group_range allows it. bind_if, fwmark and
// bind_port are not applied to ping sockets; bindto is.
type Ping struct {
	Conn Conn // Addr's port is ignored
}

// Check implements Checker.
func (p *Ping) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withDeadline(ctx, p.Conn.Timeout)
	defer cancel()
	dst := p.Conn.Addr.Addr()
	c, privileged, err := listenICMP(dst.Is6(), p.Conn.BindAddr)
	if err != nil {
		return down(start, "icmp socket: %v", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	var typ, replyType icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	proto := 1
	if dst.Is6() {
		typ, replyType, proto = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	id, seq := os.Getpid()&0xffff, int(rand.Uint32()&0xffff)
	payload := []byte(fmt.Sprintf("lbx-%016x", rand.Uint64()))
	msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: payload}}
	wb, err := msg.Marshal(nil)
	if err != nil {
		return down(start, "%v", err)
	}
	var to net.Addr = &net.IPAddr{IP: dst.AsSlice()}
	if !privileged {
		to = &net.UDPAddr{IP: dst.AsSlice()}
	}
	if _, err := c.WriteTo(wb, to); err != nil {
		return down(start, "send: %s", ioReason(ctx, err))
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return down(start, "no echo reply: %s", ioReason(ctx, err))
		}
		if fromAddr(from) != dst {
			continue
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != replyType {
			continue
		}
		e, ok := m.Body.(*icmp.Echo)
		// Datagram sockets get their id rewritten by the kernel: match on
		// sequence and payload, which are ours alone.
		if !ok || e.Seq != seq || !bytes.Equal(e.Data, payload) || privileged && e.ID != id {
			continue
		}
		return up(start)
	}
}

func listenICMP(v6 bool, bind netip.Addr) (*icmp.PacketConn, bool, error) {
	raw, dgram, laddr := "ip4:icmp", "udp4", "0.0.0.0"
	if v6 {
		raw, dgram, laddr = "ip6:ipv6-icmp", "udp6", "::"
	}
	if bind.IsValid() {
		laddr = bind.String()
	}
	c, err := icmp.ListenPacket(raw, laddr)
	if err == nil {
		return c, true, nil
	}
	c, err2 := icmp.ListenPacket(dgram, laddr)
	if err2 == nil {
		return c, false, nil
	}
	return nil, false, fmt.Errorf("raw: %v; unprivileged: %v", err, err2)
}

func fromAddr(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.IPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	}
	x, _ := netip.AddrFromSlice(ip)
	return x.Unmap()
}

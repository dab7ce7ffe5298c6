package vrrpd

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/vrrpd/packet"
	"golang.org/x/sys/unix"
)

// The raw sockets on a real link (namespaces; root): what one end sends to
// the VRRP group, the other reads with its source, group and TTL, as the
// event loop's validation needs them, for each family; a send allocates
// nothing once the link sent from that source; Addrs lists the link's
// addresses of its family.
func TestRawLink(t *testing.T) {
	nstest.Require(t)
	lan := nstest.NewLAN(t, "rl", 2)
	tx, rx := lan.Nodes[0], lan.Nodes[1]
	for i, n := range lan.Nodes {
		n.Run(t, "ip", "addr", "add", netip.AddrFrom4([4]byte{10, 9, 0, byte(i + 1)}).String()+"/24", "dev", "eth0")
		n.Run(t, "ip", "addr", "add", netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 15: byte(i + 1)}).String()+"/64", "dev", "eth0", "nodad")
	}
	// An address is tentative (not yet a source) until its link has a
	// carrier, even without DAD.
	for deadline := time.Now().Add(5 * time.Second); tx.Dump("ip", "-6", "addr", "show", "dev", "eth0", "tentative") != ""; {
		if time.Now().After(deadline) {
			t.Fatalf("fe80::1 still tentative:\n%s", tx.Dump("ip", "-6", "addr", "show", "dev", "eth0"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	tests := []struct {
		v6         bool
		src, group netip.Addr
	}{
		{false, netip.MustParseAddr("10.9.0.1"), packet.Group4},
		{true, netip.MustParseAddr("fe80::1"), packet.Group6},
	}
	for _, tc := range tests {
		var in, out *rawLink
		var err error
		rx.In(t, func() { in, err = openLink("eth0", tc.v6, true) })
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		tx.In(t, func() { out, err = openLink("eth0", tc.v6, false) })
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		data, err := packet.Marshal(&packet.Packet{Version: 3, VRID: 7, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{tc.src}}, tc.src, tc.group)
		if err != nil {
			t.Fatal(err)
		}
		if err := out.Send(data, tc.src, tc.group); err != nil {
			t.Fatalf("IPv6 %v: send: %v", tc.v6, err)
		}
		in.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := in.Read(make([]byte, 1500))
		if err != nil {
			t.Fatalf("IPv6 %v: read: %v", tc.v6, err)
		}
		if got.Src != tc.src || got.Dst != tc.group || got.TTL != packet.TTL || !bytes.Equal(got.Data, data) {
			t.Errorf("IPv6 %v: read from %s to %s, TTL %d, %x; want from %s to %s, TTL %d, %x", tc.v6, got.Src, got.Dst, got.TTL, got.Data, tc.src, tc.group, packet.TTL, data)
		}
		if n := testing.AllocsPerRun(20, func() {
			if err := out.Send(data, tc.src, tc.group); err != nil {
				t.Error(err)
			}
		}); n != 0 {
			t.Errorf("IPv6 %v: %v allocations per send, want none", tc.v6, n)
		}
		addrs, err := out.Addrs()
		if err != nil || !slices.Contains(addrs, tc.src) || slices.ContainsFunc(addrs, func(a netip.Addr) bool { return a.Is4() == tc.v6 }) {
			t.Errorf("IPv6 %v: Addrs() = %v, %v; want %s and no address of the other family", tc.v6, addrs, err, tc.src)
		}
	}
}

// The announcer on a real link (namespaces; root): each address of a
// round reaches the other end as keepalived sends it, a gratuitous ARP
// (broadcast, sender and target both the address, the sender's MAC) or an
// unsolicited neighbour advertisement (from the source given, to all
// nodes, hop limit 255, override, the target's MAC); an IPv4 round
// allocates nothing (an IPv6 one does: x/net encodes the control message
// at each send).
func TestAnnouncer(t *testing.T) {
	nstest.Require(t)
	lan := nstest.NewLAN(t, "an", 2)
	tx, rx := lan.Nodes[0], lan.Nodes[1]
	src6 := netip.MustParseAddr("fe80::1")
	tx.Run(t, "ip", "addr", "add", src6.String()+"/64", "dev", "eth0", "nodad")
	for deadline := time.Now().Add(5 * time.Second); tx.Dump("ip", "-6", "addr", "show", "dev", "eth0", "tentative") != ""; {
		if time.Now().After(deadline) {
			t.Fatalf("fe80::1 still tentative:\n%s", tx.Dump("ip", "-6", "addr", "show", "dev", "eth0"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	var mac net.HardwareAddr
	tx.In(t, func() {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		mac = ifi.HardwareAddr
	})
	tests := []struct {
		v6    bool
		proto uint16
		addrs []netip.Addr
		// at finds the address a frame announces, if it is one, and
		// checks the rest of it.
		at func(f []byte) (netip.Addr, bool)
	}{
		{false, unix.ETH_P_ARP, []netip.Addr{netip.MustParseAddr("10.9.0.100"), netip.MustParseAddr("10.9.0.101")},
			func(f []byte) (netip.Addr, bool) {
				if len(f) < 42 || binary.BigEndian.Uint16(f[20:]) != 1 || !bytes.Equal(f[22:28], mac) || !bytes.Equal(f[0:6], bytes.Repeat([]byte{0xff}, 6)) || !bytes.Equal(f[28:32], f[38:42]) {
					return netip.Addr{}, false
				}
				return netip.AddrFrom4([4]byte(f[28:32])), true
			}},
		{true, unix.ETH_P_IPV6, []netip.Addr{netip.MustParseAddr("2001:db8::100"), netip.MustParseAddr("2001:db8::101")},
			func(f []byte) (netip.Addr, bool) {
				const ip, icmp = 14, 14 + 40
				if len(f) < icmp+32 || f[ip+6] != unix.IPPROTO_ICMPV6 || f[ip+7] != 255 || f[icmp] != 136 || f[icmp+4]&0x20 == 0 || !bytes.Equal(f[icmp+26:icmp+32], mac) ||
					netip.AddrFrom16([16]byte(f[ip+8:ip+24])) != src6 || netip.AddrFrom16([16]byte(f[ip+24:ip+40])) != netip.IPv6LinkLocalAllNodes() {
					return netip.Addr{}, false
				}
				return netip.AddrFrom16([16]byte(f[icmp+8 : icmp+24])), true
			}},
	}
	for _, tc := range tests {
		var fd int
		rx.In(t, func() {
			var err error
			if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(tc.proto))); err != nil {
				t.Fatal(err)
			}
		})
		defer unix.Close(fd)
		tv := unix.NsecToTimeval((5 * time.Second).Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			t.Fatal(err)
		}
		var ann Announcer
		tx.In(t, func() {
			var err error
			if ann, err = (kernelTransport{}).Announcer("eth0", tc.v6, src6); err != nil {
				t.Fatal(err)
			}
		})
		defer ann.Close()
		for round := range 2 {
			if err := ann.Announce(tc.addrs); err != nil {
				t.Fatalf("IPv6 %v: round %d: %v", tc.v6, round, err)
			}
		}
		var seen []netip.Addr
		buf := make([]byte, 1500)
		for len(seen) < 2*len(tc.addrs) {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				t.Fatalf("IPv6 %v: after %v: %v", tc.v6, seen, err)
			}
			// Only the round's: the kernel announces its own addresses too.
			if a, ok := tc.at(buf[:n]); ok && slices.Contains(tc.addrs, a) {
				seen = append(seen, a)
			}
		}
		if want := slices.Concat(tc.addrs, tc.addrs); !slices.Equal(seen, want) {
			t.Errorf("IPv6 %v: announced %v, want %v", tc.v6, seen, want)
		}
		if !tc.v6 {
			if n := testing.AllocsPerRun(10, func() { ann.Announce(tc.addrs) }); n != 0 {
				t.Errorf("%v allocations per round of gratuitous ARP, want none", n)
			}
		}
	}
}

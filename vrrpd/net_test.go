package vrrpd

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/vrrpd/packet"
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

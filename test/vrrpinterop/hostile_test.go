package vrrpinterop

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/vrrpd/packet"
)

// Hostile input, crafted from a raw socket in a neighbour namespace: every
// packet would make the lbx master yield (priority 254) if it were
// accepted. Each must be dropped and counted, and the state must not
// change. A valid priority-254 advert at the end proves the test could fail.
func TestHostileInput(t *testing.T) {
	ps, _ := lan(t, "lbx", "lbx")
	target, attacker := ps[0], ps[1]
	target.vr = v2slow
	target.prio = 100
	target.start()
	target.waitVIP(true, v2slow.mdi(100)+2*time.Second, time.Now())
	target.waitStat("transitions", 2, time.Second) // INIT→BACKUP→MASTER
	// Let packets with a local source reach the socket (by default the
	// kernel drops them as martians before lbx could see them).
	target.ns.Run(t, "sysctl", "-qw", "net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.eth0.accept_local=1")
	baseline := target.stats()["transitions"]
	attacker.ns.Run(t, "ip", "route", "add", "224.0.0.0/4", "dev", "eth0")
	raw := newRawSender(t, attacker.ns)

	src := netip.MustParseAddr(attacker.ip)
	own := netip.MustParseAddr(target.ip)
	vip := target.vr.vipAddr()
	good := func(mod func(*packet.Packet)) []byte {
		p := &packet.Packet{Version: 2, VRID: 52, Priority: 254, Interval: time.Second, Addrs: []netip.Addr{vip}, AuthType: packet.AuthPass, AuthData: packet.PassData("s3cret")}
		if mod != nil {
			mod(p)
		}
		b, err := packet.Marshal(p, src, packet.Group4)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	refix := func(b []byte) []byte {
		// Recompute the v2 checksum after a mutation, so that only the
		// intended fault remains.
		binary.BigEndian.PutUint16(b[6:], 0)
		var s uint32
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		for s>>16 != 0 {
			s = s&0xffff + s>>16
		}
		binary.BigEndian.PutUint16(b[6:], ^uint16(s))
		return b
	}
	v3, _ := packet.Marshal(&packet.Packet{Version: 3, VRID: 52, Priority: 254, Interval: time.Second, Addrs: []netip.Addr{vip}}, src, packet.Group4)
	tests := []struct {
		name    string
		src     netip.Addr
		ttl     int
		payload []byte
		counter string
	}{
		{"ttl 64", src, 64, good(nil), "drop_ttl"},
		{"ttl 254", src, 254, good(nil), "drop_ttl"},
		{"bad checksum", src, 255, func() []byte { b := good(nil); b[7] ^= 0xff; return b }(), "drop_checksum"},
		{"wrong version (v3 packet)", src, 255, v3, "drop_version"},
		{"wrong VRID", src, 255, good(func(p *packet.Packet) { p.VRID = 99 }), "drop_vrid"},
		{"truncated", src, 255, good(nil)[:10], "drop_truncated"},
		{"count lies (0)", src, 255, refix(func() []byte { b := good(nil); b[3] = 0; return b }()), "drop_address_count"},
		{"count lies (5)", src, 255, refix(func() []byte { b := good(nil); b[3] = 5; return b }()), "drop_truncated"},
		{"from our own address", own, 255, func() []byte {
			b, _ := packet.Marshal(&packet.Packet{Version: 2, VRID: 52, Priority: 254, Interval: time.Second, Addrs: []netip.Addr{vip}, AuthType: packet.AuthPass, AuthData: packet.PassData("s3cret")}, own, packet.Group4)
			return b
		}(), "drop_own"},
		{"wrong password", src, 255, good(func(p *packet.Packet) { p.AuthData = packet.PassData("guess") }), "drop_auth"},
		{"no authentication", src, 255, good(func(p *packet.Packet) { p.AuthType, p.AuthData = 0, [8]byte{} }), "drop_auth"},
		{"interval mismatch (v2)", src, 255, good(func(p *packet.Packet) { p.Interval = 2 * time.Second }), "drop_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := target.stats()
			for i := 0; i < 3; i++ {
				raw.send(t, tt.src, packet.Group4, tt.ttl, tt.payload)
			}
			target.waitStat(tt.counter, before[tt.counter]+3, 2*time.Second)
			if !target.hasVIP() {
				t.Fatal("the master lost its address to a hostile packet")
			}
			if n := target.stats()["transitions"]; n != baseline {
				t.Fatalf("transitions %d, want %d (no state change)", n, baseline)
			}
		})
	}
	t.Run("control: a valid advert does take over", func(t *testing.T) {
		raw.send(t, src, packet.Group4, 255, good(nil))
		target.waitVIP(false, time.Second, time.Now())
		target.waitStat("transitions", baseline+1, time.Second)
	})
}

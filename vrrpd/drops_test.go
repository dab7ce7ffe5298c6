package vrrpd

import (
	"context"
	"log/slog"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/clock"
	"github.com/lbx-dev/lbx/vrrpd/fsm"
	"github.com/lbx-dev/lbx/vrrpd/packet"
)

// TestDropAccounting is issue 26 item 9: every advert is counted once,
// under one name — a dropped advert is not also received, and its drop
// reason is the first thing wrong with it for this instance.
func TestDropAccounting(t *testing.T) {
	src := netip.MustParseAddr("10.0.0.3")
	v2 := func(mod func(*packet.Packet)) func(c *Instance) []byte {
		return func(c *Instance) []byte {
			p := &packet.Packet{Version: 2, VRID: 51, Priority: 100, Interval: time.Second, Addrs: c.Addrs, AuthType: packet.AuthPass, AuthData: packet.PassData("s3cret")}
			if mod != nil {
				mod(p)
			}
			b, err := packet.Marshal(p, src, packet.Group4)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	tests := []struct {
		name    string
		version int // the instance's
		packet  func(c *Instance) []byte
		want    map[string]uint64
	}{
		{"good v2", 2, v2(nil), map[string]uint64{"adverts_received": 1}},
		{"good v2, priority 0", 2, v2(func(p *packet.Packet) { p.Priority = 0 }), map[string]uint64{"adverts_received": 1, "priority_zero_received": 1}},
		{"v2 interval differs", 2, v2(func(p *packet.Packet) { p.Interval = 2 * time.Second }), map[string]uint64{"drop_interval": 1}},
		{"v2 interval differs, priority 0", 2, v2(func(p *packet.Packet) { p.Interval = 2 * time.Second; p.Priority = 0 }), map[string]uint64{"drop_interval": 1}},
		{"v3 packet to a v2 instance", 2, func(c *Instance) []byte {
			b, err := packet.Marshal(&packet.Packet{Version: 3, VRID: 51, Priority: 100, Interval: time.Second, Addrs: c.Addrs}, src, packet.Group4)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, map[string]uint64{"drop_version": 1}},
		{"v2 layout saying v3, to a v2 instance", 2, func(c *Instance) []byte {
			b := v2(nil)(c)
			b[0] = 3<<4 | b[0]&0x0f
			return b
		}, map[string]uint64{"drop_version": 1}},
		{"v2 packet to a v3 instance", 3, v2(nil), map[string]uint64{"drop_version": 1}},
		// An instance without addresses takes adverts without any (see
		// TestAddresslessInstance); one with addresses does not.
		{"no addresses, to an instance with some", 2, v2(func(p *packet.Packet) { p.Addrs = nil }), map[string]uint64{"drop_address_count": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(&Config{}, Options{Reconciler: nopReconciler{}, Log: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			// A recent (future) reading of no local addresses: isLocal reads nothing.
			l := &link{name: "eth0", clk: clock.Real(), at: time.Now().Add(time.Hour), local: map[netip.Addr]bool{}}
			c := baseInstance()
			c.AuthPass = "s3cret"
			c.FSM.Version = tc.version
			in := &inst{cfg: c, key: keyOf(c), m: fsm.New(c.FSM), link: l, src: netip.MustParseAddr("10.0.0.2")}
			d.vrids[l] = map[uint8]*inst{51: in}
			d.receive(context.Background(), time.Now(), l, Received{Data: tc.packet(c), Src: src, Dst: packet.Group4, TTL: packet.TTL})
			if got := d.Counters.PerInstance()[in.key]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("counted %v; want %v", got, tc.want)
			}
		})
	}
}

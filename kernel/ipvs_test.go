package kernel

import (
	"net/netip"
	"testing"

	"github.com/moby/ipvs"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/state"
)

// TestNormalise checks the conversions between lbx's state and what the
// kernel reports: HASHED set on read, netmask as a big-endian mask for IPv4
// and a prefix length for IPv6, timeout/netmask meaningless unless
// persistent.
func TestNormalise(t *testing.T) {
	for _, bits := range []int{0, 8, 24, 32} {
		if got := decodeNetmask(state.IPv4, encodeNetmask(state.IPv4, bits)); got != bits {
			t.Errorf("IPv4 /%d round trip gave /%d", bits, got)
		}
	}
	if encodeNetmask(state.IPv6, 64) != 64 {
		t.Error("IPv6 netmask must be sent as a prefix length")
	}
	svc := &state.Service{
		Key:       state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Family: state.IPv4},
		Scheduler: "sh", Flags: state.SchedFlag2, Timeout: 300, NetmaskBits: 24, OnePacket: true,
	}
	k := toIPVSService(svc)
	if k.Flags != state.SvcFlagPersistent|state.SvcFlagOnePacket|uint32(state.SchedFlag2) || k.AddressFamily != unix.AF_INET {
		t.Errorf("flags %#x", k.Flags)
	}
	k.Flags |= state.SvcFlagHashed // what the kernel adds
	back, ok := fromIPVSService(k)
	if !ok || back.Scheduler != "sh" || back.Flags != state.SchedFlag2 || !back.OnePacket || back.Timeout != 300 || back.NetmaskBits != 24 {
		t.Errorf("read back %+v", back)
	}
	// Not persistent: the kernel still reports a timeout; it is ignored.
	k = toIPVSService(&state.Service{Key: svc.Key, Scheduler: "rr"})
	k.Timeout, k.Flags = 77, state.SvcFlagHashed
	back, _ = fromIPVSService(k)
	if back.Timeout != 0 || back.NetmaskBits != 32 {
		t.Errorf("non-persistent service read back as %+v", back)
	}
	for _, f := range []state.Forwarding{state.NAT, state.DR, state.TUN} {
		r := state.Real{Key: state.RealKey{Addr: netip.MustParseAddr("10.1.0.1"), Port: 80}, Weight: 3, Forwarding: f, UpperThreshold: 9}
		d := toIPVSDest(r)
		d.ActiveConnections = 5
		got := fromIPVSDest(d)
		if got.Forwarding != f || got.Weight != 3 || got.UpperThreshold != 9 || got.Counters.ActiveConns != 5 {
			t.Errorf("dest round trip %s: %+v", f, got)
		}
	}
	// IPv6 fwmark services.
	k6 := toIPVSService(&state.Service{Key: state.ServiceKey{FWMark: 3, Family: state.IPv6}, Scheduler: "rr"})
	if k6.AddressFamily != unix.AF_INET6 || k6.FWMark != 3 || k6.Netmask != 128 {
		t.Errorf("fwmark6 %+v", k6)
	}
	_ = ipvs.ConnectionFlagMasq
}

package vrrpd_test

import (
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/vrrpd"
	"github.com/lbx-dev/lbx/vrrpd/packet"
)

// The loop turns once per advert received or sent, so what a turn costs
// must not grow with the instances: that would cost n² per advert
// interval (at 100 instances, each received advert allocated 48 KB in 302
// allocations while the status was rebuilt at every turn).

// backups starts n backup instances (VRIDs 1..n on eth0) and returns the
// adverts of a master at priority 200 for each, as received.
func backups(tb testing.TB, n int) (*rig, []vrrpd.Received) {
	var y strings.Builder
	y.WriteString("vrrp_instances:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&y, "  - {name: VI_%d, interface: eth0, virtual_router_id: %d, priority: 100, version: 3, advert_int: 1s, virtual_addresses: [{address: %s/32}]}\n", i, i, vip(i))
	}
	r := start(tb, config(tb, y.String()), nil)
	adverts := make([]vrrpd.Received, n)
	for i := range adverts {
		p := &packet.Packet{Version: 3, VRID: uint8(i + 1), Priority: 200, Interval: time.Second, Addrs: []netip.Addr{vip(i + 1)}}
		data, err := packet.Marshal(p, peer, packet.Group4)
		if err != nil {
			tb.Fatal(err)
		}
		adverts[i] = vrrpd.Received{Data: data, Src: peer, Dst: packet.Group4, TTL: packet.TTL}
	}
	return r, adverts
}

func vip(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(i%250 + 1)}) }

// receive delivers count adverts, round robin, and returns once the loop
// has taken them all.
func receive(tb testing.TB, r *rig, adverts []vrrpd.Received, count int) {
	for i := 0; i < count; i++ {
		if err := r.net.Deliver("eth0", false, adverts[i%len(adverts)]); err != nil {
			tb.Fatal(err)
		}
	}
	r.sync()
	if st := r.status("VI_1"); st.State != "BACKUP" {
		tb.Fatalf("VI_1 is %s; a master at priority 200 keeps it BACKUP", st.State)
	}
}

func TestTurnCostFlatInInstances(t *testing.T) {
	const adverts = 2000
	perAdvert := map[int]float64{}
	for _, n := range []int{1, 100} {
		r, ads := backups(t, n)
		receive(t, r, ads, len(ads)) // every instance has heard its master
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		receive(t, r, ads, adverts)
		runtime.ReadMemStats(&after)
		perAdvert[n] = float64(after.Mallocs-before.Mallocs) / adverts
	}
	// The bound leaves room for the harness and the runtime; what grew
	// with the instances was 300 allocations per advert at 100.
	if perAdvert[100] > perAdvert[1]+10 {
		t.Errorf("allocations per received advert: %.1f with 1 instance, %.1f with 100; a turn must not grow with the instances", perAdvert[1], perAdvert[100])
	}
}

// BenchmarkBackupAdvert is the event loop's cost of one advert received by
// one of n backups.
func BenchmarkBackupAdvert(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprint("instances=", n), func(b *testing.B) {
			r, ads := backups(b, n)
			receive(b, r, ads, len(ads))
			b.ReportAllocs()
			b.ResetTimer()
			receive(b, r, ads, b.N)
		})
	}
}

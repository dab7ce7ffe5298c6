package watch

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkVRRPReconcile1000: the reconcile of a VRRP transition with
// 1,000 services x 5 real servers in the model. It reads and plans the
// addresses only: its cost must not grow with the IPVS table (a whole
// compile, dump and plan took 3.8 ms natively and 700 ms in the test VM;
// the VM scenario watch-vrrp-kernel bounds it at 100 ms).
func BenchmarkVRRPReconcile1000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("version: 1\nvrrp_instances:\n  - {name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 192.0.2.100/24}]}\nvirtual_servers:\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "  - {address: 10.0.%d.%d, port: 80, real_servers: [{address: 10.1.0.1}, {address: 10.1.0.2}, {address: 10.1.0.3}, {address: 10.1.0.4}, {address: 10.1.0.5}]}\n", i/250, i%250+1)
	}
	e, _, _ := startEngine(b, sb.String())
	ctx := context.Background()
	if err := e.reconcile(ctx, trigResync); err != nil {
		b.Fatal(err)
	}
	states := []map[string]string{{"VI_1": "MASTER"}, {"VI_1": "BACKUP"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.mu.Lock()
		e.vrrp = states[i%2]
		e.factsGen++
		e.mu.Unlock()
		if err := e.reconcile(ctx, trigVRRP); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResync500: a periodic resync (global.resync_interval) of 10
// services x 50 real servers that finds nothing to change, bench-watch's
// model: the steady-state work of lbx watch's parent process.
func BenchmarkResync500(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("version: 1\nvirtual_servers:\n")
	for s := 0; s < 10; s++ {
		fmt.Fprintf(&sb, "  - {address: 10.0.0.%d, port: 80, real_servers: [", s+1)
		for k := 0; k < 50; k++ {
			i := s*50 + k
			if k > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "{address: 10.1.%d.%d}", 1+i/250, i%250+1)
		}
		sb.WriteString("]}\n")
	}
	e, _, _ := startEngine(b, sb.String())
	ctx := context.Background()
	if err := e.reconcile(ctx, trigResync); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.reconcile(ctx, trigResync); err != nil {
			b.Fatal(err)
		}
	}
}

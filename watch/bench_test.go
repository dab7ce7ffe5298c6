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

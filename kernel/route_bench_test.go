package kernel_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/kernel"
)

// BenchmarkReadFullTable reads the network state of a director that also
// runs a BGP daemon holding a full Internet table (proto bgp routes lbx
// never reads), next to iproute2 listing lbx's own routes the way a
// script would (`ip route show table all proto 229`, the kernel filtering
// the dump). LBX_BENCH_ROUTES sets the table size (default 200,000).
func BenchmarkReadFullTable(b *testing.B) {
	n := 200_000
	if v := os.Getenv("LBX_BENCH_ROUTES"); v != "" {
		fmt.Sscan(v, &n)
	}
	ns, k := fullTableNS(b, n)
	ctx := context.Background()
	b.Run("lbx", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			st, err := k.ReadNetwork(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if len(st.Routes) != 2 {
				b.Fatalf("read %d routes, want lbx's 2", len(st.Routes))
			}
		}
	})
	b.Run("iproute2", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			out := ns.Run(b, "ip", "route", "show", "table", "all", "proto", "229")
			if strings.Count(out, "\n") != 2 {
				b.Fatalf("ip listed %q, want lbx's 2 routes", out)
			}
		}
	})
}

// fullTableNS is a namespace with n proto-bgp IPv4 routes (distinct /24s)
// and two lbx routes.
func fullTableNS(b *testing.B, n int) (*nstest.NS, kernel.Kernel) {
	nstest.Require(b)
	ns := nstest.New(b, nstest.Unique("fib"))
	ns.Link(b, "d0", "10.77.0.2/24")
	var batch strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&batch, "route add %d.%d.%d.0/24 via 10.77.0.1 proto bgp\n", 11+i>>16, (i>>8)&255, i&255)
	}
	batch.WriteString("route add 10.1.0.0/16 via 10.77.0.1 proto 229\nroute add 10.2.0.0/16 via 10.77.0.1 proto 229\n")
	file := filepath.Join(b.TempDir(), "routes")
	if err := os.WriteFile(file, []byte(batch.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	ns.Run(b, "ip", "-batch", file)
	k, err := kernel.OpenKernel(kernel.KernelOptions{Netns: ns.Name, AddressesOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { k.Close() })
	return ns, k
}

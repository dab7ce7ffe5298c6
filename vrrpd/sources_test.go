package vrrpd_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/vrrpd/vrrptest"
)

// TestAddressEventReadsLinkOnce: the start, and an address event on a
// link, read its addresses once, whatever the number of instances there. Each read is a
// dump of the namespace's addresses, and n instances going MASTER make n
// events: one read per instance made 100 instances allocate 38 MB at start.
func TestAddressEventReadsLinkOnce(t *testing.T) {
	for _, n := range []int{1, 20} {
		t.Run(fmt.Sprintf("instances=%d", n), func(t *testing.T) {
			var y strings.Builder
			y.WriteString("vrrp_instances:\n")
			for i := 1; i <= n; i++ {
				fmt.Fprintf(&y, "  - {name: VI_%d, interface: eth0, virtual_router_id: %d, version: 3, advert_int: 1s, virtual_addresses: [{address: 10.9.0.%d/32}]}\n", i, i, i)
			}
			r := start(t, config(t, y.String()), nil)
			// The start's reads first: one for every instance's source
			// (the link's, read once), then the link watcher's first
			// report, which comes on its own.
			r.awaitEvents(vrrptest.Addrs, "eth0", 2)
			r.sync()
			before := len(r.events(vrrptest.Addrs, "eth0"))
			if before != 2 {
				t.Errorf("%d instances: %d reads of eth0's addresses at start, want 2 (their source, the watcher's report)", n, before)
			}
			r.net.SetAddrs("eth0", own, netip.MustParseAddr("10.0.0.9"))
			r.awaitEvents(vrrptest.Addrs, "eth0", before+1)
			r.sync()
			if got := len(r.events(vrrptest.Addrs, "eth0")) - before; got != 1 {
				t.Errorf("%d instances: %d reads of eth0's addresses for one address event, want 1", n, got)
			}
		})
	}
}

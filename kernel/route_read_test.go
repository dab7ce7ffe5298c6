package kernel

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/state"
)

// TestFilteredRouteRead checks the two-step route read (headers, then
// one kernel-filtered dump a protocol) against decoding every route, on
// a namespace holding routes of many protocols, tables and both
// families: the same routes, and none of a routing daemon's.
func TestFilteredRouteRead(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t, nstest.Unique("rr"))
	ns.Link(t, "d0", "10.77.0.2/24", "2001:db8:77::2/64")
	for _, r := range [][]string{
		{"10.1.0.0/16", "via", "10.77.0.1", "proto", "229"},
		{"10.2.0.0/16", "via", "10.77.0.1", "proto", "229", "table", "100000"},
		{"10.3.0.0/16", "via", "10.77.0.1"}, // proto boot
		{"10.4.0.0/16", "via", "10.77.0.1", "proto", "static", "table", "100"},
		{"10.5.0.0/16", "via", "10.77.0.1", "proto", "18", "metric", "5"},
		{"blackhole", "10.6.0.0/16", "proto", "229"},
		{"10.7.0.0/16", "via", "10.77.0.1", "proto", "bgp"},
		{"10.8.0.0/16", "via", "10.77.0.1", "proto", "bird", "table", "100"},
		{"2001:db8:1::/48", "via", "2001:db8:77::1", "proto", "229"},
		{"2001:db8:2::/48", "via", "2001:db8:77::1", "proto", "zebra"},
		{"unreachable", "2001:db8:3::/48", "proto", "static", "table", "100"},
	} {
		ns.Run(t, "ip", append([]string{"route", "add"}, r...)...)
	}
	kernel, err := OpenKernel(KernelOptions{Netns: ns.Name, AddressesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer kernel.Close()
	k := kernel.(*NetKernel)
	if k.routes == nil {
		t.Fatal("no strict-check route reader on this kernel (Linux 4.20+ has one)")
	}
	ctx := context.Background()
	filtered, err := k.ReadNetwork(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reader := k.routes
	k.routes = nil // the whole table, decoded
	full, err := k.ReadNetwork(ctx)
	k.routes = reader
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(full.Routes, filtered.Routes, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
		t.Errorf("filtered read differs from the full decode (-full +filtered):\n%s", diff)
	}
	var got []string
	for _, key := range state.SortedKeys(filtered.Routes) {
		got = append(got, key.String())
	}
	slices.Sort(got)
	want := []string{
		"10.1.0.0/16", "10.2.0.0/16@table=100000", "10.3.0.0/16", "10.4.0.0/16@table=100",
		"10.5.0.0/16@metric=5", "10.6.0.0/16", "2001:db8:1::/48", "2001:db8:3::/48@table=100",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routes read (-want +got):\n%s", diff)
	}
}

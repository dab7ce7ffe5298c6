package kernelns_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// routeNS is a namespace with two links (veth pairs: this host's kernel
// has no dummy driver) carrying an IPv4 and an
// IPv6 network each, and a kernel handle on it without IPVS (the host
// has none; routes need none).
func routeNS(t *testing.T) (*nstest.NS, kernel.Kernel) {
	nstest.Require(t)
	ns := nstest.New(t, nstest.Unique("rt"))
	ns.Link(t, "d0", "10.77.0.2/24", "2001:db8:77::2/64")
	ns.Link(t, "d1", "10.78.0.2/24", "2001:db8:78::2/64")
	k, err := kernel.OpenKernel(kernel.KernelOptions{Netns: ns.Name, AddressesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return ns, k
}

func routeModel(t *testing.T, routes string) *model.Desired {
	t.Helper()
	return testkit.Desired(t, "version: 1\nroutes:\n"+routes)
}

// lbxRoutes is what `ip` (not lbx) reports of the routes marked as lbx's,
// one line a route (a multipath route's nexthops joined to it).
func lbxRoutes(t *testing.T, ns *nstest.NS) string {
	var out []string
	for _, fam := range []string{"-4", "-6"} {
		text := ns.Run(t, "ip", "-o", fam, "route", "show", "table", "all", "proto", "229")
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			out = append(out, strings.Join(strings.Fields(strings.ReplaceAll(l, "\\", " ")), " "))
		}
	}
	return strings.Join(out, "\n")
}

const allKinds = `
  - {to: 10.1.0.0/16, via: 10.77.0.1}
  - {to: 10.2.0.0/16, interface: d1, src: 10.78.0.2}
  - {to: 0.0.0.0/0, via: 10.78.0.1, table: 100}
  - {to: 10.3.0.0/16, via: 10.77.0.1, metric: 7}
  - {to: 10.4.0.0/16, type: blackhole}
  - {to: 10.5.0.0/16, type: unreachable, table: 100000}
  - to: 10.6.0.0/16
    nexthops: [{via: 10.78.0.1, weight: 3}, {via: 10.77.0.1, interface: d0}]
  - {to: 10.7.0.0/16, via: 192.0.2.1, interface: d0, onlink: true}
  - {to: "2001:db8:1::/48", via: "2001:db8:77::1", metric: 0}
  - {to: "2001:db8:2::/48", type: prohibit}
  - {to: "::/0", via: "fe80::1", interface: d1, table: 100}
`

// TestRoutesOnTheKernel applies every kind of route lbx models into a
// namespace, checks the kernel's own view, and that a second plan is
// empty: what lbx writes reads back the same (the kernel's defaults,
// IPv6 metrics, nexthop weights and order, blackholes reported on lo).
func TestRoutesOnTheKernel(t *testing.T) {
	ns, k := routeNS(t)
	ctx := context.Background()
	d := routeModel(t, allKinds)
	p, res, err := apply.Reconcile(ctx, k, d, plan.Options{}, apply.Options{})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if len(p.Changes) != 11 || res.Added != 11 {
		t.Fatalf("want 11 creates, got %d changes (%d added)", len(p.Changes), res.Added)
	}
	got := lbxRoutes(t, ns)
	want := strings.Join([]string{
		"default via 10.78.0.1 dev d1 table 100",
		"unreachable 10.5.0.0/16 table 100000",
		"10.1.0.0/16 via 10.77.0.1 dev d0",
		"10.2.0.0/16 dev d1 scope link src 10.78.0.2",
		"10.3.0.0/16 via 10.77.0.1 dev d0 metric 7",
		"blackhole 10.4.0.0/16",
		"10.6.0.0/16 nexthop via 10.77.0.1 dev d0 weight 1 nexthop via 10.78.0.1 dev d1 weight 3",
		"10.7.0.0/16 via 192.0.2.1 dev d0 onlink",
		"default via fe80::1 dev d1 table 100 metric 1024 pref medium",
		"2001:db8:1::/48 via 2001:db8:77::1 dev d0 metric 1024 pref medium",
		"prohibit 2001:db8:2::/48 dev lo metric 1024 pref medium",
	}, "\n")
	if got != want {
		t.Errorf("the kernel's lbx routes (ip route):\n%s\nwant:\n%s", got, want)
	}
	again, _, err := apply.Reconcile(ctx, k, d, plan.Options{}, apply.Options{})
	if err != nil || !again.Empty() {
		var b strings.Builder
		if again != nil {
			plan.WriteText(&b, again, false)
		}
		t.Fatalf("second plan not empty (err %v):\n%s", err, b.String())
	}
}

// TestRouteChangesInPlace: a new gateway is one in-place write; a route
// another owner made is left alone unless the model declares it (then
// adopted by one write); a route left out of the model is deleted, and
// only lbx's.
func TestRouteChangesInPlace(t *testing.T) {
	ns, k := routeNS(t)
	ctx := context.Background()
	ns.Run(t, "ip", "route", "add", "10.99.0.0/16", "via", "10.77.0.1", "proto", "static")
	ns.Run(t, "ip", "route", "add", "10.98.0.0/16", "via", "10.77.0.1", "proto", "18")
	if _, _, err := apply.Reconcile(ctx, k, routeModel(t, "  - {to: 10.1.0.0/16, via: 10.77.0.1}\n  - {to: 10.2.0.0/16, via: 10.77.0.1}\n"), plan.Options{}, apply.Options{}); err != nil {
		t.Fatal(err)
	}

	d := routeModel(t, "  - {to: 10.1.0.0/16, via: 10.78.0.1}\n  - {to: 10.98.0.0/16, via: 10.77.0.1}\n")
	p, res, err := apply.Reconcile(ctx, k, d, plan.Options{}, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, c := range p.Changes {
		actions = append(actions, string(c.Action)+" "+c.Address+" "+strings.Join(c.Fields, ","))
	}
	want := "delete route.10.2.0.0/16 |update route.10.1.0.0/16 via|update route.10.98.0.0/16 protocol"
	if strings.Join(actions, "|") != want {
		t.Errorf("plan\n got %q\nwant %q", strings.Join(actions, "|"), want)
	}
	if res.KernelWrites != 3 {
		t.Errorf("want 3 kernel writes (one a change), got %d", res.KernelWrites)
	}
	all := ns.Run(t, "ip", "route", "show")
	for _, line := range []string{"10.1.0.0/16 via 10.78.0.1 dev d1 proto 229", "10.98.0.0/16 via 10.77.0.1 dev d0 proto 229", "10.99.0.0/16 via 10.77.0.1 dev d0 proto static"} {
		if !strings.Contains(all, line) {
			t.Errorf("want %q in:\n%s", line, all)
		}
	}
	if strings.Contains(all, "10.2.0.0/16") {
		t.Errorf("10.2.0.0/16 left the model but is still there:\n%s", all)
	}
}

// TestRouteErrors: the kernel's refusals come back as one line naming the
// route and what to do.
func TestRouteErrors(t *testing.T) {
	_, k := routeNS(t)
	ctx := context.Background()
	for _, c := range []struct{ route, want string }{
		{"  - {to: 10.1.0.0/16, via: 192.0.2.1}\n", "add route 10.1.0.0/16 via 192.0.2.1: the gateway is not on a network of the interface"},
		{"  - {to: 10.1.0.0/16, interface: d0, src: 10.9.9.9}\n", "a src that is not an address of this host"},
		{"  - {to: 10.1.0.0/16, interface: nosuch0}\n", `interface "nosuch0" does not exist`},
	} {
		_, _, err := apply.Reconcile(ctx, k, routeModel(t, c.route), plan.Options{}, apply.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error with %q, got %v", strings.TrimSpace(c.route), c.want, err)
		}
	}
	_ = state.RouteProtoLBX
}

// TestRoutingDaemonRoutes: a routing daemon's routes are not read (a full
// table would cost a million objects), and a declared route whose key one
// holds is not taken over: the create fails with what to do, the
// daemon's route stays.
func TestRoutingDaemonRoutes(t *testing.T) {
	ns, k := routeNS(t)
	ctx := context.Background()
	ns.Run(t, "ip", "route", "add", "10.50.0.0/16", "via", "10.77.0.1", "proto", "bgp")
	live, err := k.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for key, r := range live.Routes {
		if r.Protocol == 186 {
			t.Errorf("read a BGP route: %s", key)
		}
	}
	_, _, err = apply.Reconcile(ctx, k, routeModel(t, "  - {to: 10.50.0.0/16, via: 10.78.0.1}\n"), plan.Options{}, apply.Options{})
	if err == nil || !strings.Contains(err.Error(), "a routing daemon's, which lbx does not read or replace") {
		t.Errorf("create over a BGP route: %v", err)
	}
	if got := ns.Run(t, "ip", "route", "show", "10.50.0.0/16"); !strings.Contains(got, "via 10.77.0.1 dev d0 proto bgp") {
		t.Errorf("the BGP route changed: %s", got)
	}
}

// TestDuplicateRoutesUnderOneKey: the kernel can hold several routes
// under one table, destination and metric (`ip route append`, also of IPv6
// device routes on two links). A declared key with another owner's route
// beside lbx's is reported and left alone (the kernel's replace would take
// the first route, maybe the other owner's), and deleting lbx's route
// when it leaves the model removes lbx's only.
func TestDuplicateRoutesUnderOneKey(t *testing.T) {
	ns, k := routeNS(t)
	ctx := context.Background()
	declared := "  - {to: 10.1.0.0/16, via: 10.77.0.1}\n  - {to: \"2001:db8:1::/48\", interface: d0}\n"
	if _, _, err := apply.Reconcile(ctx, k, routeModel(t, declared), plan.Options{}, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	ns.Run(t, "ip", "route", "append", "10.1.0.0/16", "via", "10.78.0.1", "proto", "static")
	ns.Run(t, "ip", "-6", "route", "append", "2001:db8:1::/48", "dev", "d1", "proto", "static")
	before := ns.Run(t, "ip", "route", "show", "table", "all")

	// The declared gateway changes: the plan must not replace the first
	// route of the key.
	changed := "  - {to: 10.1.0.0/16, via: 10.78.0.1, metric: 0}\n  - {to: \"2001:db8:1::/48\", interface: d1}\n"
	p, res, err := apply.Reconcile(ctx, k, routeModel(t, changed), plan.Options{}, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() || res.KernelWrites != 0 {
		t.Errorf("want no change under conflicting keys, got %d changes (%d writes): %+v", len(p.Changes), res.KernelWrites, p.Changes)
	}
	notes := strings.Join(p.Notes, "\n")
	for _, want := range []string{
		"route.10.1.0.0/16: left as it is: the kernel holds 2 routes under this table, destination and metric (10.1.0.0/16 via 10.77.0.1 dev d0; 10.1.0.0/16 via 10.78.0.1 dev d1 proto 4)",
		"route.2001:db8:1::/48: left as it is: the kernel holds 2 routes",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("want a note with %q, got:\n%s", want, notes)
		}
	}
	if after := ns.Run(t, "ip", "route", "show", "table", "all"); after != before {
		t.Errorf("routes changed:\n%s\nwas:\n%s", after, before)
	}

	// Out of the model: lbx's routes go, the other owner's stay.
	if _, _, err := apply.Reconcile(ctx, k, routeModel(t, "  []\n"), plan.Options{}, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := lbxRoutes(t, ns); got != "\n" && got != "" {
		t.Errorf("lbx routes left: %q", got)
	}
	for _, c := range [][]string{{"-4", "10.1.0.0/16 via 10.78.0.1 dev d1"}, {"-6", "2001:db8:1::/48 dev d1"}} {
		if got := ns.Run(t, "ip", c[0], "route", "show", "proto", "static"); !strings.Contains(got, c[1]) {
			t.Errorf("the other owner's route is gone: want %q in %q", c[1], got)
		}
	}
}

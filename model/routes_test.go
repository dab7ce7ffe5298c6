package model

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lbx-dev/lbx/state"
)

// TestRouteValidation: each mistake is one error at the field, with what
// to do.
func TestRouteValidation(t *testing.T) {
	cases := []struct{ name, routes, want string }{
		{"no destination", "- {via: 10.0.0.1}", "routes[0].to: missing: the destination network"},
		{"host bits", "- {to: 10.1.2.3/16, via: 10.0.0.1}", "routes[0].to: 10.1.2.3/16 has host bits set: the network is 10.1.0.0/16"},
		{"default", "- {to: default, via: 10.0.0.1}", `"default" has no address family here: write 0.0.0.0/0 or ::/0`},
		{"no path", "- {to: 10.1.0.0/16}", "routes[0]: a unicast route needs `via`, `interface` or `nexthops`"},
		{"unknown type", "- {to: 10.1.0.0/16, type: nat}", `routes[0].type: unknown route type "nat"; want one of unicast, blackhole`},
		{"blackhole with a gateway", "- {to: 10.1.0.0/16, type: blackhole, via: 10.0.0.1}", "routes[0].via: a blackhole route has no via"},
		{"mixed family gateway", "- {to: 10.1.0.0/16, via: '2001:db8::1'}", "routes[0].via: 2001:db8::1 is not of the route's family (IPv4)"},
		{"mixed family source", "- {to: '2001:db8::/32', interface: eth0, src: 10.0.0.1}", "routes[0].src: 10.0.0.1 is not of the route's family (IPv6)"},
		{"link-local gateway without device", "- {to: '::/0', via: 'fe80::1'}", "routes[0].interface: a link-local gateway (fe80::1) needs its interface"},
		{"one nexthop", "- {to: 10.1.0.0/16, nexthops: [{via: 10.0.0.1}]}", "routes[0].nexthops: a multipath route needs at least two nexthops"},
		{"nexthops and via", "- {to: 10.1.0.0/16, via: 10.0.0.1, nexthops: [{via: 10.0.0.1}, {via: 10.0.0.2}]}", "routes[0].nexthops: give either nexthops or via/interface/onlink, not both"},
		{"nexthop weight", "- {to: 10.1.0.0/16, nexthops: [{via: 10.0.0.1, weight: 0}, {via: 10.0.0.2}]}", "routes[0].nexthops[0].weight: want 1..256, got 0"},
		{"same nexthop twice", "- {to: 10.1.0.0/16, nexthops: [{via: 10.0.0.1}, {via: 10.0.0.1}]}", "routes[0].nexthops[1]: the same path twice"},
		{"local table", "- {to: 10.1.0.0/16, via: 10.0.0.1, table: 255}", "routes[0].table: want 1..4294967295 except 255"},
		{"scope of a gateway route", "- {to: 10.1.0.0/16, via: 10.0.0.1, scope: link}", "routes[0].scope: a route through a gateway needs scope global or site"},
		{"IPv6 scope", "- {to: '2001:db8::/32', interface: eth0, scope: link}", "routes[0].scope: IPv6 routes have no scope"},
		{"onlink without gateway", "- {to: 10.1.0.0/16, interface: eth0, onlink: true}", "routes[0].onlink: onlink needs a gateway"},
		{"unspecified source", "- {to: '2001:db8::/32', interface: eth0, src: '::'}", "routes[0].src: :: cannot be a source"},
		{"unspecified gateway", "- {to: 10.1.0.0/16, via: 0.0.0.0}", "routes[0].via: 0.0.0.0 cannot be a gateway"},
		{"onlink without interface", "- {to: 10.1.0.0/16, via: 10.0.0.1, onlink: true}", "routes[0].interface: onlink needs the interface"},
		{"IPv6 device-only nexthops", "- {to: '2001:db8::/32', nexthops: [{interface: eth0, via: '2001:db8::1'}, {interface: eth1}]}", "routes[0].nexthops[1].via: an IPv6 nexthop needs a gateway"},
		{"same key twice", "- {to: 10.1.0.0/16, via: 10.0.0.1}\n- {to: 10.1.0.0/16, interface: eth0, metric: 0}", "routes[1].to: route 10.1.0.0/16 is already declared at routes[0] (line 3)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "version: 1\nroutes:\n" + indent(tc.routes)
			_, err := Parse([]byte(yaml), "m.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error with %q, got %v", tc.want, err)
			}
			if es, _ := AsErrors(err); len(es) != 1 {
				t.Errorf("want one error, got %d:\n%v", len(es), err)
			}
		})
	}
	// A virtual route may not take a static route's key either.
	_, err := Parse([]byte("version: 1\nroutes:\n  - {to: 10.1.0.0/16, via: 10.0.0.1}\nvrrp_instances:\n  - name: A\n    interface: eth0\n    virtual_router_id: 5\n    virtual_routes: [{to: 10.1.0.0/16, via: 10.0.0.2}]\n"), "m.yaml")
	if err == nil || !strings.Contains(err.Error(), "vrrp_instances[0].virtual_routes[0].to: route 10.1.0.0/16 is already declared at routes[0]") {
		t.Errorf("virtual route with a static route's key: %v", err)
	}
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

const routeModelYAML = `version: 1
routes:
  - {to: 10.1.0.0/16, via: 10.0.0.1}
  - {to: 10.2.0.0/16, interface: eth1, src: 10.0.0.5}
  - {to: "2001:db8:1::/48", via: "2001:db8::1", table: 100}
  - to: 10.3.0.0/16
    nexthops: [{via: 10.0.0.9, weight: 2}, {via: 10.0.0.1}]
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    virtual_routes:
      - {to: 0.0.0.0/0, via: 10.0.0.254, table: 7, metric: 5}
      - {to: 10.4.0.0/16, type: blackhole}
`

// TestCompileRoutes: the kernel's defaults filled in (main table, IPv6
// metric 1024, ip route's scope, weight 1, nexthops sorted); virtual
// routes only while MASTER, and out of scope without VRRP facts.
func TestCompileRoutes(t *testing.T) {
	m, err := Parse([]byte(routeModelYAML), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pfx, ip := netip.MustParsePrefix, netip.MustParseAddr
	static := map[state.RouteKey]state.Route{}
	for _, r := range []state.Route{
		{Key: state.RouteKey{Table: 254, Dst: pfx("10.1.0.0/16")}, Type: "unicast", Via: ip("10.0.0.1"), Scope: "global", Protocol: 229, Origin: "static"},
		{Key: state.RouteKey{Table: 254, Dst: pfx("10.2.0.0/16")}, Type: "unicast", Interface: "eth1", Src: ip("10.0.0.5"), Scope: "link", Protocol: 229, Origin: "static"},
		{Key: state.RouteKey{Table: 100, Dst: pfx("2001:db8:1::/48"), Metric: 1024}, Type: "unicast", Via: ip("2001:db8::1"), Scope: "global", Protocol: 229, Origin: "static"},
		{Key: state.RouteKey{Table: 254, Dst: pfx("10.3.0.0/16")}, Type: "unicast", Scope: "global", Protocol: 229, Origin: "static",
			Nexthops: []state.Nexthop{{Via: ip("10.0.0.1"), Weight: 1}, {Via: ip("10.0.0.9"), Weight: 2}}},
	} {
		static[r.Key] = r
	}
	virtual := []state.Route{
		{Key: state.RouteKey{Table: 7, Dst: pfx("0.0.0.0/0"), Metric: 5}, Type: "unicast", Via: ip("10.0.0.254"), Scope: "global", Protocol: 229, Origin: "vrrp VI_1"},
		{Key: state.RouteKey{Table: 254, Dst: pfx("10.4.0.0/16")}, Type: "blackhole", Scope: "global", Protocol: 229, Origin: "vrrp VI_1"},
	}
	withVirtual := map[state.RouteKey]state.Route{}
	for k, r := range static {
		withVirtual[k] = r
	}
	for _, r := range virtual {
		withVirtual[r.Key] = r
	}
	netipEqual := cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})
	for _, tc := range []struct {
		name        string
		facts       Facts
		routes      map[state.RouteKey]state.Route
		leftToWatch []state.Route
	}{
		{"one-shot: virtual routes left to lbx watch", Facts{}, static, virtual},
		{"MASTER", Facts{VRRP: map[string]string{"VI_1": "MASTER"}}, withVirtual, nil},
		{"BACKUP", Facts{VRRP: map[string]string{"VI_1": "BACKUP"}}, static, nil},
		{"FAULT", Facts{VRRP: map[string]string{"VI_1": "FAULT"}}, static, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Compile(m, tc.facts)
			if diff := cmp.Diff(tc.routes, d.State.Routes, netipEqual); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.leftToWatch, d.VRRPRoutes, netipEqual); diff != "" {
				t.Errorf("VRRP routes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRouteExportRoundTrip: lbx's routes exported as a model compile back
// to the same routes; other owners' routes are not exported.
func TestRouteExportRoundTrip(t *testing.T) {
	m, err := Parse([]byte(routeModelYAML), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	live := Compile(m, Facts{VRRP: map[string]string{"VI_1": "MASTER"}}).State
	foreign := state.Route{Key: state.RouteKey{Table: 254, Dst: netip.MustParsePrefix("0.0.0.0/0")}, Type: "unicast", Via: netip.MustParseAddr("192.0.2.1"), Scope: "global", Protocol: 16}
	live.Routes[foreign.Key] = foreign
	b, err := MarshalYAML(FromState(live, nil))
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b, "exported.yaml")
	if err != nil {
		t.Fatalf("exported model does not load: %v\n%s", err, b)
	}
	got := Compile(back, Facts{}).State.Routes
	delete(live.Routes, foreign.Key)
	if diff := cmp.Diff(live.Routes, got, cmp.Comparer(func(a, b state.Route) bool { return a.Same(b) }), cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("round trip (-live +exported):\n%s\n%s", diff, b)
	}
}

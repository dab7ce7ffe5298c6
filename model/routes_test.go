package model

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lbx-dev/lbx/state"
)

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

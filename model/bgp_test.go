package model

import (
	"net/netip"
	"testing"
)

// bgpBase is a valid model around the bgp section under test: a DR
// service on 192.0.2.10 and the VIP on lo.
const bgpBase = `version: 1
addresses:
  - {address: 192.0.2.10/32, interface: lo}
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 51, virtual_addresses: [{address: 192.0.2.99/24}]}
virtual_servers:
  - name: web
    address: 192.0.2.10
    port: 80
    scheduler: mh
    scheduler_flags: [mh-port]
    forwarding: dr
    real_servers: [{address: 10.0.0.1}]
  - name: rr-web
    address: 192.0.2.10
    port: 8080
    scheduler: rr
    real_servers: [{address: 10.0.0.1}]
`

func TestBGPValidation(t *testing.T) {
	cases := []struct {
		name string
		bgp  string
		want []string // substrings of the errors, "" for a valid model
	}{
		{"valid", `
bgp:
  local_as: 65001
  router_id: 10.0.0.11
  peers: [{address: 10.0.0.254, as: 65000, hold_time: 9s, keepalive: 3s, ebgp_multihop: 2, password_file: /etc/lbx/pw}]
  announcements:
    - {prefix: 192.0.2.10/32, when: {virtual_servers: [web], min_healthy: 1, vrrp_instance: VI_1}, communities: ["65000:100", no-export], med: 10}
`, nil},
		{"kernel announcer", `
bgp:
  announcer: kernel
  kernel: {table: 100}
  announcements: [{prefix: 192.0.2.10/32}]
`, nil},
		{"vip nobody uses", `
bgp:
  local_as: 65001
  router_id: 10.0.0.11
  peers: [{address: 10.0.0.254, as: 65000}]
  announcements: [{prefix: 198.51.100.7/32}]
`, []string{"m.yaml:24:28: bgp.announcements[0].prefix: no virtual server, address or VRRP address"}},
		{"peer of the wrong family", `
bgp:
  local_as: 65001
  router_id: 10.0.0.11
  peers: [{address: "2001:db8::1", as: 65000}]
  announcements: [{prefix: 192.0.2.10/32}]
`, []string{"bgp.announcements[0].prefix: no peer of the prefix's family (IPv4)"}},
		{"router id is the peer's", `
bgp:
  local_as: 65001
  router_id: 10.0.0.254
  peers: [{address: 10.0.0.254, as: 65001}]
  announcements: [{prefix: 192.0.2.10/32}]
`, []string{"bgp.peers[0].address: 10.0.0.254 is also bgp.router_id"}},
		{"missing as, router id, peers", `
bgp:
  announcements: [{prefix: 192.0.2.10/32}]
`, []string{"bgp.local_as: missing", "bgp.router_id: missing", "bgp.peers: missing"}},
		{"ipv6 router id", `
bgp:
  local_as: 65001
  router_id: "2001:db8::5"
  peers: [{address: 10.0.0.254, as: 65000}]
  announcements: [{prefix: 192.0.2.10/32}]
`, []string{"bgp.router_id: 2001:db8::5 is not a usable BGP identifier"}},
		{"timers and multihop", `
bgp:
  local_as: 65001
  router_id: 10.0.0.11
  peers:
    - {address: 10.0.0.254, as: 65000, hold_time: 2s, port: 70000}
    - {address: 10.0.0.253, as: 65001, hold_time: 9s, keepalive: 9s, ebgp_multihop: 3, password_file: pw}
  announcements: [{prefix: 192.0.2.10/32}]
`, []string{"peers[0].hold_time: want 0 or whole seconds", "peers[0].port: want 1..65535", "peers[1].keepalive: want 1s up to less than hold_time",
			"peers[1].ebgp_multihop: an iBGP peer", "peers[1].password_file: \"pw\" is not an absolute path"}},
		{"duplicates", `
bgp:
  local_as: 65001
  router_id: 10.0.0.11
  peers: [{address: 10.0.0.254, as: 65000}, {address: 10.0.0.254, as: 65000}]
  announcements: [{prefix: 192.0.2.10/32}, {prefix: 192.0.2.10/32}]
`, []string{"peers[1].address: peer 10.0.0.254 is already declared at bgp.peers[0] (line 23)", "announcements[1].prefix: 192.0.2.10/32 is already announced"}},
		{"conditions name what exists", `
bgp:
  local_as: 65001
  router_id: 10.0.0.11
  peers: [{address: 10.0.0.254, as: 65000}]
  announcements:
    - {prefix: 192.0.2.10/32, when: {virtual_servers: [nope], min_healthy: 0, vrrp_instance: VI_9}, communities: ["65536:1"], interface: "a/b"}
`, []string{"when.virtual_servers[0]: no virtual server named \"nope\"", "when.min_healthy: want at least 1", "when.vrrp_instance: no vrrp_instance named \"VI_9\"",
			"communities[0]: want AS:VALUE", "interface: \"a/b\" is not a valid interface name"}},
		{"kernel announcer misuse", `
bgp:
  announcer: kernel
  peers: [{address: 10.0.0.254, as: 65000}]
  graceful_shutdown: 5s
  announcements: [{prefix: 192.0.2.10/32}]
`, []string{"bgp.peers: the kernel announcer holds no sessions", "bgp.graceful_shutdown: the kernel announcer", "bgp.kernel.table: missing"}},
		{"unknown announcer", `
bgp:
  announcer: bird
  announcements: [{prefix: 192.0.2.10/32}]
`, []string{"bgp.announcer: want gobgp or kernel"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(bgpBase+tc.bgp), "m.yaml")
			wantErrors(t, err, tc.want)
		})
	}
}

func TestBGPWarnings(t *testing.T) {
	cases := []struct {
		name          string
		announcements string
		want          []string
	}{
		{"mh with mh-port", "[{prefix: 192.0.2.10/32, when: {virtual_servers: [web]}}]", nil},
		{"rr", "[{prefix: 192.0.2.10/32, when: {virtual_servers: [web, rr-web]}}]", []string{`m.yaml:23:73: bgp.announcements[0].when.virtual_servers[1]: virtual server "rr-web" uses scheduler rr`}},
		{"no condition", "[{prefix: 192.0.2.10/32}]", nil},
		{"each service once", "[{prefix: 192.0.2.10/32, when: {virtual_servers: [rr-web]}}, {prefix: 192.0.2.0/24, when: {virtual_servers: [rr-web]}}]",
			[]string{`"rr-web" uses scheduler rr`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantWarnings(t, bgpBase+`bgp:
  local_as: 65001
  router_id: 10.0.0.11
  peers: [{address: 10.0.0.254, as: 65000}]
  announcements: `+tc.announcements+"\n", tc.want)
		})
	}
}

func TestParseCommunity(t *testing.T) {
	cases := []struct {
		in   string
		want uint32
		bad  bool
	}{
		{"65000:100", 65000<<16 | 100, false},
		{"0:0", 0, false},
		{"no-export", 0xFFFFFF01, false},
		{"65536:1", 0, true},
		{"1:2:3", 0, true},
		{"graceful", 0, true},
	}
	for _, tc := range cases {
		got, err := ParseCommunity(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseCommunity(%q) = %d, %v; want %d, bad %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

// TestCompileBGPRoutes: lbx watch's facts put a route per announced prefix
// of the kernel announcer; plan's (no VRRP facts) leave them to it.
func TestCompileBGPRoutes(t *testing.T) {
	m, err := Parse([]byte(bgpBase+`bgp:
  announcer: kernel
  kernel: {table: 100, metric: 5}
  announcements: [{prefix: 192.0.2.10/32}, {prefix: 192.0.2.99/32, interface: eth0}]
`), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	vip := netip.MustParsePrefix("192.0.2.10/32")
	cases := []struct {
		name      string
		f         Facts
		routes    int // in State
		bgpRoutes int // left to lbx watch
	}{
		{"plan", Facts{}, 0, 2},
		{"watch, nothing announced", Facts{VRRP: map[string]string{}}, 0, 0},
		{"watch, one announced", Facts{VRRP: map[string]string{}, Announced: map[netip.Prefix]bool{vip: true}}, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Compile(m, tc.f)
			if len(d.State.Routes) != tc.routes || len(d.BGPRoutes) != tc.bgpRoutes || len(d.BGPAnnouncements) != 2 {
				t.Fatalf("routes %d, bgp routes %d, announcements %d; want %d, %d, 2", len(d.State.Routes), len(d.BGPRoutes), len(d.BGPAnnouncements), tc.routes, tc.bgpRoutes)
			}
			for k, r := range d.State.Routes {
				if k.Table != 100 || k.Metric != 5 || k.Dst != vip || r.Interface != "lo" || r.Scope != "link" {
					t.Errorf("route %+v", r)
				}
			}
		})
	}
}

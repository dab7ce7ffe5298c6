// Package modeltest holds the broken models of lbx's test suite, with the
// errors lbx must give for each, so that every check of the model format
// (the loader's tests in package model and the JSON Schema's in
// internal/schema) runs over the same cases.
package modeltest

import "strings"

// Broken is a model lbx must refuse. Want lists every error it must give
// (each a substring of one error line: "line:col: path: message" or a part
// of it), and no other.
type Broken struct {
	Name, YAML string
	Want       []string
}

// Invalid are broken models, one mistake each (or several, to show that
// every error is reported in one pass).
var Invalid = []Broken{
	{"missing version", "virtual_servers: []\n", []string{"1:1: version: missing"}},
	{"wrong version", "version: 7\n", []string{"1:10: version: version 7 is not supported"}},
	{"unknown key with suggestion", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    schedular: rr\n",
		[]string{`5:5: virtual_servers[0].schedular: unknown field "schedular" (did you mean "scheduler"?)`}},
	{"wrong type", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: eighty\n",
		[]string{`4:11: virtual_servers[0].port: want an integer, got "eighty"`}},
	{"bad address", "version: 1\nvirtual_servers:\n  - address: 10.0.0.300\n    port: 80\n",
		[]string{`3:14: virtual_servers[0].address: want an IP address`}},
	{"bad prefix", "version: 1\naddresses:\n  - {address: 10.0.0.1/33, interface: eth0}\n",
		[]string{`3:15: addresses[0].address: want an address with a prefix length`}},
	{"port out of range", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 65536\n",
		[]string{`4:11: virtual_servers[0].port: want 1..65535, got 65536`}},
	{"weight out of range", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - {address: 10.1.0.1, weight: 70000}\n",
		[]string{`6:37: virtual_servers[0].real_servers[0].weight: want 0..65535, got 70000`}},
	{"quorum hysteresis without min (quorum 1)", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    quorum: {hysteresis: 1}\n",
		[]string{`5:26: virtual_servers[0].quorum.hysteresis: want 0..0: below quorum.min, which is 1 (1 when not set)`}},
	{"unknown scheduler", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    scheduler: fastest\n",
		[]string{`5:16: virtual_servers[0].scheduler: unknown scheduler "fastest"`}},
	{"duplicate service", "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80}\n  - {address: 10.0.0.1, port: 80}\n",
		[]string{`4:5: virtual_servers[1]: service tcp/10.0.0.1:80 is already declared at virtual_servers[0] (line 3)`}},
	{"duplicate via group", "version: 1\nvirtual_server_groups:\n  - name: g\n    members: [{address: 10.0.0.1-3, port: 80}]\nvirtual_servers:\n  - {group: g}\n  - {address: 10.0.0.2, port: 80}\n",
		[]string{`7:5: virtual_servers[1]: service tcp/10.0.0.2:80 is already declared`}},
	{"duplicate real server", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - {address: 10.1.0.1}\n      - {address: 10.1.0.1, port: 80}\n",
		[]string{`7:9: virtual_servers[0].real_servers[1]: real server 10.1.0.1:80 is already declared`}},
	{"IPv4-mapped address", "version: 1\naddresses:\n  - {address: '::ffff:10.0.0.1/120', interface: eth0}\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5, virtual_addresses: [{address: '::ffff:10.0.0.2/128'}]}\n",
		[]string{`3:15: addresses[0].address: ::ffff:10.0.0.1/120 is an IPv4-mapped IPv6 address; write the IPv4 address`, `5:84: vrrp_instances[0].virtual_addresses[0].address: ::ffff:10.0.0.2/128 is an IPv4-mapped IPv6 address`}},
	{"duplicate address", "version: 1\naddresses:\n  - {address: 10.0.0.1/24, interface: eth0}\n  - {address: 10.0.0.1/25, interface: eth0}\n",
		[]string{`4:15: addresses[1].address: 10.0.0.1 on eth0 is already declared`}},
	{"duplicate VRID", "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5}\n  - {name: B, interface: eth0, virtual_router_id: 5}\n",
		[]string{`4:51: vrrp_instances[1].virtual_router_id: VRID 5 on eth0 (IPv4) is already used`}},
	{"undefined script", "version: 1\nvrrp_instances:\n  - name: A\n    interface: eth0\n    virtual_router_id: 5\n    track_scripts: [{name: chk}]\n",
		[]string{`6:28: vrrp_instances[0].track_scripts[0].name: no script named "chk"`}},
	{"label not starting with interface", "version: 1\naddresses:\n  - {address: 10.0.0.1/24, interface: eth0, label: vip}\n",
		[]string{`3:52: addresses[0].label: "vip" must begin with the interface name "eth0"`}},
	{"check field of another type", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: tcp, urls: [{path: /}]}]\n",
		[]string{`7:36: virtual_servers[0].real_servers[0].checks[0].urls: urls is not a field of a tcp check`}},
	{"bad http_protocol", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: http_get, http_protocol: \"2\", urls: [{path: /}]}]\n",
		[]string{`7:50: virtual_servers[0].real_servers[0].checks[0].http_protocol: want one of 1.0 1.0C 1.1 (keepalived's), got "2"`}},
	{"bad status code", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: http_get, urls: [{path: /, status_codes: [\"299-200\"]}]}]\n",
		[]string{`7:67: virtual_servers[0].real_servers[0].checks[0].urls[0].status_codes[0]: range "299-200" ends below its start`}},
	{"sh flag on wrong scheduler", "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, scheduler: rr, scheduler_flags: [sh-port]}\n",
		[]string{`3:68: virtual_servers[0].scheduler_flags[0]: "sh-port" needs scheduler sh`}},
	{"v6 address needs v3", "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5, version: 2, virtual_addresses: [{address: '2001:db8::1/64'}]}\n",
		[]string{`3:63: vrrp_instances[0].version: IPv6 virtual addresses need VRRP version 3`}},
	{"all errors at once", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 0\n    bogus: 1\n    real_servers:\n      - {address: nope, weight: -3}\n",
		[]string{
			"4:11: virtual_servers[0].port: missing: port 0",
			`5:5: virtual_servers[0].bogus: unknown field "bogus"`,
			`7:19: virtual_servers[0].real_servers[0].address: want an IP address`,
			`7:33: virtual_servers[0].real_servers[0].weight: want 0..65535, got -3`,
		}},
	{"fwmark check needs a port", "version: 1\nvirtual_servers:\n  - fwmark: 1\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: tcp}]\n",
		[]string{`6:18: virtual_servers[0].real_servers[0].checks[0].connect_port: missing: the real server has no port`}},
	{"udp payload hex", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 53\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: udp, payload: zz}]\n",
		[]string{`7:39: virtual_servers[0].real_servers[0].checks[0].payload: want hex bytes`}},
	{"dns type", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 53\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: dns, dns_type: BOGUS}]\n",
		[]string{`7:40: virtual_servers[0].real_servers[0].checks[0].dns_type: want one of A AAAA`}},
	{"gue needs a port", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    forwarding: tun\n    real_servers:\n      - {address: 10.1.0.1, tunnel: {type: gue}}\n",
		[]string{`7:37: virtual_servers[0].real_servers[0].tunnel.port: missing: a gue tunnel needs the UDP port`}},
	{"sync daemon without instance", "version: 1\nglobal:\n  lvs_sync_daemon: {interface: eth1}\n",
		[]string{`global.lvs_sync_daemon.vrrp_instance: missing: the VRRP instance the daemon follows`}},
	{"sync daemon settings", "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5}\nglobal:\n  lvs_sync_daemon: {interface: eth1, vrrp_instance: A, sync_id: 256, ttl: 256, port: 70000, max_len: 70000, group: 10.0.0.1}\n",
		[]string{
			`global.lvs_sync_daemon.sync_id: want 0..255, got 256`,
			`global.lvs_sync_daemon.ttl: want 1..255, got 256`,
			`global.lvs_sync_daemon.port: want 1..65535, got 70000`,
			`global.lvs_sync_daemon.max_len: want 1..65507, got 70000`,
			`global.lvs_sync_daemon.group: 10.0.0.1 is not a multicast address`,
		}},
	{"yaml syntax", "version: 1\nvirtual_servers: [\n", []string{"YAML syntax"}},
	{"empty file", "", []string{"empty file"}},
	{"two documents", "version: 1\n---\nversion: 1\n", []string{"more than one YAML document"}},
}

// InvalidRoutes are broken routes: one mistake and exactly one error each.
var InvalidRoutes = []Broken{
	{"no destination", routes("- {via: 10.0.0.1}"), []string{"routes[0].to: missing: the destination network"}},
	{"host bits", routes("- {to: 10.1.2.3/16, via: 10.0.0.1}"), []string{"routes[0].to: 10.1.2.3/16 has host bits set: the network is 10.1.0.0/16"}},
	{"default", routes("- {to: default, via: 10.0.0.1}"), []string{`"default" has no address family here: write 0.0.0.0/0 or ::/0`}},
	{"no path", routes("- {to: 10.1.0.0/16}"), []string{"routes[0]: a unicast route needs `via`, `interface` or `nexthops`"}},
	{"unknown type", routes("- {to: 10.1.0.0/16, type: nat}"), []string{`routes[0].type: unknown route type "nat"; want one of unicast, blackhole`}},
	{"blackhole with a gateway", routes("- {to: 10.1.0.0/16, type: blackhole, via: 10.0.0.1}"), []string{"routes[0].via: a blackhole route has no via"}},
	{"mixed family gateway", routes("- {to: 10.1.0.0/16, via: '2001:db8::1'}"), []string{"routes[0].via: 2001:db8::1 is not of the route's family (IPv4)"}},
	{"mixed family source", routes("- {to: '2001:db8::/32', interface: eth0, src: 10.0.0.1}"), []string{"routes[0].src: 10.0.0.1 is not of the route's family (IPv6)"}},
	{"link-local gateway without device", routes("- {to: '::/0', via: 'fe80::1'}"), []string{"routes[0].interface: a link-local gateway (fe80::1) needs its interface"}},
	{"one nexthop", routes("- {to: 10.1.0.0/16, nexthops: [{via: 10.0.0.1}]}"), []string{"routes[0].nexthops: a multipath route needs at least two nexthops"}},
	{"nexthops and via", routes("- {to: 10.1.0.0/16, via: 10.0.0.1, nexthops: [{via: 10.0.0.1}, {via: 10.0.0.2}]}"), []string{"routes[0].nexthops: give either nexthops or via/interface/onlink, not both"}},
	{"nexthop weight", routes("- {to: 10.1.0.0/16, nexthops: [{via: 10.0.0.1, weight: 0}, {via: 10.0.0.2}]}"), []string{"routes[0].nexthops[0].weight: want 1..256, got 0"}},
	{"same nexthop twice", routes("- {to: 10.1.0.0/16, nexthops: [{via: 10.0.0.1}, {via: 10.0.0.1}]}"), []string{"routes[0].nexthops[1]: the same path twice"}},
	{"local table", routes("- {to: 10.1.0.0/16, via: 10.0.0.1, table: 255}"), []string{"routes[0].table: want 1..4294967295 except 255"}},
	{"scope of a gateway route", routes("- {to: 10.1.0.0/16, via: 10.0.0.1, scope: link}"), []string{"routes[0].scope: a route through a gateway needs scope global or site"}},
	{"IPv6 scope", routes("- {to: '2001:db8::/32', interface: eth0, scope: link}"), []string{"routes[0].scope: IPv6 routes have no scope"}},
	{"onlink without gateway", routes("- {to: 10.1.0.0/16, interface: eth0, onlink: true}"), []string{"routes[0].onlink: onlink needs a gateway"}},
	{"unspecified source", routes("- {to: '2001:db8::/32', interface: eth0, src: '::'}"), []string{"routes[0].src: :: cannot be a source"}},
	{"unspecified gateway", routes("- {to: 10.1.0.0/16, via: 0.0.0.0}"), []string{"routes[0].via: 0.0.0.0 cannot be a gateway"}},
	{"onlink without interface", routes("- {to: 10.1.0.0/16, via: 10.0.0.1, onlink: true}"), []string{"routes[0].interface: onlink needs the interface"}},
	{"virtual route with a static route's key", "version: 1\nroutes:\n  - {to: 10.1.0.0/16, via: 10.0.0.1}\nvrrp_instances:\n  - name: A\n    interface: eth0\n    virtual_router_id: 5\n    virtual_routes: [{to: 10.1.0.0/16, via: 10.0.0.2}]\n",
		[]string{"vrrp_instances[0].virtual_routes[0].to: route 10.1.0.0/16 is already declared at routes[0]"}},
	{"IPv6 device-only nexthops", routes("- {to: '2001:db8::/32', nexthops: [{interface: eth0, via: '2001:db8::1'}, {interface: eth1}]}"), []string{"routes[0].nexthops[1].via: an IPv6 nexthop needs a gateway"}},
	{"same key twice", routes("- {to: 10.1.0.0/16, via: 10.0.0.1}\n- {to: 10.1.0.0/16, interface: eth0, metric: 0}"), []string{"routes[1].to: route 10.1.0.0/16 is already declared at routes[0] (line 3)"}},
}

// routes makes a model of a routes: list written one route a line.
func routes(list string) string {
	var b strings.Builder
	b.WriteString("version: 1\nroutes:\n")
	for _, l := range strings.Split(list, "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

package model

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbx-dev/lbx/state"
)

// TestCompileHealth: which real servers (and whether the sorry server) a
// watch compile puts in IPVS, from the health held. Health is keyed by
// last octet: 11 and 12 have checks, 13 has none.
func TestCompileHealth(t *testing.T) {
	const head = `version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
`
	const reals = `    real_servers:
      - {address: 10.1.0.11, checks: [{type: tcp}]}
      - {address: 10.1.0.12, weight: 2, checks: [{type: tcp}]}
      - {address: 10.1.0.13}
`
	up, down := Health{Up: true}, Health{}
	for _, tc := range []struct {
		name   string
		extra  string // service fields between head and reals
		reals  string // replaces the three real servers when set
		health map[byte]Health
		want   []string // real servers in IPVS, by address
	}{
		{"no reports: all up", "", "", nil, []string{"10.1.0.11", "10.1.0.12", "10.1.0.13"}},
		{"checked ones down", "", "", map[byte]Health{11: down, 12: down}, []string{"10.1.0.13"}},
		// alpha starts checked servers down (the runner reports them so);
		// a server without checks has no failed checker: it stays in.
		{"alpha, nothing reported", "    alpha: true\n", "", nil, []string{"10.1.0.13"}},
		{"alpha, one reported up", "    alpha: true\n", "", map[byte]Health{11: up}, []string{"10.1.0.11", "10.1.0.13"}},
		{"alpha, all checked, none reported: sorry server", "    alpha: true\n",
			"    real_servers:\n      - {address: 10.1.0.11, checks: [{type: tcp}]}\n", nil, []string{"10.9.0.1"}},
		// A quorum block without min has keepalived's quorum of 1: with
		// nothing up the sorry server comes in.
		{"quorum without min, all down", "    quorum: {down_script: /bin/true}\n",
			"    real_servers:\n      - {address: 10.1.0.11, checks: [{type: tcp}]}\n", map[byte]Health{11: down}, []string{"10.9.0.1"}},
		// keepalived: the sorry server in, the servers still alive out
		// (inhibited ones at weight 0); without a sorry server they stay.
		{"quorum 3 not met by weight 1", "    quorum: {min: 3}\n", "", map[byte]Health{11: down, 12: down}, []string{"10.9.0.1"}},
		{"quorum 3 not met, inhibit", "    quorum: {min: 3}\n    inhibit_on_failure: true\n", "", map[byte]Health{11: down, 12: down},
			[]string{"10.1.0.11 w0", "10.1.0.12 w0", "10.1.0.13 w0", "10.9.0.1"}},
		{"quorum 3 met by weight 2+1", "    quorum: {min: 3}\n", "", map[byte]Health{11: down, 12: up}, []string{"10.1.0.12", "10.1.0.13"}},
		{"quorum 3 met", "    quorum: {min: 3}\n", "", map[byte]Health{11: up, 12: up}, []string{"10.1.0.11", "10.1.0.12", "10.1.0.13"}},
		// sorry_server_inhibit: not needed, it stays at weight 0.
		{"sorry server inhibit, not needed", "    sorry_server: {address: 10.9.0.1, inhibit: true}\n", "", nil, []string{"10.1.0.11", "10.1.0.12", "10.1.0.13", "10.9.0.1 w0"}},
		{"sorry server inhibit, needed", "    sorry_server: {address: 10.9.0.1, inhibit: true}\n",
			"    real_servers:\n      - {address: 10.1.0.11, checks: [{type: tcp}]}\n", map[byte]Health{11: down}, []string{"10.9.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := reals
			if tc.reals != "" {
				rs = tc.reals
			}
			extra := tc.extra
			if !strings.Contains(extra, "sorry_server") {
				extra += "    sorry_server: {address: 10.9.0.1}\n"
			}
			m, err := Parse([]byte(head+extra+rs), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			key := m.ServiceKeys(m.VirtualServers[0])[0]
			f := Facts{Health: map[RealID]Health{}}
			for _, r := range m.VirtualServers[0].RealServers {
				if h, ok := tc.health[r.Address.Addr.As4()[3]]; ok {
					f.Health[RealID{Service: key, Real: state.RealKey{Addr: r.Address.Addr, Port: 80}}] = h
				}
			}
			var got []string
			for rk, r := range Compile(m, f).State.Services[key].Reals {
				a := rk.Addr.String()
				if r.Weight == 0 {
					a += " w0"
				}
				got = append(got, a)
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("real servers in IPVS (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileSyncDaemons(t *testing.T) {
	base := "version: 1\nvrrp_instances:\n  - {name: VI_1, interface: eth0, virtual_router_id: 51}\n  - {name: VI_2, interface: eth0, virtual_router_id: 52}\n"
	backup := state.SyncDaemon{Role: state.SyncBackup, Interface: "sy0", SyncID: 51}
	master := backup
	master.Role = state.SyncMaster
	tuned := state.SyncDaemon{Role: state.SyncMaster, Interface: "sy0", SyncID: 0, MaxLen: 1000, Group: netip.MustParseAddr("239.1.1.1"), Port: 9000, TTL: 3}
	for _, tc := range []struct {
		name   string
		global string
		vrrp   map[string]string
		want   []state.SyncDaemon
	}{
		{"no lvs_sync_daemon", "", map[string]string{"VI_1": "MASTER"}, nil},
		{"VRRP elsewhere (plan, apply)", "{interface: sy0, vrrp_instance: VI_1}", nil, nil},
		{"before the first state: backup", "{interface: sy0, vrrp_instance: VI_1}", map[string]string{}, []state.SyncDaemon{backup}},
		{"BACKUP", "{interface: sy0, vrrp_instance: VI_1}", map[string]string{"VI_1": "BACKUP", "VI_2": "MASTER"}, []state.SyncDaemon{backup}},
		{"FAULT", "{interface: sy0, vrrp_instance: VI_1}", map[string]string{"VI_1": "FAULT"}, []state.SyncDaemon{backup}},
		{"stopped: none", "{interface: sy0, vrrp_instance: VI_1}", map[string]string{"VI_1": "STOP"}, nil},
		{"MASTER: the sync id defaults to the VRID", "{interface: sy0, vrrp_instance: VI_1}", map[string]string{"VI_1": "MASTER"}, []state.SyncDaemon{master}},
		{"every setting, sync id 0 given", "{interface: sy0, vrrp_instance: VI_2, sync_id: 0, max_len: 1000, port: 9000, ttl: 3, group: 239.1.1.1}",
			map[string]string{"VI_2": "MASTER"}, []state.SyncDaemon{tuned}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := base
			if tc.global != "" {
				y += "global:\n  lvs_sync_daemon: " + tc.global + "\n"
			}
			m, err := Parse([]byte(y), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			got := CompileSyncDaemons(m, Facts{VRRP: tc.vrrp})
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestCompileGroupEntryPorts: the IPVS destinations of a group's real
// and sorry servers. keepalived's ipvs_group_cmd gives a DR or TUN server
// the port of each address entry's service and 0 in a fwmark entry's; a
// NAT server keeps its own port (the service's when it has none).
func TestCompileGroupEntryPorts(t *testing.T) {
	const group = `version: 1
virtual_server_groups:
  - name: G
    members:
      - {address: 10.0.0.1, port: 80}
      - {address: 10.0.0.2, port: 443}
      - {fwmark: 7}
virtual_servers:
  - group: G
`
	for _, tc := range []struct {
		name string
		vs   string   // the virtual server's fields after group
		want []string // service -> destination, sorted
	}{
		{"DR real server: each entry's port, 0 for the fwmark",
			"    forwarding: dr\n    real_servers:\n      - {address: 10.1.0.1, port: 8080}\n",
			[]string{"fwm 7 -> 10.1.0.1:0", "tcp 10.0.0.1:80 -> 10.1.0.1:80", "tcp 10.0.0.2:443 -> 10.1.0.1:443"}},
		{"TUN real server without a port",
			"    forwarding: tun\n    real_servers:\n      - {address: 10.1.0.1}\n",
			[]string{"fwm 7 -> 10.1.0.1:0", "tcp 10.0.0.1:80 -> 10.1.0.1:80", "tcp 10.0.0.2:443 -> 10.1.0.1:443"}},
		{"NAT real server keeps its port",
			"    forwarding: nat\n    real_servers:\n      - {address: 10.1.0.1, port: 8080}\n",
			[]string{"fwm 7 -> 10.1.0.1:8080", "tcp 10.0.0.1:80 -> 10.1.0.1:8080", "tcp 10.0.0.2:443 -> 10.1.0.1:8080"}},
		{"a DR server of a NAT service",
			"    forwarding: nat\n    real_servers:\n      - {address: 10.1.0.1, port: 8080, forwarding: dr}\n",
			[]string{"fwm 7 -> 10.1.0.1:0", "tcp 10.0.0.1:80 -> 10.1.0.1:80", "tcp 10.0.0.2:443 -> 10.1.0.1:443"}},
		{"DR sorry server, inhibited (in at weight 0 under watch)",
			"    forwarding: dr\n    sorry_server: {address: 10.9.0.1, port: 8080, inhibit: true}\n    real_servers:\n      - {address: 10.1.0.1, port: 8080}\n",
			[]string{"fwm 7 -> 10.1.0.1:0", "fwm 7 -> 10.9.0.1:0", "tcp 10.0.0.1:80 -> 10.1.0.1:80", "tcp 10.0.0.1:80 -> 10.9.0.1:80",
				"tcp 10.0.0.2:443 -> 10.1.0.1:443", "tcp 10.0.0.2:443 -> 10.9.0.1:443"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(group+tc.vs), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			d := Compile(m, Facts{Health: map[RealID]Health{}})
			var got []string
			for sk, svc := range d.State.Services {
				s := "fwm " + strconv.Itoa(int(sk.FWMark))
				if sk.FWMark == 0 {
					s = string(sk.Protocol) + " " + netip.AddrPortFrom(sk.Addr, sk.Port).String()
				}
				for rk := range svc.Reals {
					got = append(got, s+" -> "+netip.AddrPortFrom(rk.Addr, rk.Port).String())
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("IPVS destinations (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGroupFamily: the family of a group's fwmark services is the
// member's own, else the virtual server's, else IPv4 (keepalived's
// ipvs_group_cmd); an address has its own.
func TestGroupFamily(t *testing.T) {
	const head = `version: 1
virtual_server_groups:
  - name: G
    members:
      - {address: 2001:db8::1, port: 80}
`
	for _, tc := range []struct {
		name   string
		fwmark string // the fwmark member
		vs     string
		want   []string // services, sorted
		err    string
	}{
		{"family 6: the fwmark entry is IPv6", "{fwmark: 10}", "{group: G, family: 6, real_servers: [{address: 2001:db8:1::1}]}",
			[]string{"fwm 10 IPv6", "tcp [2001:db8::1]:80"}, ""},
		{"no family: IPv4", "{fwmark: 10}", "{group: G, real_servers: [{address: 2001:db8:1::1, forwarding: tun}]}",
			[]string{"fwm 10 IPv4", "tcp [2001:db8::1]:80"}, ""},
		{"a member's own family wins", "{fwmark: 10, family: 4}", "{group: G, family: 6, real_servers: [{address: 2001:db8:1::1, forwarding: tun}]}",
			[]string{"fwm 10 IPv4", "tcp [2001:db8::1]:80"}, ""},
		{"a member's family 6", "{fwmark: 10, family: 6}", "{group: G, real_servers: [{address: 2001:db8:1::1}]}",
			[]string{"fwm 10 IPv6", "tcp [2001:db8::1]:80"}, ""},
		{"a family on an address member", "{address: 2001:db8::2, port: 80, family: 6}", "{group: G, real_servers: [{address: 2001:db8:1::1}]}",
			nil, "members[1].family: family is only for a fwmark member"},
		{"a member's family 5", "{fwmark: 10, family: 5}", "{group: G, real_servers: [{address: 2001:db8:1::1}]}",
			nil, "members[1].family: want 4 or 6, got 5"},
		{"an address service has its own", "{fwmark: 10}", "{address: 10.0.0.1, port: 80, family: 4, real_servers: [{address: 10.0.1.1}]}",
			nil, "family is only for fwmark services and groups"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := head + "      - " + tc.fwmark + "\nvirtual_servers:\n  - " + tc.vs + "\n"
			m, err := Parse([]byte(y), "m.yaml")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range m.ServiceKeys(m.VirtualServers[0]) {
				if k.FWMark != 0 {
					got = append(got, "fwm "+strconv.Itoa(int(k.FWMark))+" IPv"+strconv.Itoa(int(k.Family)))
				} else {
					got = append(got, string(k.Protocol)+" "+netip.AddrPortFrom(k.Addr, k.Port).String())
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
		})
	}
}

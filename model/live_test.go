package model

import (
	"sort"
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

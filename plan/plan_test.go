package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

const base = `version: 1
addresses:
  - {address: 192.0.2.10/24, interface: eth0, label: eth0:vip}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    scheduler: wlc
    drain_timeout: 30s
    real_servers:
      - {address: 10.1.0.1, weight: 1}
      - {address: 10.1.0.2, weight: 2}
`

var svcKey = state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Family: state.IPv4}

func actions(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, symbols[c.Action]+" "+c.Address)
	}
	return out
}

func TestDiff(t *testing.T) {
	full := testkit.Desired(t, base).State
	stranger := state.ServiceKey{Protocol: state.UDP, Addr: netip.MustParseAddr("10.9.9.9"), Port: 53, Family: state.IPv4}
	cases := []struct {
		name  string
		live  func() *state.State
		model string
		opts  Options
		want  []string
	}{
		{"create from empty", state.New, base, Options{}, []string{
			"+ service.tcp/10.0.0.1:80", "+ real.tcp/10.0.0.1:80/10.1.0.1:80", "+ real.tcp/10.0.0.1:80/10.1.0.2:80", "+ address.eth0/192.0.2.10"}},
		{"no-op", full.Clone, base, Options{}, nil},
		{"weight update in place", full.Clone, strings.Replace(base, "weight: 2", "weight: 5", 1), Options{}, []string{"~ real.tcp/10.0.0.1:80/10.1.0.2:80"}},
		{"scheduler update in place", full.Clone, strings.Replace(base, "scheduler: wlc", "scheduler: rr", 1), Options{}, []string{"~ service.tcp/10.0.0.1:80"}},
		{"prefix change replaces address", full.Clone, strings.Replace(base, "/24", "/25", 1), Options{}, []string{"-/+ address.eth0/192.0.2.10"}},
		{"label change replaces address", full.Clone, strings.Replace(base, "eth0:vip", "eth0:web", 1), Options{}, []string{"-/+ address.eth0/192.0.2.10"}},
		{"removed real server is drained", full.Clone, strings.Replace(base, "      - {address: 10.1.0.2, weight: 2}\n", "", 1), Options{}, []string{"- real.tcp/10.0.0.1:80/10.1.0.2:80"}},
		{"stranger real server inside a managed service is drift", func() *state.State {
			s := full.Clone()
			rk := state.RealKey{Addr: netip.MustParseAddr("10.1.0.99"), Port: 80}
			s.Services[svcKey].Reals[rk] = state.Real{Key: rk, Weight: 1, Forwarding: state.NAT}
			return s
		}, base, Options{}, []string{"- real.tcp/10.0.0.1:80/10.1.0.99:80"}},
		{"unmanaged service left alone", func() *state.State {
			s := full.Clone()
			s.Services[stranger] = &state.Service{Key: stranger, Scheduler: "rr", NetmaskBits: 32, Reals: map[state.RealKey]state.Real{}}
			return s
		}, base, Options{}, nil},
		{"unmanaged service pruned", func() *state.State {
			s := full.Clone()
			s.Services[stranger] = &state.Service{Key: stranger, Scheduler: "rr", NetmaskBits: 32, Reals: map[state.RealKey]state.Real{}}
			return s
		}, base, Options{Prune: true}, []string{"- service.udp/10.9.9.9:53"}},
		{"owned service removed from model is deleted, reals first", full.Clone, "version: 1\naddresses:\n  - {address: 192.0.2.10/24, interface: eth0, label: eth0:vip}\n",
			Options{Owned: Owned{Services: map[state.ServiceKey]bool{svcKey: true}}}, []string{"- service.tcp/10.0.0.1:80"}},
		{"owned address removed from model is deleted first", full.Clone, strings.Replace(base, "addresses:\n  - {address: 192.0.2.10/24, interface: eth0, label: eth0:vip}\n", "", 1),
			Options{Owned: Owned{Addresses: map[state.AddressKey]bool{{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.10")}: true}}}, []string{"- address.eth0/192.0.2.10"}},
		{"undeclared unowned address left alone", func() *state.State {
			s := full.Clone()
			k := state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.1")}
			s.Addresses[k] = state.Address{Key: k, Bits: 24, Scope: "global"}
			return s
		}, base, Options{Prune: true}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Diff(testkit.Desired(t, tc.model), tc.live(), tc.opts)
			got := actions(p)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestDrainAndFields(t *testing.T) {
	full := testkit.Desired(t, base).State
	p := Diff(testkit.Desired(t, strings.Replace(base, "      - {address: 10.1.0.2, weight: 2}\n", "", 1)), full, Options{})
	if len(p.Changes) != 1 || p.Changes[0].DrainSeconds != 30 {
		t.Fatalf("want one drained delete of 30s, got %+v", p.Changes)
	}
	p = Diff(testkit.Desired(t, strings.Replace(base, "weight: 2", "weight: 5", 1)), full, Options{})
	if f := p.Changes[0].Fields; len(f) != 1 || f[0] != "weight" {
		t.Errorf("fields = %v, want [weight]", f)
	}
	// A real server of the model that a failed check takes out is deleted
	// at once (keepalived's DEL_DEST): drained, a dead server would stay
	// in IPVS and hold lbx watch's one writer for the drain timeout.
	down := model.RealID{Service: svcKey, Real: state.RealKey{Addr: netip.MustParseAddr("10.1.0.2"), Port: 80}}
	p = Diff(model.Compile(testkit.Model(t, base), model.Facts{Health: map[model.RealID]model.Health{down: {Up: false}}}), full, Options{})
	if len(p.Changes) != 1 || p.Changes[0].Action != Delete || p.Changes[0].DrainSeconds != 0 {
		t.Errorf("health-down real server: want one delete without drain, got %+v", p.Changes)
	}
	// UDP services are never drained: there is no connection end to wait for.
	udp := strings.Replace(base, "    port: 80\n", "    port: 80\n    protocol: udp\n", 1)
	live := testkit.Desired(t, udp).State
	p = Diff(testkit.Desired(t, strings.Replace(udp, "      - {address: 10.1.0.2, weight: 2}\n", "", 1)), live, Options{})
	if p.Changes[0].DrainSeconds != 0 {
		t.Errorf("UDP real server drained for %ds, want 0", p.Changes[0].DrainSeconds)
	}
}

func TestOrder(t *testing.T) {
	old := testkit.Desired(t, base).State
	// New model: a different service and address; the old ones are owned.
	newModel := "version: 1\naddresses:\n  - {address: 192.0.2.20/24, interface: eth0}\nvirtual_servers:\n  - address: 10.0.0.2\n    port: 80\n    real_servers: [{address: 10.1.0.1}]\n"
	p := Diff(testkit.Desired(t, newModel), old, Options{Owned: Owned{
		Services:  map[state.ServiceKey]bool{svcKey: true},
		Addresses: map[state.AddressKey]bool{{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.10")}: true},
	}})
	want := []string{
		"- address.eth0/192.0.2.10",
		"- service.tcp/10.0.0.1:80",
		"+ service.tcp/10.0.0.2:80",
		"+ real.tcp/10.0.0.2:80/10.1.0.1:80",
		"+ address.eth0/192.0.2.20",
	}
	if got := actions(p); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("order:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestFingerprint(t *testing.T) {
	live := testkit.Desired(t, base).State
	d := testkit.Desired(t, base)
	p1 := Diff(d, live, Options{})
	p2 := Diff(d, live.Clone(), Options{})
	if p1.Fingerprint != p2.Fingerprint {
		t.Fatal("fingerprint not stable across identical states")
	}
	empty := Diff(d, state.New(), Options{})
	if empty.Fingerprint == "" || empty.Fingerprint == p1.Fingerprint {
		t.Fatal("an empty live state must still have its own fingerprint")
	}
	// Counters do not change the fingerprint; a weight does.
	c := live.Clone()
	for rk, r := range c.Services[svcKey].Reals {
		r.Counters.ActiveConns = 7
		c.Services[svcKey].Reals[rk] = r
	}
	if Fingerprint(c, p1.Scope) != p1.Fingerprint {
		t.Error("counters changed the fingerprint")
	}
	rk := state.RealKey{Addr: netip.MustParseAddr("10.1.0.1"), Port: 80}
	r := c.Services[svcKey].Reals[rk]
	r.Weight = 9
	c.Services[svcKey].Reals[rk] = r
	if Fingerprint(c, p1.Scope) == p1.Fingerprint {
		t.Error("a weight change behind the plan's back did not change the fingerprint")
	}
	// Out-of-scope objects do not matter; with prune, new services do.
	stranger := state.ServiceKey{Protocol: state.UDP, Addr: netip.MustParseAddr("10.9.9.9"), Port: 53, Family: state.IPv4}
	c2 := live.Clone()
	c2.Services[stranger] = &state.Service{Key: stranger, Scheduler: "rr"}
	if Fingerprint(c2, p1.Scope) != p1.Fingerprint {
		t.Error("an unmanaged service changed the fingerprint without prune")
	}
	pp := Diff(d, live, Options{Prune: true})
	if Fingerprint(c2, pp.Scope) == pp.Fingerprint {
		t.Error("with prune, a new service must make the plan stale")
	}
}

func TestRender(t *testing.T) {
	full := testkit.Desired(t, base).State
	p := Diff(testkit.Desired(t, strings.Replace(strings.Replace(base, "weight: 2", "weight: 5", 1), "/24", "/25", 1)), full, Options{})
	var b bytes.Buffer
	WriteText(&b, p, false)
	out := b.String()
	for _, want := range []string{
		"   ~ real.tcp/10.0.0.1:80/10.1.0.2:80  weight: 2 -> 5",
		" -/+ address.eth0/192.0.2.10  prefix_length: 24 -> 25  (the kernel keys an address by its prefix length",
		"Plan: 1 to add, 1 to change, 1 to destroy.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text plan lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	WriteJSON(&b, p)
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["format_version"] != FormatVersion {
		t.Errorf("format_version = %v", doc["format_version"])
	}
	rc := doc["resource_changes"].([]any)
	if len(rc) != 2 {
		t.Fatalf("want 2 resource_changes, got %d", len(rc))
	}
	first := rc[0].(map[string]any)
	acts := first["change"].(map[string]any)["actions"].([]any)
	if first["address"] != "real.tcp/10.0.0.1:80/10.1.0.2:80" || len(acts) != 1 || acts[0] != "update" {
		t.Errorf("first change = %v", first)
	}
	second := rc[1].(map[string]any)["change"].(map[string]any)
	if a := second["actions"].([]any); len(a) != 2 || a[0] != "delete" || a[1] != "create" {
		t.Errorf("replace actions = %v, want [delete create] (Terraform's shape)", a)
	}
	b.Reset()
	WriteText(&b, Diff(testkit.Desired(t, base), full, Options{}), false)
	if !strings.Contains(b.String(), "No changes.") {
		t.Errorf("empty plan text: %q", b.String())
	}
}

func TestVRRPAddressesLeftToWatch(t *testing.T) {
	y := "version: 1\nvrrp_instances:\n  - name: VI_1\n    interface: eth0\n    virtual_router_id: 7\n    virtual_addresses: [{address: 192.0.2.50/24}]\n"
	live := state.New()
	k := state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.50")}
	live.Addresses[k] = state.Address{Key: k, Bits: 24, Scope: "global"}
	// Even if an earlier watch recorded the address as lbx's, one-shot
	// plan must not touch it.
	p := Diff(testkit.Desired(t, y), live, Options{Owned: Owned{Addresses: map[state.AddressKey]bool{k: true}}})
	if !p.Empty() {
		t.Errorf("plan touches VRRP addresses: %v", actions(p))
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "VI_1") {
		t.Errorf("notes = %v", p.Notes)
	}
}

// BenchmarkDiffNoop: a no-op plan of 2,000 services x 5 real servers, the
// shape of make bench.
func BenchmarkDiffNoop(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("version: 1\nvirtual_servers:\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&sb, "  - {address: 10.%d.%d.1, port: 80, real_servers: [", (i>>8)&255, i&255)
		for j := 0; j < 5; j++ {
			fmt.Fprintf(&sb, "{address: 192.168.%d.%d, port: 8080}, ", i%250, j+10)
		}
		sb.WriteString("]}\n")
	}
	d := testkit.Desired(b, sb.String())
	live := d.State.Clone()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if p := Diff(d, live, Options{}); !p.Empty() {
			b.Fatal("not a no-op")
		}
	}
}

// An unstamped plan (lbx watch's reconciles) has the same changes, scope
// and notes, and no fingerprint.
func TestUnstamped(t *testing.T) {
	d := testkit.Desired(t, base)
	live := state.New()
	stamped := Diff(d, live, Options{})
	got := Diff(d, live, Options{Unstamped: true})
	if got.Fingerprint != "" {
		t.Errorf("unstamped plan has fingerprint %q", got.Fingerprint)
	}
	got.Fingerprint = stamped.Fingerprint
	if diff := cmp.Diff(stamped, got, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
		t.Errorf("unstamped plan differs beyond its fingerprint (-stamped +unstamped):\n%s", diff)
	}
}

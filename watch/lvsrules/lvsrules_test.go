package lvsrules

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/lbx-dev/lbx/metrics"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// parse reads a model from YAML or fails the test.
func parse(t *testing.T, y string) *model.Model {
	t.Helper()
	m, err := model.Parse([]byte("version: 1\n"+y), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// id is real server addr:port of the TCP service vip:port.
func id(vip string, port uint16, addr string) model.RealID {
	return model.RealID{Service: service(vip, port), Real: state.RealKey{Addr: netip.MustParseAddr(addr), Port: port}}
}

func service(vip string, port uint16) state.ServiceKey {
	return state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr(vip), Port: port, Family: state.IPv4}
}

// health is real servers of 10.0.0.1:80 up (true) or down, by address.
func health(h map[string]bool) Health {
	out := Health{}
	for a, up := range h {
		out[id("10.0.0.1", 80, a)] = model.Health{Up: up}
	}
	return out
}

// cmds are the command lines of scripts.
func cmds(scripts []Script) []string {
	var out []string
	for _, s := range scripts {
		out = append(out, s.Cmd)
	}
	return out
}

func TestStep(t *testing.T) {
	cases := []struct {
		lost                 bool
		weight, quorum, hyst int
		want                 bool
	}{
		{false, 3, 3, 0, false}, // at quorum: kept
		{false, 2, 3, 0, true},  // below: lost
		{false, 2, 3, 1, false}, // within hysteresis: kept
		{false, 1, 3, 1, true},  // below quorum-hysteresis: lost
		{true, 3, 3, 1, true},   // lost, needs quorum+hysteresis to come back
		{true, 4, 3, 1, false},  // back
		{true, 0, 0, 0, false},  // quorum 0 never lost
	}
	for _, c := range cases {
		if got := Step(c.lost, c.weight, c.quorum, c.hyst); got != c.want {
			t.Errorf("Step(lost=%v, w=%d, q=%d, h=%d) = %v, want %v", c.lost, c.weight, c.quorum, c.hyst, got, c.want)
		}
	}
}

// quorumVS is one virtual server 10.0.0.1:80 with weights 2 and 3 and the
// given extra lines.
func quorumVS(extra string) string {
	return `virtual_servers:
  - address: 10.0.0.1
    port: 80
    ` + extra + `
    real_servers:
      - {address: 10.1.0.1, weight: 2, checks: [{type: tcp}]}
      - {address: 10.1.0.2, weight: 3, checks: [{type: tcp}]}
`
}

func TestQuorum(t *testing.T) {
	svc := service("10.0.0.1", 80)
	const hyst = "quorum: {min: 3, hysteresis: 1, up_script: up, down_script: down}"
	for _, tc := range []struct {
		name    string
		vs      string
		health  map[string]bool
		prev    QuorumLost // nil: first sight
		scripts []string
		lost    bool
		logged  bool
	}{
		{"first sight, held: up_script (not logged)", "quorum: {up_script: up, down_script: down}", map[string]bool{"10.1.0.1": true, "10.1.0.2": true}, nil, []string{"up"}, false, false},
		{"first sight, alpha, sorry server: down_script", "alpha: true\n    sorry_server: {address: 10.9.0.1}\n    quorum: {up_script: up, down_script: down}", nil, nil, []string{"down"}, true, true},
		{"first sight, below quorum+hysteresis, sorry: down_script", "sorry_server: {address: 10.9.0.1}\n    " + hyst, map[string]bool{"10.1.0.1": false, "10.1.0.2": true}, nil, []string{"down"}, true, true},
		{"first sight, lost, no sorry server: nothing", "quorum: {min: 4, up_script: up, down_script: down}", map[string]bool{"10.1.0.1": true, "10.1.0.2": false}, nil, nil, true, false},
		{"held, within hysteresis: kept", hyst, map[string]bool{"10.1.0.1": true, "10.1.0.2": false}, QuorumLost{svc: false}, nil, false, false},
		{"held, below quorum-hysteresis: lost", hyst, map[string]bool{"10.1.0.1": false, "10.1.0.2": false}, QuorumLost{svc: false}, []string{"down"}, true, true},
		{"lost, below quorum+hysteresis: still lost", hyst, map[string]bool{"10.1.0.1": false, "10.1.0.2": true}, QuorumLost{svc: true}, nil, true, false},
		{"lost, at quorum+hysteresis: regained", hyst, map[string]bool{"10.1.0.1": true, "10.1.0.2": true}, QuorumLost{svc: true}, []string{"up"}, false, true},
		{"no quorum section: keepalived's 1, no script", "", map[string]bool{"10.1.0.1": false, "10.1.0.2": false}, QuorumLost{svc: false}, nil, true, true},
		{"at min exactly (2+3 = 5): held", "quorum: {min: 5, down_script: down}", map[string]bool{"10.1.0.1": true, "10.1.0.2": true}, QuorumLost{svc: false}, nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := parse(t, quorumVS(tc.vs))
			h := health(tc.health)
			next, scripts, changes := Quorum(m, h, tc.prev)
			if !slices.Equal(cmds(scripts), tc.scripts) || next[svc] != tc.lost || (len(changes) > 0) != tc.logged {
				t.Errorf("scripts %q, lost %v, changes %+v; want %q, %v, logged %v", cmds(scripts), next[svc], changes, tc.scripts, tc.lost, tc.logged)
			}
			// The same facts again decide nothing new.
			if again, scripts, changes := Quorum(m, h, next); again[svc] != next[svc] || len(scripts)+len(changes) != 0 {
				t.Errorf("again: lost %v, scripts %q, changes %+v", again[svc], cmds(scripts), changes)
			}
		})
	}
}

func TestQuorumGroupOnceAndForgotten(t *testing.T) {
	m := parse(t, `virtual_server_groups:
  - {name: g, members: [{address: 10.0.0.2, port: 80}, {address: 10.0.0.3, port: 80}]}
virtual_servers:
  - group: g
    quorum: {down_script: down, up_script: up}
    real_servers: [{address: 10.1.0.4, port: 80}]
`)
	a, b := id("10.0.0.2", 80, "10.1.0.4"), id("10.0.0.3", 80, "10.1.0.4")
	gone := service("10.9.9.9", 80)
	prev := QuorumLost{a.Service: false, b.Service: false, gone: true}
	next, scripts, changes := Quorum(m, Health{a: {Up: false}, b: {Up: false}}, prev)
	if !slices.Equal(cmds(scripts), []string{"down"}) || len(changes) != 2 || !next[a.Service] || !next[b.Service] {
		t.Errorf("down: scripts %q, changes %+v, lost %v", cmds(scripts), changes, next)
	}
	if _, ok := next[gone]; ok {
		t.Errorf("a service no longer in the model is kept: %v", next)
	}
	if _, scripts, _ := Quorum(m, Health{a: {Up: true}, b: {Up: true}}, next); !slices.Equal(cmds(scripts), []string{"up"}) {
		t.Errorf("up: scripts %q, want one up", cmds(scripts))
	}
}

func TestNotifyScripts(t *testing.T) {
	m := parse(t, `virtual_servers:
  - address: 10.0.0.1
    port: 80
    real_servers:
      - {address: 10.1.0.1, notify_up: up1, notify_down: down1, checks: [{type: tcp}]}
      - {address: 10.1.0.2, notify_down: down2, checks: [{type: tcp}]}
`)
	r1, r2 := id("10.0.0.1", 80, "10.1.0.1"), id("10.0.0.1", 80, "10.1.0.2")
	w := 7
	for _, tc := range []struct {
		name   string
		before Health
		ts     []Transition
		want   []Script
	}{
		{"down", Health{r1: {Up: true}}, []Transition{{r1, model.Health{}}}, []Script{{metrics.ScriptNotifyDown, "down1"}}},
		{"up", Health{r1: {}}, []Transition{{r1, model.Health{Up: true}}}, []Script{{metrics.ScriptNotifyUp, "up1"}}},
		{"unknown counts as up (no alpha): down", nil, []Transition{{r2, model.Health{}}}, []Script{{metrics.ScriptNotifyDown, "down2"}}},
		{"no notify_up set", Health{r2: {}}, []Transition{{r2, model.Health{Up: true}}}, nil},
		{"a weight change is no transition", Health{r1: {Up: true}}, []Transition{{r1, model.Health{Up: true, Weight: &w}}}, nil},
		{"once per real server", Health{r1: {Up: true}}, []Transition{{r1, model.Health{}}, {r1, model.Health{}}}, []Script{{metrics.ScriptNotifyDown, "down1"}}},
		{"not of the model", nil, []Transition{{id("10.0.0.9", 80, "10.1.0.1"), model.Health{}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NotifyScripts(m, tc.before, tc.ts); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// removalModel has A (10.0.0.1:80, quorum 2, real servers .1 .2 .3) and,
// withB, the group B; without lists A's real servers left out.
func removalModel(without []string, withB bool) string {
	y := `virtual_server_groups:
  - {name: g, members: [{address: 10.0.0.2, port: 80}, {address: 10.0.0.3, port: 80}]}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    omega: true
    quorum: {min: 2, down_script: A-quorum_down}
    real_servers:
`
	for _, r := range []string{"10.1.0.1", "10.1.0.2", "10.1.0.3"} {
		if !slices.Contains(without, r) {
			y += "      - {address: " + r + ", notify_down: A-" + r + "-down}\n"
		}
	}
	if withB {
		y += "  - group: g\n    quorum: {down_script: B-quorum_down}\n    real_servers: [{address: 10.1.0.4, notify_down: B-10.1.0.4-down}]\n"
	}
	return y
}

func TestReloadScripts(t *testing.T) {
	old := parse(t, removalModel(nil, true))
	h := health(map[string]bool{"10.1.0.1": true, "10.1.0.2": true, "10.1.0.3": false})
	lost, _, _ := Quorum(old, h, nil)
	for _, tc := range []struct {
		name string
		next string
		want []string
	}{
		{"nothing removed", removalModel(nil, true), nil},
		{"a down real server removed", removalModel([]string{"10.1.0.3"}, true), nil},
		{"an up real server removed: its notify_down (quorum is Quorum's)", removalModel([]string{"10.1.0.2"}, true), []string{"A-10.1.0.2-down"}},
		{"the group removed: its quorum_down and notify_down", removalModel(nil, false), []string{"B-quorum_down", "B-10.1.0.4-down"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cmds(ReloadScripts(old, parse(t, tc.next), h, lost)); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOmegaScripts(t *testing.T) {
	m := parse(t, removalModel(nil, true))
	svc := service("10.0.0.1", 80)
	for _, tc := range []struct {
		name   string
		health map[string]bool
		lost   bool
		want   []string
	}{
		{"quorum held: quorum_down and the up servers' notify_down", map[string]bool{"10.1.0.1": true, "10.1.0.2": true, "10.1.0.3": false}, false, []string{"A-quorum_down", "A-10.1.0.1-down", "A-10.1.0.2-down"}},
		{"quorum lost: the up servers' notify_down only", map[string]bool{"10.1.0.1": true, "10.1.0.2": false, "10.1.0.3": false}, true, []string{"A-10.1.0.1-down"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// B has no omega: nothing of it runs.
			if got := cmds(OmegaScripts(m, health(tc.health), QuorumLost{svc: tc.lost})); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSuspendedReals(t *testing.T) {
	m := parse(t, `vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 10.0.0.1/24}]}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    ha_suspend: true
    real_servers: [{address: 10.1.0.1, checks: [{type: tcp}]}]
  - address: 10.0.0.2
    port: 80
    ha_suspend: true
    real_servers: [{address: 10.1.0.2, checks: [{type: tcp}]}]
  - address: 10.0.0.1
    port: 81
    real_servers: [{address: 10.1.0.3, checks: [{type: tcp}]}]
`)
	for _, tc := range []struct {
		state string
		want  []model.RealID
	}{
		// Only the ha_suspend service on a VIP of a non-master instance.
		{"BACKUP", []model.RealID{id("10.0.0.1", 80, "10.1.0.1")}},
		{"FAULT", []model.RealID{id("10.0.0.1", 80, "10.1.0.1")}},
		{"MASTER", nil},
	} {
		got := SuspendedReals(m, map[string]string{"VI_1": tc.state})
		if len(got) != len(tc.want) {
			t.Errorf("%s: suspended %v, want %v", tc.state, got, tc.want)
		}
		for _, id := range tc.want {
			if !got[id] {
				t.Errorf("%s: %v not suspended", tc.state, id)
			}
		}
	}
}

// TestQuorumCountsCheckerWeight: a weight a checker reports (misc_dynamic)
// is the one quorum counts, in both directions.
func TestQuorumCountsCheckerWeight(t *testing.T) {
	m := parse(t, quorumVS("quorum: {min: 5, up_script: up, down_script: down}"))
	svc := service("10.0.0.1", 80)
	r1, r2 := id("10.0.0.1", 80, "10.1.0.1"), id("10.0.0.1", 80, "10.1.0.2")
	for _, tc := range []struct {
		w1       int
		prevLost bool
		lost     bool
		scripts  []string
	}{
		{1, false, true, []string{"down"}}, // 1+3 < 5
		{2, true, false, []string{"up"}},   // 2+3
		{9, false, false, nil},             // 9+3: held
	} {
		w := tc.w1
		h := Health{r1: {Up: true, Weight: &w}, r2: {Up: true}}
		next, scripts, _ := Quorum(m, h, QuorumLost{svc: tc.prevLost})
		if next[svc] != tc.lost || !slices.Equal(cmds(scripts), tc.scripts) {
			t.Errorf("weight %d: lost %v, scripts %q; want %v, %q", tc.w1, next[svc], cmds(scripts), tc.lost, tc.scripts)
		}
	}
}

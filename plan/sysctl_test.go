package plan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/state"
)

// TestSysctlDiff: only the settings the model names are planned, each
// as the kernel's value to the model's, first of all changes; settings
// the kernel has and the model leaves out are not touched.
func TestSysctlDiff(t *testing.T) {
	tcp, sctp, reuse := state.IPVSSysctl("sloppy_tcp"), state.IPVSSysctl("sloppy_sctp"), state.IPVSSysctl("conn_reuse_mode")
	kernel := func(vals map[state.SysctlKey]int) func() *state.State {
		return func() *state.State {
			st := state.New()
			for k, v := range vals {
				st.SetSysctl(k, v)
			}
			return st
		}
	}
	cases := []struct {
		name   string
		ipvs   string
		live   func() *state.State
		want   []string // plan lines
		scoped []state.SysctlKey
	}{
		{"none named: defaults left alone", "", kernel(state.IPVSSysctlDefaults), nil, nil},
		{"scale-out on a fresh kernel", "ipvs: {sysctls: {sloppy_tcp: true, sloppy_sctp: true}}\n", kernel(state.IPVSSysctlDefaults),
			[]string{"~ sysctl.net.ipv4.vs.sloppy_sctp  0 -> 1", "~ sysctl.net.ipv4.vs.sloppy_tcp  0 -> 1"}, []state.SysctlKey{sctp, tcp}},
		{"already so", "ipvs: {sysctls: {sloppy_tcp: true}}\n", kernel(map[state.SysctlKey]int{tcp: 1, sctp: 0}), nil, []state.SysctlKey{tcp}},
		{"turned off", "ipvs: {sysctls: {sloppy_tcp: false, conn_reuse_mode: 2}}\n", kernel(map[state.SysctlKey]int{tcp: 1, reuse: 1}),
			[]string{"~ sysctl.net.ipv4.vs.conn_reuse_mode  1 -> 2", "~ sysctl.net.ipv4.vs.sloppy_tcp  1 -> 0"}, []state.SysctlKey{reuse, tcp}},
		{"not in the live state (old export)", "ipvs: {sysctls: {sloppy_tcp: true}}\n", kernel(nil),
			[]string{"+ sysctl.net.ipv4.vs.sloppy_tcp  = 1"}, []state.SysctlKey{tcp}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			y := "version: 1\n" + tc.ipvs + "virtual_servers:\n  - {address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.1}]}\n"
			p := Diff(testkit.Desired(t, y), tc.live(), Options{})
			var got []string
			for _, c := range p.Changes {
				if c.Kind == KindSysctl {
					got = append(got, symbols[c.Action]+" "+c.Address+"  "+describe(c))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("sysctl changes %q, want %q", got, tc.want)
			}
			if !slices.Equal(p.Scope.Sysctls, tc.scoped) {
				t.Errorf("scope %v, want %v", p.Scope.Sysctls, tc.scoped)
			}
			if len(tc.want) > 0 && p.Changes[0].Kind != KindSysctl {
				t.Errorf("first change %s, want the sysctls first", p.Changes[0].Address)
			}
		})
	}
}

// TestSysctlRender: the text line and the JSON change of an update.
func TestSysctlRender(t *testing.T) {
	live := state.New()
	live.SetSysctl(state.IPVSSysctl("sloppy_tcp"), 0)
	p := Diff(testkit.Desired(t, "version: 1\nipvs: {sysctls: {sloppy_tcp: true}}\n"), live, Options{})
	var text bytes.Buffer
	if err := WriteText(&text, p, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"   ~ sysctl.net.ipv4.vs.sloppy_tcp  0 -> 1\n", "Plan: 0 to add, 1 to change, 0 to destroy."} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, p); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ResourceChanges []struct {
			Address, Type string
			Change        struct {
				Actions       []string
				Before, After *state.Sysctl
			}
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.ResourceChanges) != 1 {
		t.Fatalf("%d changes, want 1:\n%s", len(doc.ResourceChanges), buf.String())
	}
	c := doc.ResourceChanges[0]
	if c.Type != "sysctl" || c.Address != "sysctl.net.ipv4.vs.sloppy_tcp" || c.Change.Before == nil || c.Change.After == nil ||
		c.Change.Before.Value != 0 || c.Change.After.Value != 1 || c.Change.After.Key != "net.ipv4.vs.sloppy_tcp" {
		t.Errorf("JSON change %+v:\n%s", c, buf.String())
	}
}

// TestSysctlFingerprint: a saved plan goes stale when a setting it
// changes moved, not when one outside it did.
func TestSysctlFingerprint(t *testing.T) {
	live := state.New()
	for k, v := range state.IPVSSysctlDefaults {
		live.SetSysctl(k, v)
	}
	p := Diff(testkit.Desired(t, "version: 1\nipvs: {sysctls: {sloppy_tcp: true}}\n"), live, Options{})
	cases := []struct {
		name  string
		key   string
		value int
		stale bool
	}{
		{"unchanged", "sloppy_tcp", 0, false},
		{"the planned setting moved", "sloppy_tcp", 1, true},
		{"another setting moved", "pmtu_disc", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := live.Clone()
			l.SetSysctl(state.IPVSSysctl(tc.key), tc.value)
			if stale := Fingerprint(l, p.Scope) != p.Fingerprint; stale != tc.stale {
				t.Errorf("stale %v, want %v", stale, tc.stale)
			}
		})
	}
}

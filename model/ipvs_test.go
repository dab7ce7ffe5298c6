package model

import (
	"maps"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/state"
)

// TestIPVSSysctls: the section's YAML keys are the kernel's names, a
// boolean is 1 or 0, only named settings reach the desired state, and
// bad values are refused at their line.
func TestIPVSSysctls(t *testing.T) {
	key := state.IPVSSysctl
	cases := []struct {
		name, ipvs string
		want       map[state.SysctlKey]int // nil: refused
		err        string
	}{
		{"absent", "", map[state.SysctlKey]int{}, ""},
		{"empty section", "ipvs: {}\n", map[state.SysctlKey]int{}, ""},
		{"scale-out", "ipvs:\n  sysctls: {sloppy_tcp: true, sloppy_sctp: true}\n",
			map[state.SysctlKey]int{key("sloppy_tcp"): 1, key("sloppy_sctp"): 1}, ""},
		{"off and numbers", "ipvs:\n  sysctls: {pmtu_disc: false, conn_reuse_mode: 0, expire_nodest_conn: true, backup_only: false}\n",
			map[state.SysctlKey]int{key("pmtu_disc"): 0, key("conn_reuse_mode"): 0, key("expire_nodest_conn"): 1, key("backup_only"): 0}, ""},
		{"conn_reuse_mode out of range", "ipvs:\n  sysctls: {conn_reuse_mode: 4}\n", nil,
			"m.yaml:3:30: ipvs.sysctls.conn_reuse_mode: want 0 to 3"},
		{"unknown sysctl", "ipvs:\n  sysctls: {sloppy_udp: true}\n", nil, "m.yaml:3:13"},
		{"a number for a boolean", "ipvs:\n  sysctls: {sloppy_tcp: 1}\n", nil, "m.yaml:3:25"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte("version: 1\n"+tc.ipvs), "m.yaml")
			if tc.want == nil {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q in it", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := Compile(m, Facts{}).State.Sysctls
			if !maps.Equal(got, tc.want) {
				t.Errorf("desired sysctls %v, want %v", got, tc.want)
			}
		})
	}
}

// TestIPVSSysctlsExport: a live state's settings become the section
// (every setting lbx models, booleans as the kernel reads them), and
// the section compiles back to the same values.
func TestIPVSSysctlsExport(t *testing.T) {
	cases := []struct {
		name string
		live map[state.SysctlKey]int
		yaml []string // lines the export must hold
		back map[state.SysctlKey]int
	}{
		{"none read", nil, nil, map[state.SysctlKey]int{}},
		{"defaults", state.IPVSSysctlDefaults, []string{"sloppy_tcp: false", "conn_reuse_mode: 1", "pmtu_disc: true"}, state.IPVSSysctlDefaults},
		{"a boolean set to 2 reads as on", map[state.SysctlKey]int{state.IPVSSysctl("sloppy_tcp"): 2, state.IPVSSysctl("conn_reuse_mode"): 3},
			[]string{"sloppy_tcp: true", "conn_reuse_mode: 3"}, map[state.SysctlKey]int{state.IPVSSysctl("sloppy_tcp"): 1, state.IPVSSysctl("conn_reuse_mode"): 3}},
		{"a setting lbx does not model is left out", map[state.SysctlKey]int{state.IPVSSysctl("am_droprate"): 10}, nil, map[state.SysctlKey]int{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := state.New()
			for k, v := range tc.live {
				st.SetSysctl(k, v)
			}
			b, err := MarshalYAML(FromState(st, nil))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range tc.yaml {
				if !strings.Contains(string(b), l) {
					t.Errorf("export lacks %q:\n%s", l, b)
				}
			}
			if len(tc.yaml) == 0 && strings.Contains(string(b), "ipvs:") {
				t.Errorf("export has an ipvs section:\n%s", b)
			}
			m, err := Parse(b, "export.yaml")
			if err != nil {
				t.Fatalf("export does not load: %v\n%s", err, b)
			}
			if got := Compile(m, Facts{}).State.Sysctls; !maps.Equal(got, tc.back) {
				t.Errorf("compiled back %v, want %v", got, tc.back)
			}
		})
	}
}

// TestSloppyWarning: with bgp announcing IPVS services, a model that
// turns sloppy TCP/SCTP off is warned at the setting; on or left out
// (lbx watch then reads the kernel's) it is not.
func TestSloppyWarning(t *testing.T) {
	bgp := `bgp:
  local_as: 65001
  router_id: 10.0.0.11
  peers: [{address: 10.0.0.254, as: 65000}]
  announcements: [{prefix: 192.0.2.10/32, when: {virtual_servers: [web]}}]
`
	cases := []struct {
		name, ipvs string
		want       []string
	}{
		{"left out", "", nil},
		{"on", "ipvs: {sysctls: {sloppy_tcp: true, sloppy_sctp: true}}\n", nil},
		{"tcp off", "ipvs: {sysctls: {sloppy_tcp: false, sloppy_sctp: true}}\n", []string{"ipvs.sysctls.sloppy_tcp: sloppy_tcp is off"}},
		{"both off", "ipvs: {sysctls: {sloppy_tcp: false, sloppy_sctp: false}}\n", []string{"sloppy_tcp is off", "sloppy_sctp is off"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantWarnings(t, bgpBase+tc.ipvs+bgp, tc.want)
		})
	}
}

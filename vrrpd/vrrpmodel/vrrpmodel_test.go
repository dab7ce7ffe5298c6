package vrrpmodel

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/vrrpd"
)

func TestFromModel(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c *vrrpd.Config)
	}{
		{
			name: "defaults and tracking",
			yaml: `version: 1
scripts:
  chk: {script: /bin/true, weight: -20, fall: 2}
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    track_interfaces: [{name: eth1, weight: 0}]
    track_scripts: [{name: chk, weight: 30}]
    virtual_addresses: [{address: 10.0.0.100/24}]
`,
			check: func(t *testing.T, c *vrrpd.Config) {
				in := c.Instances[0]
				if in.FSM.Priority != 100 || in.FSM.AdvertInt != time.Second || in.FSM.Version != 2 || !in.FSM.Preempt {
					t.Errorf("defaults: %+v", in.FSM)
				}
				if in.GarpDelay != 5*time.Second || in.GarpRepeat != 5 {
					t.Errorf("garp defaults: %v %d", in.GarpDelay, in.GarpRepeat)
				}
				keys := []string{}
				for _, tr := range in.FSM.Tracks {
					keys = append(keys, tr.Key.String())
				}
				if got := strings.Join(keys, ","); got != "interface eth0,source eth0 IPv4,interface eth1,script chk" {
					t.Errorf("tracks %s", got)
				}
				if w := in.FSM.Tracks[3].Weight; w != 30 {
					t.Errorf("per-instance weight override: %d", w)
				}
				if s := c.Scripts["chk"]; s == nil || s.Fall != 2 || s.Rise != 1 || s.Timeout != time.Second {
					t.Errorf("script %+v", s)
				}
			},
		},
		{
			name: "AH refused",
			yaml: `version: 1
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    authentication: {type: AH, pass: x}
    virtual_addresses: [{address: 10.0.0.100/24}]
`,
			wantErr: "vrrp_instance VI_1: authentication AH is not supported",
		},
		{
			name: "ipv6 is v3",
			yaml: `version: 1
vrrp_instances:
  - name: VI_6
    interface: eth0
    virtual_router_id: 9
    virtual_addresses: [{address: 2001:db8::1/64}]
`,
			check: func(t *testing.T, c *vrrpd.Config) {
				if in := c.Instances[0]; !in.V6 || in.FSM.Version != 3 {
					t.Errorf("v6 %v version %d", in.V6, in.FSM.Version)
				}
				if k := c.Instances[0].FSM.Tracks[1].Key; k.String() != "source eth0 IPv6" {
					t.Errorf("source track %q", k)
				}
			},
		},
		{
			name: "a given source address is not tracked",
			yaml: `version: 1
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    unicast_src_ip: 10.0.0.1
    unicast_peers: [10.0.0.2]
    virtual_addresses: [{address: 10.0.0.100/24}]
`,
			check: func(t *testing.T, c *vrrpd.Config) {
				for _, tr := range c.Instances[0].FSM.Tracks {
					if tr.Key.Kind == vrrpd.TrackSource {
						t.Errorf("track %q with unicast_src_ip given", tr.Key)
					}
				}
			},
		},
		{
			name: "without virtual addresses, VRRPv2: runs, as in keepalived",
			yaml: `version: 1
vrrp_instances:
  - {name: VI_0, interface: eth0, virtual_router_id: 51}
`,
			check: func(t *testing.T, c *vrrpd.Config) {
				if in := c.Instances[0]; len(in.Addrs) != 0 || in.V6 || in.FSM.Version != 2 {
					t.Errorf("addresses %v, v6 %v, version %d; want none, IPv4, 2", in.Addrs, in.V6, in.FSM.Version)
				}
			},
		},
		{
			name: "without virtual addresses, VRRPv3: refused, as in keepalived",
			yaml: `version: 1
vrrp_instances:
  - {name: VI_0, interface: eth0, virtual_router_id: 51, version: 3}
`,
			wantErr: "no virtual_addresses; VRRPv3, IPv6 and vrrp_strict instances need at least one",
		},
		{
			name: "without virtual addresses, vrrp_strict: refused",
			yaml: `version: 1
global: {vrrp_strict: true}
vrrp_instances:
  - {name: VI_0, interface: eth0, virtual_router_id: 51}
`,
			wantErr: "no virtual_addresses",
		},
		{
			name: "without virtual addresses, IPv6 peers: refused",
			yaml: `version: 1
vrrp_instances:
  - {name: VI_0, interface: eth0, virtual_router_id: 51, unicast_peers: ["2001:db8::2"]}
`,
			wantErr: "no virtual_addresses",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := model.Parse([]byte(tt.yaml), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			c, err := FromModel(m)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// The model's script_user runs the notify scripts and the vrrp_scripts
// without a user of their own; a vrrp_script's user runs it (vrrpd's
// TestScriptsRunAsTheirUser: the runners use these).
func TestScriptUsers(t *testing.T) {
	m, err := model.Parse([]byte(`version: 1
global: {script_user: nobody}
scripts:
  chk: {script: /bin/true}
  own: {script: /bin/true, user: root}
vrrp_instances:
  - name: VI_1
    interface: lo
    virtual_router_id: 51
    virtual_addresses: [{address: 10.9.9.9/32}]
    track_scripts: [{name: chk}, {name: own}]
`), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := script.LookupUser("nobody", ""); err != nil {
		testkit.Skip(t, "no user nobody: "+err.Error())
	}
	c, err := FromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{c.ScriptUser.Name, c.Scripts["chk"].User.Name, c.Scripts["own"].User.Name}
	if want := []string{"nobody", "nobody", "root"}; !slices.Equal(got, want) {
		t.Errorf("notify, chk and own run as %q, want %q", got, want)
	}
}

// vrrpd links neither the model nor its YAML decoder: a process that runs
// only VRRP is handed its configuration and, since a binary's resident
// pages follow the code it links (docs/performance.md, Memory), must not
// carry them.
func TestVRRPDLinksNoModel(t *testing.T) {
	const lbx = "github.com/lbx-dev/lbx/"
	deps := testkit.GoList(t, "-deps", lbx+"vrrpd")
	if !slices.Contains(deps, lbx+"vrrpd/fsm") {
		t.Fatalf("vrrpd does not link vrrpd/fsm: this test checks less than it says (go list -deps ./vrrpd)")
	}
	for _, p := range []string{lbx + "model", "gopkg.in/yaml.v3", lbx + "check", lbx + "plan", lbx + "apply", lbx + "internal/scriptpolicy"} {
		if slices.Contains(deps, p) {
			t.Errorf("vrrpd links %s (go list -deps ./vrrpd)", p)
		}
	}
}

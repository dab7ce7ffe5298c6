package watch

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lbx-dev/lbx/internal/buildinfo"
	"github.com/lbx-dev/lbx/internal/daemonview"
	"github.com/lbx-dev/lbx/internal/daemonview/modelview"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/vrrponly"
)

// vrrpOnlyModel uses what a VRRP-only model can say: scripts with their
// own users, tracking, notify, a sync group, unicast, IPv6, excluded
// addresses on another link with label and scope.
const vrrpOnlyModel = `version: 1
global: {script_user: root, resync_interval: 7s}
scripts:
  chk: {script: /bin/true, interval: 2s, weight: -20, fall: 2, user: nobody}
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    priority: 150
    advert_int: 2s
    unicast_src_ip: 192.0.2.1
    unicast_peers: [192.0.2.2]
    authentication: {type: PASS, pass: secret}
    track_interfaces: [{name: eth1, weight: 10}]
    track_scripts: [{name: chk}]
    notify: {master: /bin/true}
    virtual_addresses: [{address: 192.0.2.50/24, label: eth0:vip}]
    virtual_addresses_excluded: [{address: 198.51.100.7/32, interface: eth1, scope: host}]
  - name: VI_6
    interface: eth0
    virtual_router_id: 52
    version: 3
    virtual_addresses: [{address: 2001:db8::50/64}]
sync_groups:
  - {name: G, members: [VI_1, VI_6], notify: {any: /bin/true}}
`

func TestVRRPOnlySpecRoundTrip(t *testing.T) {
	m, err := model.Parse([]byte(vrrpOnlyModel), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := Preflight(m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := VRRPOnlySpec(m, cfg, "m.yaml", "", buildinfo.This("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Full != "" {
		t.Fatalf("Full = %q for a model of VRRP alone", spec.Full)
	}
	var b bytes.Buffer
	if err := spec.Write(&b); err != nil {
		t.Fatal(err)
	}
	got, err := vrrponly.ReadSpec(&b)
	if err != nil {
		t.Fatal(err)
	}
	// The view goes encoded, and comes back as the model's own view.
	var view []daemonview.Object
	if err := json.Unmarshal(got.DaemonModel, &view); err != nil {
		t.Fatal(err)
	}
	if d := daemonview.Diff(modelview.Of(m), view); len(d) > 0 || len(view) == 0 {
		t.Errorf("the daemon model changed on its way (%d objects): %+v", len(view), d)
	}
	// Origin is for messages only and not encoded: the read gives each
	// address its instance's again, as the compile did.
	if d := cmp.Diff(spec, got, cmpopts.EquateComparable(netip.Addr{})); d != "" {
		t.Errorf("the spec changed on its way to lbx-vrrp (-sent +read):\n%s", d)
	}
	if got.Resync.String() != "7s" || len(got.Addresses["VI_1"]) != 2 || got.Addresses["VI_1"][1].Key.Interface != "eth1" || len(got.DaemonModel) == 0 {
		t.Errorf("resync %v, VI_1's addresses %v, daemon model %d objects", got.Resync, got.Addresses["VI_1"], len(got.DaemonModel))
	}
}

func TestNeedsWholeEngine(t *testing.T) {
	const vrrp = "vrrp_instances: [{name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 192.0.2.50/32}]}]\n"
	tests := []struct{ name, yaml, want string }{
		{"VRRP alone", vrrp, ""},
		{"nothing", "", ""},
		{"a virtual server", vrrp + "virtual_servers: [{address: 192.0.2.50, port: 80, real_servers: [{address: 10.0.0.1}]}]\n", "virtual servers"},
		{"a static address", vrrp + "addresses: [{interface: eth0, address: 192.0.2.9/32}]\n", "static addresses"},
		{"a static route", vrrp + "routes: [{to: 198.51.100.0/24, via: 192.0.2.254}]\n", "static routes"},
		{"ipvs settings", vrrp + "ipvs: {sysctls: {sloppy_tcp: true}}\n", "ipvs settings"},
		{"virtual routes", "vrrp_instances: [{name: VI_1, interface: eth0, virtual_router_id: 1, virtual_routes: [{to: 198.51.100.0/24, via: 192.0.2.254}]}]\n", "virtual_routes of vrrp_instance VI_1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := model.Parse([]byte("version: 1\n"+tc.yaml), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := NeedsWholeEngine(m); got != tc.want {
				t.Errorf("NeedsWholeEngine = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestVRRPOnlySpecOfAWholeModel(t *testing.T) {
	m, err := model.Parse([]byte("version: 1\naddresses: [{interface: eth0, address: 192.0.2.9/32}]\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := HandOverSpec(NeedsWholeEngine(m), "m.yaml", "", buildinfo.This("v1"))
	if spec.Full != "static addresses" || spec.Config != nil || spec.Addresses != nil {
		t.Errorf("spec %+v, want why alone", spec)
	}
	var b bytes.Buffer
	spec.Write(&b)
	if got, err := vrrponly.ReadSpec(&b); err != nil || !strings.Contains(got.Full, "static") {
		t.Errorf("ReadSpec = %+v, %v", got, err)
	}
}

// TestResumedAsMaster: an instance lbx-vrrp handed back as MASTER keeps
// its addresses through vrrpd's reconcile before its start (INIT there),
// and only until its first other state.
func TestResumedAsMaster(t *testing.T) {
	e := &engine{resumed: map[string]bool{"VI_1": true}}
	steps := []struct{ in, want map[string]string }{
		{map[string]string{"VI_1": "INIT", "VI_2": "INIT"}, map[string]string{"VI_1": "MASTER", "VI_2": "INIT"}},
		{map[string]string{"VI_1": "MASTER", "VI_2": "BACKUP"}, map[string]string{"VI_1": "MASTER", "VI_2": "BACKUP"}},
		// A later INIT (a reload's new instance of that name) is INIT.
		{map[string]string{"VI_1": "INIT", "VI_2": "BACKUP"}, map[string]string{"VI_1": "INIT", "VI_2": "BACKUP"}},
	}
	for i, s := range steps {
		if got := e.resumedAsMaster(s.in); !maps.Equal(got, s.want) {
			t.Errorf("step %d: %v, want %v", i, got, s.want)
		}
	}
	if s := map[string]string{"VI_1": "INIT"}; e.resumedAsMaster(s)["VI_1"] != "INIT" || s["VI_1"] != "INIT" {
		t.Error("the states given were changed")
	}
}

// TestFindVRRPProcess: lbx-vrrp is taken only when it is lbx's build; an
// older one (a half-done upgrade) or one that does not answer is refused
// with what to do, and lbx watch then runs its whole engine.
func TestFindVRRPProcess(t *testing.T) {
	build := buildinfo.This("v1")
	want, _ := json.Marshal(build)
	for _, tc := range []struct{ name, script, wantErr string }{
		{"same build", "echo '" + string(want) + "'", ""},
		{"another build", `echo '{"version":"v0"}'`, "not the same build"},
		{"no answer", "exit 3", "--build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, VRRPBinary), []byte("#!/bin/sh\n"+tc.script+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", dir)
			path, err := FindVRRPProcess(build)
			switch {
			case tc.wantErr == "" && (err != nil || path != filepath.Join(dir, VRRPBinary)):
				t.Errorf("FindVRRPProcess = %q, %v", path, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("FindVRRPProcess error %v, want one with %q", err, tc.wantErr)
			}
		})
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := FindVRRPProcess(build); err == nil || !strings.Contains(err.Error(), "neither next to lbx nor on PATH") {
		t.Errorf("without lbx-vrrp: %v", err)
	}
}

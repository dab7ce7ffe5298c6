package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/model"
)

// fleetModel is a unicast pair in one model; vrid2, when not empty, gives
// node b its own (wrong) virtual_router_id.
func fleetModel(a, b, vrid2 string, prioA int) string {
	extra := ""
	if vrid2 != "" {
		extra = ", virtual_router_id: " + vrid2
	}
	return `version: 1
vrrp_instances:
  - name: VI_1
    state: BACKUP
    interface: eth0
    virtual_router_id: 51
    priority: 100
    advert_int: 1s
    virtual_addresses:
      - {address: 10.77.0.80/24}
nodes:
  ` + a + `:
    vrrp_instances:
      VI_1: {state: MASTER, priority: ` + itoa(prioA) + `, unicast_src_ip: 10.77.0.1}
  ` + b + `:
    vrrp_instances:
      VI_1: {unicast_src_ip: 10.77.0.2` + extra + `}
`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestNodeFlag: --node selects a node's view on every command that reads
// a model, the host's short name is the default, an unknown name lists
// the model's, and validate without --node checks every node and the
// fleet (a mismatched VRID between two nodes, positioned).
func TestNodeFlag(t *testing.T) {
	lbx := filepath.Join(buildBinaries(t), "lbx")
	host, err := model.DefaultNodeName()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pair := writeFile(t, dir, "pair.yaml", fleetModel("lb1", "lb2", "", 150))
	mine := writeFile(t, dir, "mine.yaml", fleetModel(host, "zz-other", "", 150))
	bad := writeFile(t, dir, "bad.yaml", fleetModel("lb1", "lb2", "52", 150))
	live := writeFile(t, dir, "live.yaml", "version: 1\n")
	keepalived := func(name, state string, prio int) string {
		return writeFile(t, dir, name+".conf", "global_defs {\n  router_id "+name+"\n}\nvrrp_instance VI_1 {\n  state "+state+
			"\n  interface eth0\n  virtual_router_id 51\n  priority "+itoa(prio)+"\n  virtual_ipaddress {\n    10.77.0.80/24\n  }\n}\n")
	}
	ka1, ka2 := keepalived("lb1", "MASTER", 150), keepalived("lb2", "BACKUP", 100)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   string // substrings; "" none
		stderr   string
		jsonNode string // -o json: this node's verdict is checked
		valid    bool
	}{
		{name: "validate checks every node", args: []string{"validate", "-f", pair}, stdout: pair + ": valid for nodes lb1, lb2"},
		{name: "validate one node", args: []string{"validate", "-f", pair, "--node", "lb2", "-o", "json"}, jsonNode: "lb2", valid: true},
		{name: "fleet check: mismatched VRID", args: []string{"validate", "-f", bad}, code: 1,
			stderr: bad + `:17:60: nodes.lb2.vrrp_instances.VI_1.virtual_router_id: VRRP instance "VI_1": virtual_router_id is 52 on node lb2 but 51 on node lb1`},
		{name: "fleet check in JSON, per node", args: []string{"validate", "-f", bad, "-o", "json"}, code: 1, jsonNode: "lb2", valid: false,
			stdout: `"node": "lb2"`},
		{name: "unknown node", args: []string{"validate", "-f", pair, "--node", "lb9"}, code: 1,
			stderr: `no node "lb9" under nodes: (the model names lb1, lb2)`},
		{name: "plan: unknown node", args: []string{"plan", "-f", pair, "--node", "lb9", "--live", live}, code: 1,
			stderr: `no node "lb9" under nodes: (the model names lb1, lb2)`},
		{name: "plan: the host's name by default, not in the model", args: []string{"plan", "-f", pair, "--live", live}, code: 1,
			stderr: `no node "` + host + `" under nodes:`},
		{name: "plan: the host's name by default", args: []string{"plan", "-f", mine, "--live", live}, stdout: "No changes."},
		{name: "plan: a fleet that disagrees is refused on every node", args: []string{"plan", "-f", bad, "--node", "lb1", "--live", live}, code: 1,
			stderr: "virtual_router_id is 52 on node lb2"},
		{name: "convert: one model for two directors", args: []string{"convert", ka1, ka2},
			stdout: "nodes:\n  lb1:\n    global:\n      router_id: lb1\n    vrrp_instances:\n      VI_1:\n        state: MASTER\n        priority: 150\n"},
		{name: "convert: a name per file", args: []string{"convert", "--node-names", "a", ka1, ka2}, code: 1,
			stderr: "2 files and 1 --node-names: give one name per file, or one file with a name per director"},
		{name: "apply: unknown node", args: []string{"apply", "-f", pair, "--node", "lb9", "--auto-approve", "--run-dir", dir, "--state-dir", dir}, code: 1,
			stderr: `no node "lb9"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runOut(t, lbx, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stdout %q, stderr %q: want %q and %q", stdout, stderr, tc.stdout, tc.stderr)
			}
			if tc.jsonNode != "" {
				checkNodeVerdict(t, stdout, tc.jsonNode, tc.valid)
			}
		})
	}
}

// checkNodeVerdict finds node's verdict in validate's JSON document.
func checkNodeVerdict(t *testing.T, stdout, node string, valid bool) {
	t.Helper()
	var d struct {
		Nodes []struct {
			Name   string
			Valid  bool
			Errors []struct{ Node string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, n := range d.Nodes {
		if n.Name == node {
			if n.Valid != valid || valid != (len(n.Errors) == 0) {
				t.Errorf("node %s: valid %v with %d errors, want valid %v", node, n.Valid, len(n.Errors), valid)
			}
			return
		}
	}
	t.Errorf("no verdict for node %s:\n%s", node, stdout)
}

// TestWatchRunsItsNodesView: lbx watch --node runs that node's values,
// says which node in lbx status, keeps to them on a reload (SIGHUP), and
// refuses to be handed the file by an lbx apply for another node.
func TestWatchRunsItsNodesView(t *testing.T) {
	lbx := filepath.Join(buildBinaries(t), "lbx")
	f := newNetnsFixture(t)
	file := writeFile(t, t.TempDir(), "pair.yaml", fleetModel("lb1", "lb2", "", 150))
	cmd := exec.Command("ip", "netns", "exec", f.ns.Name, lbx, "watch", "-f", file, "--node", "lb1", "--checker", "inline",
		"--state-dir", f.state, "--run-dir", f.run)
	f.ns.Run(t, "ip", "addr", "add", "10.77.0.1/24", "dev", "eth0") // lb1's unicast source
	nstest.Background(t, cmd, "lbx watch")
	status := []string{"netns", "exec", f.ns.Name, lbx, "status", "--run-dir", f.run, "-o", "json"}
	waitPriority(t, status, "lb1", 150)
	if err := os.WriteFile(file, []byte(fleetModel("lb1", "lb2", "", 160)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	waitPriority(t, status, "lb1", 160)

	_, stderr, code := runOut(t, lbx, f.args("apply", "-f", file, "--node", "lb2", "--auto-approve")...)
	if want := "runs node lb1's view of " + file + ", not node lb2's"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("apply --node lb2 handed to lb1's daemon: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
	if stdout, stderr, code := runOut(t, lbx, f.args("apply", "-f", file, "--node", "lb1", "--auto-approve")...); code != 0 {
		t.Errorf("apply --node lb1 handed to lb1's daemon: exit %d\n%s%s", code, stdout, stderr)
	}
}

// waitPriority waits until lbx status (the command line status) reports
// the daemon as node at VI_1's priority want.
func waitPriority(t *testing.T, status []string, node string, want int) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		stdout, _, code := runOut(t, "ip", status...)
		if code != 0 {
			continue
		}
		last = stdout
		var st struct {
			Daemon struct{ Node string }
			VRRP   []struct {
				Name     string
				Priority int
			}
		}
		if json.Unmarshal([]byte(stdout), &st) == nil && st.Daemon.Node == node && len(st.VRRP) == 1 && st.VRRP[0].Priority == want {
			return
		}
	}
	t.Fatalf("never node %s with VI_1 at priority %d; last status:\n%s", node, want, last)
}

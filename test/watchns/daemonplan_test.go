package watchns

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// daemonChange is one entry of plan's daemon.changes and apply's
// daemon_changes.
type daemonChange struct {
	Address string         `json:"address"`
	Kind    string         `json:"kind"`
	Action  string         `json:"action"`
	Fields  []string       `json:"changed_fields"`
	Before  map[string]any `json:"before"`
	After   map[string]any `json:"after"`
}

// exitCode runs bin in ns and returns its stdout and exit code.
func exitCode(t *testing.T, ns *nstest.NS, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := ns.Cmd(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return string(out), 0
}

// TestPlanShowsDaemonChanges: a VRRP priority is carried out by lbx watch
// only; plan reads the running model from the daemon and lists the change
// as the daemon's (exit 2 with --detailed-exitcode), apply reports what
// the daemon applied, and without a daemon the plan says when it would
// take effect (issue 22 item 3).
func TestPlanShowsDaemonChanges(t *testing.T) {
	r := newWatchRig(t, "dp", model1)
	bin, ns, dir, file, w := r.bin, r.ns, r.dir, r.file, r.w
	var st struct {
		VRRP []struct {
			Name, State string
			Priority    int
		}
	}
	readStatus := func() bool {
		out, err := ns.Try(bin, "status", "-o", "json", "--run-dir", dir)
		return err == nil && json.Unmarshal([]byte(out), &st) == nil && len(st.VRRP) == 1
	}
	testkit.Eventually(t, "MASTER in lbx status", settle, func() bool { return readStatus() && st.VRRP[0].State == "MASTER" })
	planArgs := []string{"plan", "-f", file, "--run-dir", dir, "--state-dir", dir, "--detailed-exitcode"}

	// The running file, and files the daemon runs identically (defaults
	// written out, values written where they are inherited from):
	// nothing to change, in the kernel or the daemon. A change made where
	// a value is inherited from is a change of the object that inherits it.
	if out, _ := ns.Try(bin, "status", "-o", "json", "--run-dir", dir); strings.Contains(out, "daemon_model") {
		t.Fatalf("lbx status -o json carries daemon_model (plan's and apply's to ask for):\n%s", out)
	}
	alike := []struct {
		name string
		old  string // in model1
		new  string
		code int
		says string
	}{
		{name: "the running file", code: 0},
		{name: "defaults written", old: "    virtual_addresses: [{address: 192.0.2.50/24}]\n", code: 0,
			new: "    preempt_delay: 0s\n    garp_master_delay: 5s\n    garp_master_refresh_repeat: 1\n    virtual_addresses: [{address: 192.0.2.50/24, interface: d0, scope: global}]\n"},
		{name: "inherited from the global", old: "global: {resync_interval: 300ms}", new: "global: {resync_interval: 300ms, vrrp_garp_master_repeat: 5, ipvs_on_stop: keep}", code: 0},
		{name: "an inherited value changed", old: "global: {resync_interval: 300ms}", new: "global: {resync_interval: 300ms, vrrp_garp_master_delay: 2s}",
			code: 2, says: "~ vrrp_instance.VI_1  garp_master_delay: 5s -> 2s"},
	}
	for _, tc := range alike {
		os.WriteFile(file, []byte(strings.Replace(model1, tc.old, tc.new, 1)), 0o644)
		if out, code := exitCode(t, ns, bin, planArgs...); code != tc.code || !strings.Contains(out, tc.says) {
			t.Errorf("plan, %s: exit %d, want %d and %q\n%s", tc.name, code, tc.code, tc.says, out)
		}
	}
	os.WriteFile(file, []byte(model1), 0o644)

	cur, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(cur), "priority: 255", "priority: 200", 1)), 0o644)
	tests := []struct {
		name   string
		args   []string
		want   []string // in the text plan
		isJSON bool
	}{
		{name: "text", want: []string{"lbx watch (pid", "~ vrrp_instance.VI_1  priority: 255 -> 200", "Daemon: 0 to add, 1 to change, 0 to destroy."}},
		{name: "json", args: []string{"-o", "json"}, isJSON: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := exitCode(t, ns, bin, append(planArgs, tc.args...)...)
			if code != 2 {
				t.Fatalf("plan of a priority change: exit %d, want 2\n%s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("plan lacks %q:\n%s", w, out)
				}
			}
			if !tc.isJSON {
				return
			}
			var doc struct {
				Changed bool `json:"changed"`
				Daemon  struct {
					Running bool           `json:"running"`
					Changes []daemonChange `json:"changes"`
				} `json:"daemon"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			c := doc.Daemon.Changes
			if !doc.Changed || !doc.Daemon.Running || len(c) != 1 || c[0].Address != "vrrp_instance.VI_1" || c[0].Action != "update" ||
				strings.Join(c[0].Fields, ",") != "priority" || c[0].Before["priority"] != 255.0 || c[0].After["priority"] != 200.0 {
				t.Fatalf("plan -o json daemon part: %+v\n%s", doc, out)
			}
		})
	}

	// apply hands the file to the daemon and reports what it applied.
	out, code := exitCode(t, ns, bin, "apply", "-f", file, "--auto-approve", "--run-dir", dir, "--state-dir", dir, "-o", "json")
	var res struct {
		OK            bool           `json:"ok"`
		Changed       bool           `json:"changed"`
		DaemonChanges []daemonChange `json:"daemon_changes"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
		t.Fatalf("apply: exit %d, %v\n%s", code, err, out)
	}
	if !res.OK || !res.Changed || len(res.DaemonChanges) != 1 || res.DaemonChanges[0].After["priority"] != 200.0 {
		t.Fatalf("apply of a priority change: %s", out)
	}
	testkit.Eventually(t, "priority 200 in lbx status", settle, func() bool { return readStatus() && st.VRRP[0].Priority == 200 })
	if out, code := exitCode(t, ns, bin, planArgs...); code != 0 {
		t.Fatalf("plan after the apply: exit %d\n%s", code, out)
	}
	out, _ = exitCode(t, ns, bin, "apply", "-f", file, "--auto-approve", "--run-dir", dir, "--state-dir", dir, "-o", "json")
	if json.Unmarshal([]byte(out), &res); res.Changed || len(res.DaemonChanges) != 0 {
		t.Fatalf("second apply: %s", out)
	}

	// No daemon: the VRRP instance waits for lbx watch, and plan says so.
	w.Stop(t, stopWithin)
	out, code = exitCode(t, ns, bin, planArgs...)
	if !strings.Contains(out, "no lbx watch is running: VRRP instances and global daemon settings take effect when lbx watch starts") {
		t.Fatalf("plan without a daemon: exit %d\n%s", code, out)
	}
}

// TestPlanDaemonOtherNode: a daemon running one node's view of a fleet
// model is not compared with another node's view (which would list every
// per-node value as a change); plan says so, and compares its own node.
func TestPlanDaemonOtherNode(t *testing.T) {
	fleet := model1 + "nodes:\n  dir1: {vrrp_instances: {VI_1: {priority: 255}}}\n  dir2: {vrrp_instances: {VI_1: {priority: 100, state: BACKUP}}}\n"
	r := newWatchRig(t, "dn", fleet, "--node", "dir1")
	bin, ns, dir, file := r.bin, r.ns, r.dir, r.file
	testkit.Eventually(t, "lbx status", settle, func() bool {
		out, err := ns.Try(bin, "status", "-o", "json", "--run-dir", dir)
		return err == nil && strings.Contains(out, `"node": "dir1"`)
	})
	tests := []struct {
		node, priority string
		code           int
		says           string
	}{
		{node: "dir2", priority: "255", code: 0, says: "runs node dir1's view, not node dir2's"},
		{node: "dir1", priority: "255", code: 0},
		{node: "dir1", priority: "200", code: 2, says: "~ vrrp_instance.VI_1  priority: 255 -> 200"},
	}
	for _, tc := range tests {
		os.WriteFile(file, []byte(strings.Replace(fleet, "dir1: {vrrp_instances: {VI_1: {priority: 255}}}", "dir1: {vrrp_instances: {VI_1: {priority: "+tc.priority+"}}}", 1)), 0o644)
		out, code := exitCode(t, ns, bin, "plan", "-f", file, "--node", tc.node, "--run-dir", dir, "--state-dir", dir, "--detailed-exitcode")
		if code != tc.code || !strings.Contains(out, tc.says) {
			t.Errorf("plan --node %s (dir1 priority %s): exit %d, want %d and %q:\n%s", tc.node, tc.priority, code, tc.code, tc.says, out)
		}
	}
}

// Package ansible tests the lbx.lbx.lbx_model module (contrib/ansible) with
// Debian's ansible-core: real ansible-playbook runs against localhost
// (connection local) whose lbx commands work in a network namespace
// (--netns), with the test's own state and run directories. The host
// kernel has no IPVS: the applied model holds addresses, a route and a
// VRRP instance; IPVS is planned through an exported state (live).
package ansible

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

func TestMain(m *testing.M) {
	os.Exit(testkit.Main(func() int { return nstest.MainGuardingHostDirs(m) }))
}

// template is the model as a Jinja template: line 3 holds the address
// (a run breaks it with a bad prefix length to get a positioned error).
const template = `version: 1
addresses:
  - {address: "{{ vip }}", interface: d0}
routes:
  - {to: 198.51.100.0/24, via: 192.0.2.254}
vrrp_instances:
  - name: VI_1
    interface: d0
    virtual_router_id: 9
    priority: {{ priority | default(150) }}
    version: 3
    advert_int: 0.1
    virtual_addresses: [{address: 192.0.2.50/24}]
`

// playbook runs the module once; the test's variables say how.
const playbook = `- hosts: localhost
  gather_facts: false
  tasks:
    - name: model
      lbx.lbx.lbx_model:
        path: "{{ model_path | default(omit) }}"
        content: "{{ lookup('template', template) if template is defined else omit }}"
        src_name: "{{ src_name | default(omit) }}"
        node: "{{ node | default(omit) }}"
        live: "{{ live | default(omit) }}"
        lbx_path: "{{ lbx }}"
        netns: "{{ netns }}"
        state_dir: "{{ dir }}"
        run_dir: "{{ dir }}"
`

// rig is one namespace, lbx, and a directory with the playbook.
type rig struct {
	t        *testing.T
	ns       *nstest.NS
	dir, bin string
}

func newRig(t *testing.T) *rig {
	nstest.Require(t, "ansible-playbook")
	r := &rig{t: t, dir: t.TempDir()}
	r.bin = filepath.Join(testkit.Binaries(t, "./cmd/lbx"), "lbx")
	r.ns = nstest.New(t, nstest.Unique("an"))
	r.ns.Link(t, "d0", "192.0.2.1/24")
	os.MkdirAll(filepath.Join(r.dir, "templates"), 0o755)
	r.write("templates/lbx.yaml.j2", template)
	r.write("site.yml", playbook)
	return r
}

// with is r for subtest t (whose Fatal must end t, not its parent).
func (r *rig) with(t *testing.T) *rig {
	c := *r
	c.t = t
	return &c
}

func (r *rig) write(name, text string) string {
	p := filepath.Join(r.dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return p
}

// play runs ansible-playbook with vars and flags (such as --check) and
// returns its text output; the tree callback (ansible-core has no json
// one) leaves the task's result in DIR/tree/localhost.
func (r *rig) play(vars map[string]string, flags ...string) (string, error) {
	r.t.Helper()
	all := map[string]string{"lbx": r.bin, "netns": r.ns.Name, "dir": r.dir}
	for k, v := range vars {
		all[k] = v
	}
	extra, _ := json.Marshal(all)
	args := append([]string{"-i", "localhost,", "-c", "local", "-e", string(extra), "site.yml"}, flags...)
	cmd := ansibleCmd(r.dir, "ansible-playbook", args...)
	os.RemoveAll(filepath.Join(r.dir, "tree"))
	cmd.Env = append(cmd.Env, "ANSIBLE_CALLBACKS_ENABLED=ansible.builtin.tree", "ANSIBLE_CALLBACK_TREE_DIR="+filepath.Join(r.dir, "tree"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ansibleCmd runs an Ansible tool in dir (no ansible.cfg of the
// caller's) with the repository's collection, and everything Ansible
// writes (its home, temporary files) under dir: nothing in ~/.ansible.
func ansibleCmd(dir, tool string, args ...string) *exec.Cmd {
	repo, _ := filepath.Abs("../..")
	home := filepath.Join(dir, "ansible-home")
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"ANSIBLE_COLLECTIONS_PATH="+filepath.Join(repo, "contrib/ansible"),
		"ANSIBLE_HOME="+home, "ANSIBLE_LOCAL_TEMP="+filepath.Join(home, "tmp"), "ANSIBLE_REMOTE_TEMP="+filepath.Join(home, "rtmp"),
		"ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3", "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0")
	return cmd
}

// TestAnsibleDoc: ansible-doc reads the module's documentation (YAML in
// the module: a stray "key: value" in a sentence breaks it).
func TestAnsibleDoc(t *testing.T) {
	if _, err := exec.LookPath("ansible-doc"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ansible-doc missing (CI=true: not skipping); scripts/deps.sh installs ansible-core")
		}
		t.Skip("needs ansible-doc (ansible-core)")
	}
	out, err := ansibleCmd(t.TempDir(), "ansible-doc", "lbx.lbx.lbx_model").CombinedOutput()
	for _, want := range []string{"src_name", "live", "node", "daemon_changes"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ansible-doc lacks %q", want)
		}
	}
	if err != nil || t.Failed() {
		t.Fatalf("ansible-doc lbx.lbx.lbx_model: %v\n%s", err, out)
	}
}

// result is the module's result in the json callback's document.
type result struct {
	Changed         bool             `json:"changed"`
	Failed          bool             `json:"failed"`
	Msg             string           `json:"msg"`
	Added           int              `json:"added"`
	KernelWrites    int              `json:"kernel_writes"`
	Notes           []string         `json:"notes"`
	ResourceChanges []map[string]any `json:"resource_changes"`
	DaemonChanges   []map[string]any `json:"daemon_changes"`
	Diagnostics     []struct {
		File string `json:"file"`
		Line int    `json:"line"`
	} `json:"diagnostics"`
}

// run plays and returns the task's result and the text output (where
// --diff shows its diff: the tree callback's result has none).
// ansible-playbook exits 2 when a task failed, which the result, cleaned
// by the callback, does not say.
func (r *rig) run(vars map[string]string, flags ...string) (result, string) {
	r.t.Helper()
	out, err := r.play(vars, flags...)
	b, rerr := os.ReadFile(filepath.Join(r.dir, "tree", "localhost"))
	var res result
	if rerr == nil {
		rerr = json.Unmarshal(b, &res)
	}
	if rerr != nil {
		r.t.Fatalf("the task's result: %v\n%s", rerr, out)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		res.Failed = true
	} else if err != nil {
		r.t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
	return res, out
}

// modelVars are the variables of a run that writes template to the
// model file (modelPath) and applies it.
func (r *rig) modelVars() (modelPath string, vars map[string]string) {
	modelPath = filepath.Join(r.dir, "etc-lbx.yaml")
	return modelPath, map[string]string{"template": "templates/lbx.yaml.j2", "src_name": "templates/lbx.yaml.j2", "model_path": modelPath, "vip": "192.0.2.10/24"}
}

// unchanged runs vars in check mode, then for real, and wants neither
// to fail nor change anything (after says what came before).
func (r *rig) unchanged(vars map[string]string, after string) {
	r.t.Helper()
	for _, flags := range [][]string{{"--check"}, nil} {
		if res, out := r.run(vars, flags...); res.Failed || res.Changed {
			r.t.Fatalf("run %v after %s: %+v\n%s", flags, after, res, out)
		}
	}
}

func (r *rig) addrs() string { return r.ns.Run(r.t, "ip", "-o", "addr", "show", "dev", "d0") }

func TestAnsibleModule(t *testing.T) {
	r := newRig(t)
	modelPath, vars := r.modelVars()

	t.Run("check mode changes nothing", func(t *testing.T) {
		r := r.with(t)
		res, _ := r.run(vars, "--check")
		if res.Failed || !res.Changed || len(res.ResourceChanges) != 2 {
			t.Fatalf("check run: %+v", res)
		}
		if strings.Contains(r.addrs(), "192.0.2.10/24") {
			t.Fatal("check mode added the address")
		}
		if _, err := os.Stat(modelPath); err == nil {
			t.Fatal("check mode wrote the model file")
		}
	})

	t.Run("diff mode shows each object", func(t *testing.T) {
		r := r.with(t)
		out, err := r.play(vars, "--check", "--diff")
		for _, want := range []string{"+++ after: templates/lbx.yaml.j2", "--- before: address.d0/192.0.2.10\n", "+++ after: route.", `"via": "192.0.2.254"`, "changed=1"} {
			if !strings.Contains(out, want) {
				t.Errorf("--diff output lacks %q", want)
			}
		}
		if err != nil || t.Failed() {
			t.Fatalf("%v\n%s", err, out)
		}
	})

	t.Run("a failing model names the template", func(t *testing.T) {
		r := r.with(t)
		bad := map[string]string{}
		for k, v := range vars {
			bad[k] = v
		}
		bad["vip"] = "192.0.2.10/33"
		res, _ := r.run(bad)
		if !res.Failed || !strings.Contains(res.Msg, "templates/lbx.yaml.j2:3:") || strings.Contains(res.Msg, "lbx-model-") ||
			len(res.Diagnostics) != 1 || res.Diagnostics[0].File != "templates/lbx.yaml.j2" || res.Diagnostics[0].Line != 3 {
			t.Fatalf("failing model: %+v", res)
		}
		if _, err := os.Stat(modelPath); err == nil {
			t.Fatal("an invalid model was written")
		}
	})

	t.Run("apply", func(t *testing.T) {
		r := r.with(t)
		res, _ := r.run(vars)
		if res.Failed || !res.Changed || res.Added != 2 || res.KernelWrites == 0 {
			t.Fatalf("apply: %+v", res)
		}
		if !strings.Contains(r.addrs(), "192.0.2.10/24") {
			t.Fatalf("address not applied: %s", r.addrs())
		}
		if !strings.Contains(strings.Join(res.Notes, "\n"), "take effect when lbx watch starts") {
			t.Errorf("apply without lbx watch does not say when VRRP takes effect: %q", res.Notes)
		}
		if b, _ := os.ReadFile(modelPath); !strings.Contains(string(b), `address: "192.0.2.10/24"`) {
			t.Fatalf("model file: %s", b)
		}
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		r.with(t).unchanged(vars, "apply")
	})

	t.Run("node", func(t *testing.T) {
		r := r.with(t)
		if help, _ := exec.Command(r.bin, "plan", "--help").Output(); !strings.Contains(string(help), "--node") {
			t.Skip("lbx has no --node yet")
		}
		fleet := template + "nodes:\n  dir1: {vrrp_instances: {VI_1: {priority: 200}}}\n  dir2: {vrrp_instances: {VI_1: {priority: 100}}}\n"
		r.write("templates/fleet.yaml.j2", fleet)
		v := map[string]string{"template": "templates/fleet.yaml.j2", "src_name": "fleet.yaml.j2", "vip": "192.0.2.10/24", "node": "dir1"}
		if res, _ := r.run(v, "--check"); res.Failed {
			t.Fatalf("node dir1: %+v", res)
		}
		v["node"] = "dir3"
		if res, _ := r.run(v, "--check"); !res.Failed || !strings.Contains(res.Msg, `"dir3"`) {
			t.Fatalf("node dir3 is no node of the model: %+v", res)
		}
	})
}

// TestAnsibleLiveExport: a model with IPVS services, planned against the
// state lbx export recorded on a director (here a file of export's
// shape): check mode reports the real server's new weight, and nothing
// when they agree.
func TestAnsibleLiveExport(t *testing.T) {
	r := newRig(t)
	ipvs := func(weight string) string {
		return `version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    protocol: tcp
    scheduler: wlc
    forwarding: nat
    real_servers:
      - {address: 10.1.0.2, port: 80, weight: ` + weight + `}
`
	}
	live := r.write("live.yaml", ipvs("1"))
	r.write("templates/ipvs.yaml.j2", ipvs("{{ weight }}"))
	tests := []struct {
		weight  string
		changed bool
		diff    string // in --diff's output
	}{
		{weight: "3", changed: true, diff: `+  "weight": 3`},
		{weight: "1", changed: false},
	}
	for _, tc := range tests {
		t.Run("weight "+tc.weight, func(t *testing.T) {
			r := r.with(t)
			res, out := r.run(map[string]string{"template": "templates/ipvs.yaml.j2", "src_name": "ipvs.yaml.j2", "weight": tc.weight, "live": live}, "--check", "--diff")
			if res.Failed || res.Changed != tc.changed {
				t.Fatalf("plan against the export: %+v\n%s", res, out)
			}
			if tc.diff != "" && (!strings.Contains(out, tc.diff) || !strings.Contains(out, "+++ after: real.tcp/10.0.0.1:80/10.1.0.2:80")) {
				t.Fatalf("diff lacks %q or the real server's header:\n%s", tc.diff, out)
			}
		})
	}
	// live never applies.
	if res, _ := r.run(map[string]string{"template": "templates/ipvs.yaml.j2", "weight": "3", "live": live}); !res.Failed || !strings.Contains(res.Msg, "check mode") {
		t.Fatalf("live outside check mode: %+v", res)
	}
}

// TestAnsibleWithWatch: with lbx watch running the model file, a VRRP
// priority (which only the daemon carries out) is a change: check mode
// reports it with the daemon's object in --diff and leaves the file and
// the daemon alone, the apply reloads the daemon and reports what it
// applied, and the next run changes nothing.
func TestAnsibleWithWatch(t *testing.T) {
	r := newRig(t)
	modelPath, vars := r.modelVars()
	if res, out := r.run(vars); res.Failed || !res.Changed {
		t.Fatalf("first apply: %+v\n%s", res, out)
	}
	nstest.Background(t, r.ns.Cmd(r.bin, "watch", "-f", modelPath, "--state-dir", r.dir, "--run-dir", r.dir), "lbx watch")
	priority := func() int {
		out, err := r.ns.Try(r.bin, "status", "-o", "json", "--run-dir", r.dir)
		var st struct {
			VRRP []struct {
				State    string `json:"state"`
				Priority int    `json:"priority"`
			} `json:"vrrp"`
		}
		if err != nil || json.Unmarshal([]byte(out), &st) != nil || len(st.VRRP) != 1 || st.VRRP[0].State != "MASTER" {
			return 0
		}
		return st.VRRP[0].Priority
	}
	waitPriority := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); priority() != want; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("lbx watch never reported priority %d as MASTER", want)
			}
		}
	}
	waitPriority(150)
	before, _ := os.ReadFile(modelPath)

	vars["priority"] = "200"
	res, out := r.run(vars, "--check", "--diff")
	if res.Failed || !res.Changed || len(res.DaemonChanges) != 1 || !strings.Contains(out, "+++ after: vrrp_instance.VI_1 (lbx watch)") || !strings.Contains(out, `+  "priority": 200`) {
		t.Fatalf("check mode of a priority change: %+v\n%s", res, out)
	}
	if now, _ := os.ReadFile(modelPath); string(now) != string(before) || priority() != 150 {
		t.Fatal("check mode changed the file or the daemon")
	}
	res, out = r.run(vars)
	if res.Failed || !res.Changed || len(res.DaemonChanges) != 1 || res.DaemonChanges[0]["address"] != "vrrp_instance.VI_1" {
		t.Fatalf("apply of a priority change: %+v\n%s", res, out)
	}
	waitPriority(200)
	r.unchanged(vars, "the reload")
}

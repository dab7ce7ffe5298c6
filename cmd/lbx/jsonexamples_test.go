package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/model"
)

var updateExamples = flag.Bool("update", false, "rewrite the examples in docs/json.md from what lbx prints")

// examplesDoc holds the JSON documents' examples, each a ```json block
// under an <!-- example: NAME --> line.
const examplesDoc = "../../docs/json.md"

var socketRE = regexp.MustCompile(`/etc/lbx/lbx-netns-[0-9]+\.sock`)

var exampleRE = regexp.MustCompile("(?s)<!-- example: ([a-z-]+) -->\n```json\n(.*?)```\n")

// unstable are the fields whose values change from run to run (times,
// pids, hashes, counters, the build): compared by presence only.
var unstable = map[string]bool{
	"pid": true, "start_time": true, "last_reload": true, "last_reconcile": true, "master_since": true,
	"last_transition": true, "counters": true, "fingerprint": true, "go": true, "build": true, "commit": true,
	"last_check": true, "latency_seconds": true,
}

// masked is a document with unstable values replaced (a string
// "version" too: the build's, where a number is a format's).
func masked(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			_, isString := e.(string)
			if unstable[k] || (k == "version" && isString) {
				out[k] = "(varies)"
			} else {
				out[k] = masked(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = masked(e)
		}
		return out
	}
	return v
}

// exampleModel is the model the examples are made of. Its directory is
// shown as /etc/lbx.
const exampleModel = `version: 1
addresses:
  - {address: 192.0.2.10/24, interface: eth0}
routes:
  - {to: 198.51.100.0/24, via: 192.0.2.254}
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    priority: 150
    version: 3
    advert_int: 0.1
    virtual_addresses: [{address: 192.0.2.50/24}]
`

const exampleKeepalived = `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        192.0.2.50/24
    }
}
virtual_server 192.0.2.50 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.0.0.11 8080 {
        weight 2
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
`

// TestJSONExamples: every example in docs/json.md is what lbx prints,
// made in a namespace from exampleModel (and a keepalived.conf for
// convert), its unstable values aside. go test -run TestJSONExamples
// -update rewrites them.
func TestJSONExamples(t *testing.T) {
	nstest.Require(t)
	lbx := filepath.Join(buildBinaries(t), "lbx")
	ns := nstest.New(t, nstest.Unique("lbxe"))
	ns.Link(t, "eth0", "192.0.2.1/24")
	dir := t.TempDir()
	file := writeFile(t, dir, "lbx.yaml", exampleModel)
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(exampleModel, "virtual_router_id: 51", "virtual_router_id: 300", 1))
	conf := writeFile(t, dir, "keepalived.conf", exampleKeepalived)
	target := []string{"--netns", ns.Name, "--state-dir", dir, "--run-dir", dir}
	got := map[string]string{}
	// status has no --netns: it runs in the namespace (ip netns exec).
	inNS := func(args ...string) []string { return append([]string{"netns", "exec", ns.Name, lbx}, args...) }
	do := func(name string, args ...string) {
		t.Helper()
		bin := lbx
		if args[0] == "netns" {
			bin = "ip"
		}
		out, stderr, _ := runOut(t, bin, args...)
		if !json.Valid([]byte(out)) {
			t.Fatalf("%s: lbx %v printed no JSON document:\n%s\n%s", name, args, out, stderr)
		}
		out = strings.ReplaceAll(out, dir, "/etc/lbx")
		got[name] = socketRE.ReplaceAllString(out, "/run/lbx/lbx.sock") // the namespace's is named by its inode
	}

	do("version", "version", "-o", "json")
	do("validate", "validate", "-o", "json", "-f", file)
	do("validate-error", "validate", "-o", "json", "-f", bad)
	do("plan", append([]string{"plan", "-o", "json", "-f", file}, target...)...)
	do("apply", append([]string{"apply", "-o", "json", "--auto-approve", "-f", file}, target...)...)
	do("export-error", append([]string{"export", "-o", "json"}, target...)...)
	do("convert", "convert", "-o", "json", conf)

	watch := exec.Command("ip", "netns", "exec", ns.Name, lbx, "watch", "-f", file, "--state-dir", dir, "--run-dir", dir)
	var wlog bytes.Buffer
	watch.Stderr = &wlog
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		watch.Process.Kill()
		watch.Wait()
	}()
	statusArgs := inNS("status", "-o", "json", "--run-dir", dir)
	var last string
	waitUntil(t, "VI_1 MASTER with its address held", &wlog, &last, func() bool {
		out, _, code := runOut(t, "ip", statusArgs...)
		last = out
		return code == 0 && strings.Contains(out, `"state": "MASTER"`) && strings.Contains(out, `"held": true`)
	})
	do("status", statusArgs...)
	writeFile(t, dir, "lbx.yaml", strings.Replace(exampleModel, "priority: 150", "priority: 200", 1))
	do("plan-daemon", append([]string{"plan", "-o", "json", "-f", file}, target...)...)
	do("apply-daemon", append([]string{"apply", "-o", "json", "--auto-approve", "-f", file}, target...)...)
	watch.Process.Signal(syscall.SIGTERM)
	watch.Wait()
	do("status-error", statusArgs...)

	if *updateExamples {
		rewriteExamples(t, got)
		return
	}
	text, err := os.ReadFile(examplesDoc)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range exampleRE.FindAllStringSubmatch(string(text), -1) {
		name, want := m[1], m[2]
		seen[name] = true
		out, ok := got[name]
		if !ok {
			t.Errorf("docs/json.md: example %q is made by no command of the test", name)
			continue
		}
		var w, g any
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Errorf("docs/json.md: example %q: %v", name, err)
			continue
		}
		json.Unmarshal([]byte(out), &g)
		if !reflect.DeepEqual(masked(w), masked(g)) {
			t.Errorf("docs/json.md: example %q is not what lbx prints (go test ./cmd/lbx -run TestJSONExamples -update rewrites it):\n%s", name, out)
		}
	}
	for name := range got {
		if !seen[name] {
			t.Errorf("docs/json.md has no example %q", name)
		}
	}
}

// rewriteExamples replaces each example's block with what lbx printed.
func rewriteExamples(t *testing.T, got map[string]string) {
	text, err := os.ReadFile(examplesDoc)
	if err != nil {
		t.Fatal(err)
	}
	out := exampleRE.ReplaceAllStringFunc(string(text), func(block string) string {
		name := exampleRE.FindStringSubmatch(block)[1]
		if doc, ok := got[name]; ok {
			return fmt.Sprintf("<!-- example: %s -->\n```json\n%s```\n", name, doc)
		}
		return block
	})
	if err := os.WriteFile(examplesDoc, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitUntil polls cond for 15 s, then fails with the daemon's log and
// the last thing cond saw.
func waitUntil(t *testing.T, what string, log *bytes.Buffer, last *string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; lbx watch's log:\n%s\nlast seen:\n%s", what, log, *last)
		}
	}
}

// TestExportJSONIsAModel: export -o json prints the model under its own
// field names and formats, which lbx reads back as the same model.
func TestExportJSONIsAModel(t *testing.T) {
	tests := []string{
		"version: 1\n",
		"version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    protocol: tcp\n    scheduler: wlc\n    persistence: {timeout: 5m, granularity: 24}\n    real_servers: [{address: 10.1.0.2, port: 8080, weight: 3, forwarding: nat}]\n",
		"version: 1\naddresses: [{address: 192.0.2.10/24, interface: eth0, label: eth0:vip}]\nroutes: [{to: 198.51.100.0/24, via: 192.0.2.254, metric: 10}]\n",
	}
	for _, in := range tests {
		m, err := model.Parse([]byte(in), "in.yaml")
		if err != nil {
			t.Fatal(err)
		}
		y, err := model.MarshalYAML(m)
		if err != nil {
			t.Fatal(err)
		}
		var js bytes.Buffer
		if err := writeModelJSON(&js, y); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(js.String(), `"Version"`) || !strings.Contains(js.String(), `"version": 1`) {
			t.Fatalf("not the model's field names:\n%s", js.String())
		}
		back, err := model.Parse(js.Bytes(), "export.json")
		if err != nil {
			t.Fatalf("lbx does not read export's JSON back: %v\n%s", err, js.String())
		}
		if y2, _ := model.MarshalYAML(back); !bytes.Equal(y, y2) {
			t.Fatalf("round trip through JSON:\n%s\nbecame\n%s", y, y2)
		}
	}
}

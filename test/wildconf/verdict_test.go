package wildconf

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
	kaverdict "github.com/lbx-dev/lbx/test/wildconf/verdict"
)

var update = flag.Bool("update", false, "rewrite testdata/verdicts.json from keepalived's own runs")

const verdictFile = "testdata/verdicts.json"

// configID is keepalived's -i and lbx's ConfigID: without it both would
// take the host name, and @conditionals would depend on the machine.
const configID = "lbxtest"

// verdict is what `keepalived -t` said of a file (verdict.Verdict: its
// Accepted says whether keepalived runs with it).
type verdict = kaverdict.Verdict

func loadVerdicts(t *testing.T) map[string]verdict {
	t.Helper()
	data, err := os.ReadFile(verdictFile)
	if err != nil {
		t.Fatalf("%v (record keepalived's verdicts: go test ./test/wildconf -run WildVerdicts -update, as root)", err)
	}
	vs := map[string]verdict{}
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatalf("%s: %v", verdictFile, err)
	}
	return vs
}

func writeVerdicts(t *testing.T, vs map[string]verdict) {
	t.Helper()
	data, err := json.MarshalIndent(vs, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(verdictFile, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// skip skips outside CI; under CI=true a test that cannot run fails.
func skip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and keepalived's verdicts cannot be checked: %s", why)
	}
	testkit.Skip(t, why)
}

func requireKeepalived(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		skip(t, "needs root (network namespaces)")
	}
	for _, tool := range []string{"keepalived", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip(t, tool+" missing (scripts/deps.sh installs keepalived and iproute2)")
		}
	}
}

var nsSeq atomic.Int64

// netns makes a namespace holding the interfaces (veth pairs: this host
// has no dummy links); it is deleted, veths and all, when the test ends.
func netns(t *testing.T, ifaces []string) string {
	t.Helper()
	ns := fmt.Sprintf("lbxwc%d-%d", os.Getpid(), nsSeq.Add(1))
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	for i, name := range ifaces {
		peer := fmt.Sprintf("wcp%d", i)
		run(t, "ip", "-n", ns, "link", "add", name, "type", "veth", "peer", "name", peer)
		run(t, "ip", "-n", ns, "link", "set", name, "up")
		run(t, "ip", "-n", ns, "link", "set", peer, "up")
	}
	return ns
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// keepalivedVerdict runs keepalived's configuration test on the entry in
// a fresh namespace. Messages name files relative to the store, as the
// manifest does, so that the verdicts do not depend on where it lives.
func keepalivedVerdict(t *testing.T, e entry) verdict {
	t.Helper()
	ns := netns(t, e.Interfaces)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := e.configPath()
	script := bindPlaced("mount", placeTree(t, e)) + "exec keepalived -t -l -n -i " + configID + " -f " + path
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "/bin/sh", "-c", script)
	out, err := cmd.CombinedOutput()
	v := verdict{Messages: []string{}}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		v.Exit = exit.ExitCode()
	case err != nil:
		t.Fatalf("keepalived -t %s: %v\n%s", path, err, out)
	}
	// ${_PWD} is the real path: the store may be reached through a link.
	real, _ := filepath.EvalSymlinks(e.root())
	strip := strings.NewReplacer(e.root()+"/", "", real+"/", "")
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimRight(line, " \t"); line != "" {
			v.Messages = append(v.Messages, strip.Replace(line))
		}
	}
	return v
}

// TestWildVerdicts runs Debian's keepalived 2.2.7 `keepalived -t`
// on every file here and compares with the recorded verdicts, which the
// conversion test relies on. -update records them again.
func TestWildVerdicts(t *testing.T) {
	requireKeepalived(t)
	recorded := map[string]verdict{}
	if _, err := os.Stat(verdictFile); err == nil || !*update {
		recorded = loadVerdicts(t)
	}
	for _, e := range presentEntries(t) {
		t.Run(e.Name, func(t *testing.T) {
			got := keepalivedVerdict(t, e)
			if *update {
				recorded[e.Name] = got
				return
			}
			want, ok := recorded[e.Name]
			if !ok {
				t.Fatalf("no verdict recorded in %s (run with -update)", verdictFile)
			}
			if d := diffVerdict(want, got); d != "" {
				t.Errorf("keepalived's verdict changed (check, then -update): %s", d)
			}
		})
	}
	if *update {
		writeVerdicts(t, recorded)
	}
}

// diffVerdict describes the first difference, "" when there is none.
func diffVerdict(want, got verdict) string {
	if want.Exit != got.Exit {
		return fmt.Sprintf("exit %d, recorded %d", got.Exit, want.Exit)
	}
	for i := 0; i < len(want.Messages) || i < len(got.Messages); i++ {
		w, g := "(none)", "(none)"
		if i < len(want.Messages) {
			w = want.Messages[i]
		}
		if i < len(got.Messages) {
			g = got.Messages[i]
		}
		if w != g {
			return fmt.Sprintf("message %d is\n  %s\nrecorded\n  %s", i+1, g, w)
		}
	}
	return ""
}

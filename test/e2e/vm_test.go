// Package e2e is lbx's real-kernel test tier: it boots one throwaway qemu VM
// with a Debian cloud kernel (which has IPVS; the host's has not), runs the
// bash scenarios of scenarios/ in it against a freshly built static lbx, and
// reports each scenario as its own subtest. See README.md.
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// skip skips the test with one line saying why, but under CI=true a skip
// would hide a missing tier, so it fails instead.
func skip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and the VM tier cannot run: %s", why)
	}
	testkit.Skip(t, "VM tier skipped: "+why)
}

// requireVM checks what the VM tier needs (scripts/deps.sh installs it).
func requireVM(t *testing.T) {
	t.Helper()
	if testing.Short() {
		skip(t, "-short")
	}
	if os.Geteuid() != 0 {
		skip(t, "needs root (apt-get for the kernel package and qemu)")
	}
	_, aptErr := exec.LookPath("apt-get")
	if _, err := os.Stat(".assets/stamp"); err != nil && aptErr != nil {
		skip(t, "no apt-get to fetch the kernel package and no cached assets in test/e2e/.assets")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		skip(t, "qemu-system-x86_64 missing (scripts/deps.sh installs it: apt-get install qemu-system-x86)")
	}
	if _, err := exec.LookPath("busybox"); err != nil {
		skip(t, "busybox missing (scripts/deps.sh installs it: apt-get install busybox-static)")
	}
}

func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }

// buildLBX builds the static lbx the guest runs.
func buildLBX(t *testing.T) string {
	t.Helper()
	// lbx and, next to it, its checker processes and BGP speaker (vm.sh
	// copies them).
	return filepath.Join(testkit.Binaries(t, "./cmd/lbx", "./cmd/lbx-check", "./cmd/lbx-check-tls", "./cmd/lbx-bgp"), "lbx")
}

// scenarioNames lists scenarios/*.sh (without .sh), sorted.
func scenarioNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("scenarios/*.sh")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in test/e2e/scenarios (%v)", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".sh"))
	}
	sort.Strings(names)
	return names
}

// TestVM boots one VM, runs every scenario (or those named, as shell globs,
// in LBX_E2E_SCENARIOS) and reports each as a subtest.
func TestVM(t *testing.T) {
	requireVM(t)
	selected := strings.Fields(os.Getenv("LBX_E2E_SCENARIOS"))
	var want []string
	for _, n := range scenarioNames(t) {
		if matchAny(n, selected) {
			want = append(want, n)
		}
	}
	if len(want) == 0 {
		t.Fatalf("LBX_E2E_SCENARIOS=%q matches no scenario", os.Getenv("LBX_E2E_SCENARIOS"))
	}
	lbx := buildLBX(t)

	// The boot must end before the test binary's deadline, so that a hung
	// guest is reported here with its console, not as a Go panic.
	limit := 20 * time.Minute
	if d, ok := t.Deadline(); ok {
		limit = time.Until(d) - 30*time.Second
	}
	cmd := exec.Command("./vm.sh", append([]string{"test"}, selected...)...)
	cmd.Env = append(os.Environ(), "LBX_BIN="+lbx, "LBX_E2E_TIMEOUT="+strconv.Itoa(int(limit.Seconds())))
	var console bytes.Buffer
	var w io.Writer = &console
	if testing.Verbose() {
		// Progress while the VM runs: one line per finished scenario.
		w = io.MultiWriter(&console, &progress{t: t})
	}
	cmd.Stdout = w
	cmd.Stderr = w
	start := time.Now()
	runErr := cmd.Run()
	elapsed := time.Since(start)

	res := Parse(console.String())
	if !res.Done {
		t.Errorf("the VM did not finish its run (vm.sh: %v); console tail:\n%s", runErr, tail(console.String(), 60))
	}
	pass, fail := 0, 0
	for _, n := range want {
		r, ok := res.Scenarios[n]
		switch {
		case !ok:
			fail++
		case r.Pass:
			pass++
		default:
			fail++
		}
		t.Run(n, func(t *testing.T) {
			if !ok {
				t.Fatalf("scenario %s did not report (the VM stopped before it)", n)
			}
			if !r.Pass {
				t.Fatalf("scenario %s FAILED in the VM after %ds; guest log:\n%s", n, r.Seconds, r.Log)
			}
			// Measurements of a passing scenario (reaction times) are
			// part of its result: shown with -v (make e2e).
			for _, l := range strings.Split(r.Log, "\n") {
				if m, ok := strings.CutPrefix(l, "@@BENCH "); ok {
					t.Log(m)
				}
			}
			t.Logf("PASS in %ds", r.Seconds)
		})
	}
	fmt.Printf("VM tier: %d scenarios, %d passed, %d failed, one boot in %s (kernel %s)\n",
		len(want), pass, fail, elapsed.Round(time.Second), kernelVersion())
}

func kernelVersion() string {
	b, _ := os.ReadFile(".assets/kernel-version")
	return strings.TrimSpace(string(b))
}

func matchAny(name string, globs []string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, _ := filepath.Match(g, name); ok {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// progress logs each "@@SCENARIO" line as the console produces it.
type progress struct {
	t   *testing.T
	buf []byte
}

func (p *progress) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := string(p.buf[:i])
		p.buf = p.buf[i+1:]
		if strings.HasPrefix(line, "@@SCENARIO ") || strings.HasPrefix(line, "assets:") {
			fmt.Fprintln(os.Stderr, "e2e:", strings.TrimPrefix(line, "@@"))
		}
	}
}

// Result is one scenario's outcome as the guest reported it.
type Result struct {
	Pass    bool
	Seconds int
	Log     string
}

// Run is a parsed console.
type Run struct {
	Scenarios map[string]Result
	Done      bool // the runner printed @@DONE
}

// Parse reads the guest console protocol (see guest/run-scenarios.sh):
//
//	@@BEGIN name / log lines / @@SCENARIO name PASS|FAIL secs ... @@DONE
//
// Lines outside a scenario (kernel messages, asset logs) are ignored; a
// result line without its BEGIN still counts, with an empty log.
func Parse(console string) Run {
	r := Run{Scenarios: map[string]Result{}}
	var cur string
	var log []string
	sc := bufio.NewScanner(strings.NewReader(console))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "@@BEGIN "):
			cur, log = strings.TrimSpace(strings.TrimPrefix(line, "@@BEGIN ")), nil
		case strings.HasPrefix(line, "@@SCENARIO "):
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			secs := 0
			if len(f) > 3 {
				secs, _ = strconv.Atoi(f[3])
			}
			res := Result{Pass: f[2] == "PASS", Seconds: secs}
			if f[1] == cur {
				res.Log = strings.Join(log, "\n")
			}
			r.Scenarios[f[1]] = res
			cur, log = "", nil
		case strings.HasPrefix(line, "@@DONE"):
			r.Done = true
		case cur != "":
			log = append(log, line)
		}
	}
	return r
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/cmd/lbx/internal/ops"
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// runOut runs lbx and returns its stdout, stderr and exit code.
func runOut(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// doc is what every -o json document has in common.
type doc struct {
	FormatVersion any   `json:"format_version"`
	OK            *bool `json:"ok"`
	Error         *struct {
		Message     string
		Code        int
		Kind        string
		Diagnostics []struct {
			File, Path, Message string
			Line, Column        int
		}
	}
	Notes   []string
	Changed bool
	Added   int
}

// oneDocument parses stdout as exactly one JSON object: one value, then
// the end of the stream.
func oneDocument(t *testing.T, stdout string) doc {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var d doc
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("stdout is not a JSON document: %v\n%s", err, stdout)
	}
	var more json.RawMessage
	if err := dec.Decode(&more); err != io.EOF {
		t.Fatalf("stdout has more than one JSON value (%v):\n%s", err, stdout)
	}
	if d.FormatVersion == nil || d.FormatVersion == "" || d.OK == nil {
		t.Fatalf("document without format_version or ok:\n%s", stdout)
	}
	return d
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// An addresses-and-routes model: no IPVS needed.
const netModel = "version: 1\naddresses:\n  - {address: 10.77.0.1/24, interface: eth0}\nroutes:\n  - {to: 10.78.0.0/24, via: 10.77.0.254}\n"

// kernelMayHaveIPVS: ip_vs is loaded, or could be loaded by the modprobe
// lbx runs; then "no IPVS" cannot be shown without changing the host.
func kernelMayHaveIPVS() bool {
	for _, p := range []string{"/proc/net/ip_vs", "/sys/module/ip_vs"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	var uts strings.Builder
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		uts.Write(bytes.TrimSpace(out))
	}
	found := false
	filepath.WalkDir(filepath.Join("/lib/modules", uts.String()), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), "ip_vs.ko") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// netnsFixture is a namespace with an up eth0, and the state and run
// directories of the test's own.
type netnsFixture struct {
	ns         *nstest.NS
	state, run string
	flags      []string // --netns, --state-dir, --run-dir
}

func newNetnsFixture(t *testing.T) *netnsFixture {
	t.Helper()
	nstest.Require(t)
	ns := nstest.New(t, nstest.Unique("lbxj"))
	ns.Link(t, "eth0")
	f := &netnsFixture{ns: ns, state: t.TempDir(), run: t.TempDir()}
	f.flags = []string{"--netns", ns.Name, "--state-dir", f.state, "--run-dir", f.run}
	return f
}

func (f *netnsFixture) args(args ...string) []string { return append(args, f.flags...) }

// TestJSONOnFailure: whatever ends a command, -o json prints exactly one
// document on stdout, with ok false and the error (message, exit code,
// kind, a model's positioned errors), and the exit code stays the
// documented one.
func TestJSONOnFailure(t *testing.T) {
	dir := buildBinaries(t)
	lbx := filepath.Join(dir, "lbx")
	tmp := t.TempDir()
	broken := writeFile(t, tmp, "broken.yaml", "version: 1\nvirtual_servers:\n  - address: 192.0.2.1\n    port: 99999\n")
	services := writeFile(t, tmp, "vs.yaml", "version: 1\nvirtual_servers:\n  - address: 192.0.2.1\n    port: 80\n    protocol: tcp\n    real_servers: [{address: 10.77.0.9, port: 80}]\n")
	network := writeFile(t, tmp, "net.yaml", netModel)
	partial := writeFile(t, tmp, "partial.yaml", netModel+"  - {to: 10.79.0.0/24, via: 10.99.0.254}\n")

	for _, tc := range []struct {
		name   string
		netns  bool // needs a namespace (root)
		noIPVS bool // needs a kernel without IPVS
		// args builds the command line (f is nil unless netns).
		args func(t *testing.T, f *netnsFixture) []string
		code int
		kind string
		says string
		diag bool // the model's positioned errors are listed
	}{
		{name: "plan invalid model", args: func(*testing.T, *netnsFixture) []string { return []string{"plan", "-o", "json", "-f", broken} },
			code: 1, kind: "invalid_model", says: "want 1..65535", diag: true},
		{name: "apply invalid model", args: func(*testing.T, *netnsFixture) []string {
			return []string{"apply", "-o", "json", "--auto-approve", "-f", broken, "--run-dir", tmp, "--state-dir", tmp}
		}, code: 1, kind: "invalid_model", says: "want 1..65535", diag: true},
		{name: "validate invalid model", args: func(*testing.T, *netnsFixture) []string { return []string{"validate", "-o", "json", "-f", broken} },
			code: 1, kind: "invalid_model", says: "want 1..65535", diag: true},
		{name: "plan missing file", args: func(*testing.T, *netnsFixture) []string {
			return []string{"plan", "-o", "json", "-f", filepath.Join(tmp, "none.yaml")}
		}, code: 1, kind: "error", says: "none.yaml"},
		// The bad flag comes before -o: cobra never parsed -o.
		{name: "plan bad flag", args: func(*testing.T, *netnsFixture) []string {
			return []string{"plan", "--bogus", "-o", "json", "-f", network}
		},
			code: 1, kind: "usage", says: "unknown flag: --bogus"},
		{name: "status without a daemon", args: func(*testing.T, *netnsFixture) []string {
			return []string{"status", "-o", "json", "--run-dir", tmp}
		}, code: 1, kind: "error", says: "no lbx watch is running"},
		{name: "convert missing file", args: func(*testing.T, *netnsFixture) []string {
			return []string{"convert", "-o", "json", filepath.Join(tmp, "none.conf")}
		}, code: 1, kind: "error", says: "nothing converted"},
		{name: "plan services without IPVS", netns: true, noIPVS: true, args: func(_ *testing.T, f *netnsFixture) []string {
			return f.args("plan", "-o", "json", "-f", services)
		}, code: 1, kind: "no_ipvs", says: "modprobe ip_vs"},
		{name: "apply without IPVS, services owned from an earlier model", netns: true, noIPVS: true, args: func(t *testing.T, f *netnsFixture) []string {
			id, err := paths.NetnsID(f.ns.Name)
			if err != nil {
				t.Fatal(err)
			}
			r, err := apply.OpenOwnerRecord(f.state, id)
			if err != nil {
				t.Fatal(err)
			}
			k, _ := state.ParseServiceKey("tcp/192.0.2.1:80")
			if err := r.Claim([]plan.Change{{Kind: plan.KindService, Action: plan.Create, Service: k}}); err != nil {
				t.Fatal(err)
			}
			return f.args("apply", "-o", "json", "--auto-approve", "-f", network)
		}, code: 1, kind: "no_ipvs", says: "(tcp/192.0.2.1:80); IPVS is needed to delete them"},
		{name: "apply with the lock held", netns: true, args: func(t *testing.T, f *netnsFixture) []string {
			path, err := paths.Lock(f.run, f.ns.Name)
			if err != nil {
				t.Fatal(err)
			}
			l, err := apply.AcquireLock(context.Background(), path, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(l.Release)
			return f.args("apply", "-o", "json", "--auto-approve", "--lock-timeout", "200ms", "-f", network)
		}, code: cli.ExitLocked, kind: "locked", says: "lock"},
		{name: "apply a stale plan", netns: true, args: func(t *testing.T, f *netnsFixture) []string {
			saved := filepath.Join(t.TempDir(), "plan.json")
			if _, stderr, code := runOut(t, lbx, f.args("plan", "-f", network, "--out", saved)...); code != 0 {
				t.Fatalf("plan --out: exit %d\n%s", code, stderr)
			}
			f.ns.Run(t, "ip", "addr", "add", "10.77.0.1/24", "dev", "eth0") // behind the plan's back
			return f.args("apply", "-o", "json", saved)
		}, code: cli.ExitStale, kind: "stale_plan", says: "stale"},
		{name: "apply stopped part-way", netns: true, args: func(_ *testing.T, f *netnsFixture) []string {
			return f.args("apply", "-o", "json", "--auto-approve", "-f", partial)
		}, code: cli.ExitPartial, kind: "partial", says: "network is unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f *netnsFixture
			if tc.netns {
				f = newNetnsFixture(t)
			}
			if tc.noIPVS && kernelMayHaveIPVS() {
				testkit.Skip(t, "this kernel has IPVS (or the module to load it)")
			}
			stdout, stderr, code := runOut(t, lbx, tc.args(t, f)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			d := oneDocument(t, stdout)
			if *d.OK || d.Error == nil {
				t.Fatalf("want ok false and an error:\n%s", stdout)
			}
			if d.Error.Code != code || d.Error.Kind != tc.kind || !strings.Contains(d.Error.Message, tc.says) {
				t.Errorf("error %+v, want code %d, kind %q, a message with %q", *d.Error, code, tc.kind, tc.says)
			}
			if got := len(d.Error.Diagnostics) > 0; got != tc.diag {
				t.Errorf("diagnostics %+v, want some: %v", d.Error.Diagnostics, tc.diag)
			}
			for _, dg := range d.Error.Diagnostics {
				if dg.File != broken || dg.Line == 0 || dg.Column == 0 || dg.Path == "" || dg.Message == "" {
					t.Errorf("diagnostic %+v: want file %s, line, column, path and message", dg, broken)
				}
			}
			if !strings.Contains(stderr, tc.says) {
				t.Errorf("stderr lacks the error %q:\n%s", tc.says, stderr)
			}
		})
	}
}

// TestOutputRefused: every command refuses an -o it does not print, with
// exit 1, nothing on stdout and one error naming the formats.
func TestOutputRefused(t *testing.T) {
	dir := buildBinaries(t)
	m := writeFile(t, t.TempDir(), "m.yaml", netModel)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "-f", m}, "want text or json"},
		{[]string{"apply", "-f", m}, "want text or json"},
		{[]string{"validate", "-f", m}, "want text or json"},
		{[]string{"version"}, "want text or json"},
		{[]string{"status"}, "want text or json"},
		{[]string{"export"}, "want yaml or json"},
		{[]string{"convert", m}, "want yaml or json"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			stdout, stderr, code := runOut(t, filepath.Join(dir, "lbx"), append(tc.args, "-o", "bogus")...)
			if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 ||
				!strings.Contains(stderr, `invalid argument "bogus" for "-o, --output" flag: `+tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit 1, no output, one error %q", code, stdout, stderr, tc.want)
			}
		})
	}
}

// TestEveryOutputFlagIsChecked: a command's -o is OutputFlag's, so no
// command can take a format it does not check.
func TestEveryOutputFlagIsChecked(t *testing.T) {
	n := 0
	for _, c := range rootCmd.Commands() {
		f := c.Flags().Lookup("output")
		if f == nil {
			continue
		}
		n++
		if _, ok := f.Value.(*Output); !ok {
			t.Errorf("lbx %s: -o is a %T, want OutputFlag's", c.Name(), f.Value)
		}
	}
	if n == 0 {
		t.Fatal("no command with -o found")
	}
}

// TestJSONOnSuccess: the documents carry their format_version and ok.
func TestJSONOnSuccess(t *testing.T) {
	dir := buildBinaries(t)
	m := writeFile(t, t.TempDir(), "m.yaml", netModel)
	for _, tc := range []struct {
		args    []string
		version any
	}{
		{[]string{"validate", "-o", "json", "-f", m}, validateFormatVersion},
		{[]string{"version", "-o", "json"}, versionFormatVersion},
		{[]string{"plan", "-o", "json", "-f", m, "--live", m}, plan.FormatVersion},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			stdout, stderr, code := runOut(t, filepath.Join(dir, "lbx"), tc.args...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			d := oneDocument(t, stdout)
			if !*d.OK || d.Error != nil || d.FormatVersion != tc.version {
				t.Errorf("ok %v, error %v, format_version %v: want ok, no error, %v", *d.OK, d.Error, d.FormatVersion, tc.version)
			}
		})
	}
}

// TestAddressesAndRoutesWithoutIPVS: a model without virtual servers
// plans and applies on a kernel without IPVS, says so, and a second
// apply changes nothing.
func TestAddressesAndRoutesWithoutIPVS(t *testing.T) {
	dir := buildBinaries(t)
	f := newNetnsFixture(t)
	if kernelMayHaveIPVS() {
		testkit.Skip(t, "this kernel has IPVS (or the module to load it)")
	}
	lbx := filepath.Join(dir, "lbx")
	m := writeFile(t, t.TempDir(), "m.yaml", netModel)
	for _, step := range []struct {
		args    []string
		code    int
		changed bool
	}{
		{f.args("plan", "-o", "json", "-f", m, "--detailed-exitcode", "--prune"), cli.ExitChanges, true},
		{f.args("apply", "-o", "json", "-f", m, "--auto-approve", "--prune"), 0, true},
		{f.args("apply", "-o", "json", "-f", m, "--auto-approve"), 0, false},
		{f.args("plan", "-o", "json", "-f", m, "--detailed-exitcode"), 0, false},
	} {
		stdout, stderr, code := runOut(t, lbx, step.args...)
		if code != step.code {
			t.Fatalf("%v: exit %d, want %d\n%s%s", step.args, code, step.code, stdout, stderr)
		}
		d := oneDocument(t, stdout)
		if !*d.OK || d.Changed != step.changed || !containsNote(d.Notes, ops.NoIPVSNote) {
			t.Errorf("%v: ok %v, changed %v, notes %q: want ok, changed %v and the note that IPVS is not used", step.args, *d.OK, d.Changed, d.Notes, step.changed)
		}
	}
	addrs := f.ns.Run(t, "ip", "-br", "addr", "show", "eth0")
	routes := f.ns.Run(t, "ip", "route", "show", "10.78.0.0/24")
	if !strings.Contains(addrs, "10.77.0.1/24") || !strings.Contains(routes, "via 10.77.0.254") {
		t.Errorf("the kernel lacks the model's address or route:\n%s%s", addrs, routes)
	}
}

func containsNote(notes []string, want string) bool {
	for _, n := range notes {
		if n == want {
			return true
		}
	}
	return false
}

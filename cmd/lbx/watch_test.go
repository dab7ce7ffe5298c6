package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// buildChecker builds lbx-check into dir with extra go build flags.
func buildChecker(t *testing.T, dir string, flags ...string) string {
	t.Helper()
	bin := filepath.Join(dir, "lbx-check")
	args := append(append([]string{"build"}, flags...), "-o", bin, "../lbx-check")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	return bin
}

// TestCheckerOf: --checker process refuses an lbx-check of another build,
// auto runs the checks inline instead, and both take the same build.
func TestCheckerOf(t *testing.T) {
	if testing.Short() {
		testkit.Skip(t, "-short: builds lbx-check twice")
	}
	// This test binary is "lbx" here: version dev, no VCS stamp (go test
	// does not stamp), no source hash; so is "same".
	same := buildChecker(t, t.TempDir(), "-buildvcs=false")
	other := buildChecker(t, t.TempDir(), "-buildvcs=false", "-ldflags", "-X main.version=v0.0.0-other")
	missing := func() (string, error) { return "", errors.New("lbx-check is neither next to lbx nor on PATH") }
	for _, tc := range []struct {
		name    string
		mode    string
		find    func() (string, error)
		process bool   // a checker process (else inline)
		refused string // in the error; "": no error
	}{
		{"same build", "process", func() (string, error) { return same, nil }, true, ""},
		{"same build", "auto", func() (string, error) { return same, nil }, true, ""},
		{"another build", "process", func() (string, error) { return other, nil }, false, "found " + other + " built from v0.0.0-other"},
		{"another build", "auto", func() (string, error) { return other, nil }, false, ""},
		{"no checker", "process", missing, false, "neither next to lbx nor on PATH"},
		{"no checker", "auto", missing, false, ""},
		{"", "inline", func() (string, error) { return same, nil }, false, ""},
	} {
		t.Run(tc.mode+" "+tc.name, func(t *testing.T) {
			newChecker, err := checkerOf(tc.mode, tc.find)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("error %v, want one saying %q", err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (newChecker != nil) != tc.process {
				t.Errorf("checker process %v, want %v", newChecker != nil, tc.process)
			}
		})
	}
}

// TestWatchRefusesOtherChecker: the built lbx, with an lbx-check of
// another build next to it, will not start with --checker process and
// says what to do; nothing of the host is touched before that.
func TestWatchRefusesOtherChecker(t *testing.T) {
	dir := t.TempDir()
	lbx := filepath.Join(dir, "lbx")
	data, err := os.ReadFile(filepath.Join(buildBinaries(t), "lbx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lbx, data, 0o755); err != nil {
		t.Fatal(err)
	}
	checker := buildChecker(t, dir, "-ldflags", "-X main.version=v0.0.0-stale")
	model := filepath.Join(dir, "lbx.yaml")
	if err := os.WriteFile(model, []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr, code := run(t, lbx, "watch", "-f", model, "--checker", "process", "--state-dir", filepath.Join(dir, "state"), "--run-dir", dir, "--status-socket", "")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, s := range []string{"--checker process: the checker binary is not the same build as lbx", "found " + checker + " built from v0.0.0-stale", lbx + " is dev", "install lbx and lbx-check from the same build"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}
}

// TestVRRPSpecOf: the spec lbx-vrrp's reload reads says why a model cannot
// run with its file:line, and checks a model for the whole engine as that
// engine's start would (lbx-vrrp executes it in its place: a model the
// start refuses would end the daemon with its addresses left behind).
func TestVRRPSpecOf(t *testing.T) {
	const vrrp = "version: 1\nvrrp_instances: [{name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 192.0.2.50/32}]}]\n"
	missing := filepath.Join(t.TempDir(), "nowhere")
	for _, tc := range []struct {
		name, yaml, checker string
		wantErr, wantFull   string
	}{
		{"VRRP alone", vrrp, "auto", "", ""},
		{"an invalid file", vrrp + "bogus: 1\n", "auto", "m.yaml:3:1", ""},
		{"a whole model", vrrp + "addresses: [{interface: eth0, address: 192.0.2.9/32}]\n", "auto", "", "static addresses"},
		{"a whole model the start refuses", vrrp + "virtual_servers: [{address: 192.0.2.50, port: 80, real_servers: [{address: 10.0.0.1, checks: [{type: tcp}]}]}]\n", "process", "--checker process", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "m.yaml")
			if err := os.WriteFile(f, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", missing) // no lbx-check anywhere
			spec, err := vrrpSpecOf(f, "", tc.checker)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want one with %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("vrrpSpecOf: %v", err)
			case spec.Full != tc.wantFull || (tc.wantFull == "") != (spec.Config != nil):
				t.Errorf("spec Full %q (config %v), want %q", spec.Full, spec.Config != nil, tc.wantFull)
			}
		})
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// buildBinaries returns a directory with lbx and its checkers built as
// make build puts them; the tests run the binaries as an operator would.
func buildBinaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		testkit.Skip(t, "-short: builds lbx")
	}
	return testkit.Binaries(t, "./cmd/lbx", "./cmd/lbx-check", "./cmd/lbx-check-tls", "./cmd/lbx-vrrp")
}

func TestMain(m *testing.M) {
	// Tests give lbx --state-dir and --run-dir of their own: fail the run
	// when one left something in the host's.
	os.Exit(testkit.Main(func() int { return nstest.MainGuardingHostDirs(m) }))
}

// run runs a binary and returns its stderr and exit code.
func run(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return stderr.String(), cmd.ProcessState.ExitCode()
}

// TestFatalErrors: a command's last error is one JSON record on stderr
// with --log-format json (also when the flags did not parse), else one
// "lbx: ..." line.
func TestFatalErrors(t *testing.T) {
	dir := buildBinaries(t)
	model := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(model, []byte("version: 1\nvirtual_servers:\n  - address: 192.0.2.1\n    port: 99999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		bin     string
		args    []string
		json    bool
		code    int
		says    string // in the error
		command string // JSON only: the command field
	}{
		{"lbx", []string{"--log-format", "json", "plan"}, true, 1, `required flag(s) "file" not set`, "lbx plan"},
		{"lbx", []string{"--log-format=json", "validate", "-f", model}, true, 1, "broken.yaml", "lbx validate"},
		// The bad flag comes before --log-format: cobra never parsed it.
		{"lbx", []string{"plan", "--bogus", "--log-format", "json"}, true, 1, "unknown flag: --bogus", "lbx plan"},
		{"lbx", []string{"--log-format", "json", "--log-level", "loud", "plan"}, true, 1, `--log-level "loud"`, "lbx plan"},
		{"lbx", []string{"--log-format", "JSON", "nosuchcommand"}, true, 1, "unknown command", "lbx"},
		// An unknown format: reported in the format that needs no flag.
		{"lbx", []string{"--log-format", "xml", "plan"}, false, 1, `--log-format "xml": want text or json`, ""},
		{"lbx", []string{"plan"}, false, 1, `required flag(s) "file" not set`, ""},
		{"lbx", []string{"--log-format", "json", "--log-format", "text", "plan"}, false, 1, `required flag(s) "file" not set`, ""},
		{"lbx-check", []string{"--log-format", "json"}, true, 1, "fd 3 is not lbx watch's socket", ""},
		{"lbx-check-tls", []string{"--log-format", "json"}, true, 1, "fd 3 is not lbx watch's socket", ""},
		{"lbx-check", []string{"--bogus", "-log-format=json"}, true, 2, "flag provided but not defined: -bogus", ""},
		{"lbx-check", []string{"--bogus"}, false, 2, "flag provided but not defined: -bogus", ""},
		{"lbx-vrrp", []string{"--bogus", "-log-format=json"}, true, 2, "flag provided but not defined: -bogus", ""},
		{"lbx-vrrp", []string{"--bogus"}, false, 2, "flag provided but not defined: -bogus", ""},
		{"lbx-vrrp", []string{"--log-format", "json"}, true, 1, "lbx watch starts lbx-vrrp", ""},
		{"lbx-vrrp", []string{"--spec-fd", "7", "--", "/bin/lbx", "watch"}, false, 1, "--spec-fd 7", ""},
	} {
		t.Run(strings.Join(append([]string{tc.bin}, tc.args...), " "), func(t *testing.T) {
			stderr, code := run(t, filepath.Join(dir, tc.bin), tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("stderr has %d lines, want the one error:\n%s", len(lines), stderr)
			}
			if !tc.json {
				if want := tc.bin + ": "; !strings.HasPrefix(lines[0], want) || !strings.Contains(lines[0], tc.says) {
					t.Errorf("stderr %q, want %q...%q", lines[0], want, tc.says)
				}
				return
			}
			var rec struct {
				Level, Msg, Err, Command string
				ExitCode                 *int `json:"exit_code"`
			}
			if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
				t.Fatalf("stderr is not a JSON record: %v\n%s", err, stderr)
			}
			if rec.Level != "ERROR" || rec.Msg != tc.bin+" failed" || !strings.Contains(rec.Err, tc.says) ||
				rec.ExitCode == nil || *rec.ExitCode != tc.code || rec.Command != tc.command {
				t.Errorf("record %s, want level ERROR, msg %q, err with %q, exit_code %d, command %q", lines[0], tc.bin+" failed", tc.says, tc.code, tc.command)
			}
		})
	}
}

// TestVersionsOfOneBuild: lbx and its checkers built together print the
// same build (what lbx watch compares), so an operator can compare them too.
func TestVersionsOfOneBuild(t *testing.T) {
	dir := buildBinaries(t)
	lbx, err := exec.Command(filepath.Join(dir, "lbx"), "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	_, lbxBuild, ok := strings.Cut(string(lbx), "\nbuild ")
	if !ok || lbxBuild == "" {
		t.Fatalf("lbx version:\n%s\nno build line", lbx)
	}
	for _, checker := range []string{"lbx-check", "lbx-check-tls"} {
		out, err := exec.Command(filepath.Join(dir, checker), "--version").Output()
		if err != nil {
			t.Fatal(err)
		}
		if build, ok := strings.CutPrefix(string(out), checker+" "); !ok || build != lbxBuild {
			t.Errorf("lbx version:\n%s\n%s --version:\n%s\nwant the same build", lbx, checker, out)
		}
	}
}

package testkit

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// skips counts this test process's skips by reason, for Main's summary.
var skips struct {
	sync.Mutex
	by map[string]int
}

// Skip skips the test for reason and counts it, so that Main says how
// many tests of the package did not run and why, where `go test ./...`
// shows it without -v. Outside Main it is t.Skip.
func Skip(t testing.TB, reason string) {
	t.Helper()
	skips.Lock()
	if skips.by == nil {
		skips.by = map[string]int{}
	}
	skips.by[reason]++
	skips.Unlock()
	t.Skip(reason)
}

// RequireRoot skips the test (Skip) unless it runs as root: what names
// what needs root ("switching a script's user"). Under CI=true, where
// everything must run, it fails the test instead.
func RequireRoot(t testing.TB, what string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s needs root (CI=true: not skipping)", what)
	}
	Skip(t, what+" needs root")
}

// skipSummary is Main's line for the skips counted, "" if none:
// "kernel: 6 tests skipped: namespace test needs root (6)".
func skipSummary(pkg string) string {
	skips.Lock()
	defer skips.Unlock()
	n := 0
	var why []string
	for _, reason := range slices.Sorted(maps.Keys(skips.by)) {
		n += skips.by[reason]
		why = append(why, fmt.Sprintf("%s (%d)", reason, skips.by[reason]))
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d test(s) skipped: %s", pkg, n, strings.Join(why, "; "))
}

// reportSkips prints the summary of skips, if any. `go test` in package
// list mode (`go test ./...`) drops a passing package's output unless -v,
// the test binary's stderr included; so without -v the line goes to the
// stderr of the process that ran the tests (go test), when that is a
// terminal, a pipe or a socket. A regular file is left alone: go test
// writes it at an offset of its own and would overwrite the line. With
// -v, or when the parent's stderr cannot be used, the line goes to the
// test's own stderr.
func reportSkips() {
	line := skipSummary(packageDir())
	if line == "" {
		return
	}
	var w io.Writer = os.Stderr
	if !testing.Verbose() {
		if f := parentStderr(); f != nil {
			defer f.Close()
			w = f
		}
	}
	fmt.Fprintln(w, line)
}

// parentStderr opens the parent process's stderr if it is a stream (not a
// regular file), or returns nil.
func parentStderr() *os.File {
	p := "/proc/" + strconv.Itoa(os.Getppid()) + "/fd/2"
	if fi, err := os.Stat(p); err != nil || fi.Mode()&(os.ModeCharDevice|os.ModeNamedPipe|os.ModeSocket) == 0 {
		return nil
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return nil
	}
	return f
}

// packageDir is the package under test as its directory below the
// module root ("kernel", "cmd/lbx"): go test runs a test binary in its
// package's directory.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if rel, err := filepath.Rel(dir, wd); err == nil && rel != "." {
				return rel
			}
			return filepath.Base(wd)
		}
		if dir == filepath.Dir(dir) {
			return filepath.Base(wd)
		}
	}
}

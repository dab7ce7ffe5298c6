package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestLinksOnlyTheChecker: lbx-check's resident pages follow the code it
// links (each page fault maps the 64 KiB around it), so it links the
// checks and not the model, its YAML decoder or a flag library: the model
// is turned into plain check settings in lbx watch (check/checkmodel).
func TestLinksOnlyTheChecker(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-deps", "github.com/lbx-dev/lbx/cmd/lbx-check").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, tc := range []struct {
		pkg    string
		linked bool
		why    string
	}{
		// Those it must link, or this test checks nothing.
		{"github.com/lbx-dev/lbx/check", true, "the checkers"},
		{"github.com/lbx-dev/lbx/checkproc", true, "the wire to lbx watch"},
		{"github.com/lbx-dev/lbx/check/checkspec", true, "the check settings it is sent"},
		// Those it must not.
		{"github.com/lbx-dev/lbx/model", false, "lbx watch converts the model (check/checkmodel)"},
		{"github.com/lbx-dev/lbx/check/checkmodel", false, "it imports the model"},
		{"gopkg.in/yaml.v3", false, "the settings arrive as JSON"},
		{"github.com/spf13/cobra", false, "the standard flag package parses its few flags"},
		{"github.com/spf13/pflag", false, "the standard flag package parses its few flags"},
	} {
		if got := slices.Contains(deps, tc.pkg); got != tc.linked {
			t.Errorf("lbx-check links %s: %v, want %v (%s); see go list -deps ./cmd/lbx-check", tc.pkg, got, tc.linked, tc.why)
		}
	}
}

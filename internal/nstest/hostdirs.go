package nstest

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/lbx-dev/lbx/internal/paths"
)

// HostDirs are the directories an installed lbx uses; tests bring their
// own (--state-dir, --run-dir) and must leave these as they found them.
var HostDirs = []string{paths.RunDir, paths.StateDir}

// MainGuardingHostDirs runs a package's tests (call it from TestMain) and
// fails the run when they left a new entry in one of HostDirs: a test
// that forgot --run-dir or --state-dir writes the host's lock files,
// sockets or ownership records, which a real lbx on the machine would
// then read.
func MainGuardingHostDirs(m *testing.M) int {
	before := map[string][]string{}
	for _, d := range HostDirs {
		before[d] = entries(d)
	}
	code := m.Run()
	for _, d := range HostDirs {
		for _, e := range entries(d) {
			if !slices.Contains(before[d], e) {
				fmt.Fprintf(os.Stderr, "FAIL: the tests left %s/%s on the host (give the daemon --run-dir and --state-dir of the test's own)\n", d, e)
				code = 1
			}
		}
	}
	return code
}

func entries(dir string) []string {
	es, _ := os.ReadDir(dir)
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name()
	}
	return names
}

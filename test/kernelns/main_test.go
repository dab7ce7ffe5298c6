// Package kernelns_test runs the kernel package's route adapter against
// the real kernel, in network namespaces of its own (root: make test-ns).
package kernelns_test

import (
	"os"
	"testing"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

func TestMain(m *testing.M) {
	os.Exit(testkit.Main(func() int { return nstest.MainGuardingHostDirs(m) }))
}

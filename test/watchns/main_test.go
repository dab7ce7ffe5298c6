package watchns

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// settle bounds the waits for a daemon in a namespace to reach a state:
// generous, since CI's two cores also run the other suites.
const settle = 15 * time.Second

// stopWithin bounds a daemon's clean exit after SIGTERM.
const stopWithin = 15 * time.Second

// Every daemon these tests start has its own --run-dir and --state-dir.
func TestMain(m *testing.M) {
	os.Exit(testkit.Main(func() int { return nstest.MainGuardingHostDirs(m) }))
}

// lbxBinary is lbx built once for the package (static, as make build).
func lbxBinary(t *testing.T) string {
	t.Helper()
	return filepath.Join(testkit.Binaries(t, "./cmd/lbx"), "lbx")
}

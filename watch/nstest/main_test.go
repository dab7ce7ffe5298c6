package nstest

import (
	"os"
	"testing"

	"github.com/lbx-dev/lbx/internal/nstest"
)

// Every daemon these tests start has its own --run-dir and --state-dir.
func TestMain(m *testing.M) { os.Exit(nstest.MainGuardingHostDirs(m)) }

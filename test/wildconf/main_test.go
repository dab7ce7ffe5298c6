package wildconf

import (
	"os"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestMain prints one line on the tests skipped here (root-only, or a
// tool missing), which go test ./... shows without -v.
func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }

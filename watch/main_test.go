package watch

import (
	"os"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestMain removes the binaries testkit.Binaries built (lbx-bgp for the
// BGP preflight test) when the tests end.
func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }

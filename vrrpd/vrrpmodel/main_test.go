package vrrpmodel

import (
	"os"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestMain prints one line on the tests skipped here, which go test ./...
// shows without -v.
func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }

package vrrponly

import (
	"os"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }

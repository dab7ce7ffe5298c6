package vrrptest_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The fakes of vrrpd's runtime tests are never linked into a binary.
func TestNotLinkedIntoBinaries(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-e", "-deps", "github.com/lbx-dev/lbx/cmd/...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/lbx-dev/lbx/vrrpd") {
		t.Fatal("the binaries do not link vrrpd: this test checks nothing")
	}
	for _, fake := range []string{"github.com/lbx-dev/lbx/vrrpd/vrrptest", "github.com/lbx-dev/lbx/internal/clock/clocktest"} {
		if slices.Contains(deps, fake) {
			t.Errorf("%s is linked into a binary", fake)
		}
	}
}

package vrrptest_test

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// isTestSupport: lbx's test-support packages are named for it (kerneltest,
// vrrptest, clocktest, nstest, fdtest...), as the standard library's
// httptest and iotest; internal/nspawn (containers for the packaging
// tests) and internal/testkit (the shared polling helper, binary build
// and model-to-desired helper) are the ones that are not.
func isTestSupport(pkg string) bool {
	return strings.HasPrefix(pkg, "github.com/lbx-dev/lbx/") &&
		(strings.HasSuffix(path.Base(pkg), "test") || slices.Contains(unsuffixed, pkg))
}

var unsuffixed = []string{"github.com/lbx-dev/lbx/internal/nspawn", "github.com/lbx-dev/lbx/internal/testkit"}

// TestNotLinkedIntoBinaries: no fake or test helper (the fake kernel,
// vrrpd's fake transport, the fake clock, the namespace helpers) is linked
// into bin/lbx, lbx-check or lbx-bgp. The linker would drop most of them
// unused today; this keeps a production package from starting to use one.
func TestNotLinkedIntoBinaries(t *testing.T) {
	deps := testkit.GoList(t, "-deps", "github.com/lbx-dev/lbx/cmd/...")
	// The rule checks something only if the binaries link the packages
	// the fakes stand in for, and the fakes exist under their names.
	for _, real := range []string{"github.com/lbx-dev/lbx/vrrpd", "github.com/lbx-dev/lbx/kernel", "github.com/lbx-dev/lbx/internal/clock"} {
		if !slices.Contains(deps, real) {
			t.Errorf("the binaries do not link %s: this test checks less than it says", real)
		}
	}
	support := slices.DeleteFunc(testkit.GoList(t, "github.com/lbx-dev/lbx/..."), func(p string) bool { return !isTestSupport(p) })
	for _, fake := range []string{"github.com/lbx-dev/lbx/kernel/kerneltest", "github.com/lbx-dev/lbx/vrrpd/vrrptest", "github.com/lbx-dev/lbx/internal/clock/clocktest", "github.com/lbx-dev/lbx/internal/nspawn", "github.com/lbx-dev/lbx/internal/testkit"} {
		if !slices.Contains(support, fake) {
			t.Errorf("%s is not found as a test-support package: this test checks less than it says", fake)
		}
	}
	for _, p := range deps {
		if isTestSupport(p) {
			t.Errorf("test-support package %s is linked into a binary (go list -deps ./cmd/...): only tests may import it", p)
		}
	}
}

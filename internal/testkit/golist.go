package testkit

import (
	"os/exec"
	"strings"
	"testing"
)

// GoList runs `go list -e` with args (the go of the running toolchain)
// and returns the package paths it prints; a failure fails the test.
// The tests of what a binary links read it (`-deps`).
func GoList(t testing.TB, args ...string) []string {
	t.Helper()
	out, err := exec.Command(goBin(), append([]string{"list", "-e"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

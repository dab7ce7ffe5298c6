package sibling

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestFind: the copy next to the running program wins over one on PATH; a
// file that is not executable, or a directory, is passed over.
func TestFind(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		testkit.Skip(t, "no path of the running program: "+err.Error())
	}
	beside, onPath := filepath.Dir(exe), t.TempDir()
	t.Setenv("PATH", onPath)
	put := func(dir, name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(p) })
		return p
	}
	both := put(beside, "sibling-test-both", 0o755)
	put(onPath, "sibling-test-both", 0o755)
	pathOnly := put(onPath, "sibling-test-path", 0o755)
	put(beside, "sibling-test-plain", 0o644)
	if err := os.Mkdir(filepath.Join(beside, "sibling-test-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(filepath.Join(beside, "sibling-test-dir")) })

	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"sibling-test-both", both, true},
		{"sibling-test-path", pathOnly, true},
		{"sibling-test-plain", "", false},
		{"sibling-test-dir", "", false},
		{"sibling-test-none", "", false},
	} {
		if got, ok := Find(tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("Find(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

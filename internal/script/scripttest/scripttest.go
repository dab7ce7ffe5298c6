// Package scripttest helps tests prove who a script ran as: a directory
// only the user nobody can write, and the uid a script wrote there.
package scripttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// Nobody returns the user nobody and a fresh directory only nobody can
// write (removed at the end of the test), or skips: switching a script's
// user needs root.
func Nobody(t testing.TB) (*script.User, string) {
	t.Helper()
	testkit.RequireRoot(t, "switching a script's user")
	u, err := script.LookupUser("nobody", "")
	if err != nil {
		testkit.Skip(t, "no user nobody: "+err.Error())
	}
	// Not t.TempDir: its parent is root's 0700, which nobody cannot enter.
	dir, err := os.MkdirTemp("", "lbx-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, int(u.Uid), int(u.Gid)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return u, dir
}

// WriteUID is a command line that writes the uid it runs as to dir/name.
func WriteUID(dir, name string) string {
	return "id -u > " + filepath.Join(dir, name)
}

// UID is what WriteUID wrote ("" if nothing).
func UID(t testing.TB, dir, name string) string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return strings.TrimSpace(string(b))
}

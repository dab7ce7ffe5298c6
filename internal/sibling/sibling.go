// Package sibling finds a program that ships beside lbx (lbx-check,
// lbx-bgp), so that every caller looks in the same places in the same
// order.
package sibling

import (
	"os"
	"os/exec"
	"path/filepath"
)

// Find locates the executable name: next to the running program first (so
// that a release's binaries stay together even with an older copy on
// PATH), then on PATH. ok is false when it is in neither; the caller says
// what the program is and how to get it.
func Find(name string) (path string, ok bool) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	return "", false
}

package checkproc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
)

// Binary is the checker process's file name.
const Binary = "lbx-check"

// Find locates the checker binary: next to the running lbx first (so that
// a release's pair stays together), then on PATH.
func Find() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), Binary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(Binary); err == nil {
		return p, nil
	}
	return "", errors.New(Binary + " is neither next to lbx nor on PATH (make build puts both in bin/; or run the checks inline with --checker inline)")
}

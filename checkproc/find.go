package checkproc

import (
	"errors"

	"github.com/lbx-dev/lbx/internal/sibling"
)

// Binary is the checker process's file name.
const Binary = "lbx-check"

// Find locates the checker binary: next to the running lbx first (so that
// a release's pair stays together), then on PATH.
func Find() (string, error) {
	if p, ok := sibling.Find(Binary); ok {
		return p, nil
	}
	return "", errors.New(Binary + " is neither next to lbx nor on PATH (make build puts both in bin/; or run the checks inline with --checker inline)")
}

package checkproc

import (
	"errors"

	"github.com/lbx-dev/lbx/internal/sibling"
)

// Binary is the checker process's file name; TLSBinary the one with
// SSL_GET's TLS (check.UseTLS says why there are two).
const (
	Binary    = "lbx-check"
	TLSBinary = "lbx-check-tls"
)

// Find locates the checker binary: next to the running lbx first (so that
// a release's pair stays together), then on PATH.
func Find() (string, error) {
	if p, ok := sibling.Find(Binary); ok {
		return p, nil
	}
	return "", errors.New(Binary + " is neither next to lbx nor on PATH (make build puts both in bin/; or run the checks inline with --checker inline)")
}

// FindTLS locates lbx-check-tls as Find does lbx-check; "" when it is
// nowhere (only a model with ssl_get checks needs it: errNoTLSChecker).
func FindTLS() string {
	p, _ := sibling.Find(TLSBinary)
	return p
}

var errNoTLSChecker = errors.New("ssl_get checks run in " + TLSBinary + ", which is neither next to lbx nor on PATH: install it from lbx's build (make build puts it in bin/, the package in /usr/bin)")

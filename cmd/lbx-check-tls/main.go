// Command lbx-check-tls is lbx watch's checker process for a model with
// ssl_get checks: lbx-check (package checkermain) with SSL_GET's TLS
// plugged in. lbx watch starts it instead of lbx-check when the model has
// one, so that TLS costs resident memory only where it is used.
package main

import (
	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/tlsclient"
	"github.com/lbx-dev/lbx/cmd/internal/checkermain"
)

// version is set at build time with lbx's: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	check.UseTLS(tlsclient.Handshake)
	checkermain.Main("lbx-check-tls", version)
}

// Command lbx-check is lbx watch's checker process (package checkermain):
// every check but ssl_get, which lbx-check-tls runs; without crypto/tls
// it holds about 1 MiB less (docs/performance.md, Memory).
package main

import "github.com/lbx-dev/lbx/cmd/internal/checkermain"

// version is set at build time with lbx's: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() { checkermain.Main("lbx-check", version) }

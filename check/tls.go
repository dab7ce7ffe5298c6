package check

import (
	"context"
	"errors"
	"net"
)

// TLSHandshake makes raw, a connected socket, a TLS client connection to
// serverName (none sent when empty), verifying the certificate only when
// verify is set, and completes the handshake within ctx.
type TLSHandshake func(ctx context.Context, raw net.Conn, serverName string, verify bool) (net.Conn, error)

// tlsHandshake is SSL_GET's TLS; nil in a process that runs no ssl_get
// check. It is plugged in (UseTLS) rather than imported so that only the
// process that runs ssl_get checks links crypto/tls with x509: their
// pages are about 1 MiB of lbx-check's resident memory and 1.5 MiB of lbx
// watch's (docs/performance.md, Memory). lbx-check-tls plugs in
// check/tlsclient; lbx and lbx-check do not.
var tlsHandshake TLSHandshake

// UseTLS gives SSL_GET its TLS. The main of the process that runs ssl_get
// checks calls it before any check runs.
func UseTLS(h TLSHandshake) { tlsHandshake = h }

// ErrNoTLS refuses an ssl_get check in a process without TLS.
var ErrNoTLS = errors.New("ssl_get needs TLS, which this process leaves out: lbx watch runs ssl_get checks in lbx-check-tls, its checker process with TLS (install it next to lbx, as make build and the package do; --checker inline cannot run them)")

// NeedsTLS reports whether any check of targets is an ssl_get.
func NeedsTLS(targets []Target) bool {
	for _, t := range targets {
		for _, p := range t.Checks {
			if p.Spec.UsesTLS() {
				return true
			}
		}
	}
	return false
}

// Package tlsclient is SSL_GET's TLS (check.TLSHandshake): the checker
// process that runs ssl_get checks, lbx-check-tls, plugs it into package
// check with check.UseTLS. It is a package of its own so that lbx and
// lbx-check do not link crypto/tls (see check.UseTLS for why).
package tlsclient

import (
	"context"
	"crypto/tls"
	"net"
)

// Handshake is check.TLSHandshake with crypto/tls: no certificate check
// unless verify (keepalived's SSL_GET does not verify either), serverName
// as SNI and as the name verified.
func Handshake(ctx context.Context, raw net.Conn, serverName string, verify bool) (net.Conn, error) {
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: !verify, ServerName: serverName})
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

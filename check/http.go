package check

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// MaxBody bounds how much of a response body an HTTP check reads to compute
// a digest. A body beyond it fails a digest check rather than eating memory.
const MaxBody = 1 << 20

// HTTP is HTTP_GET and, with TLS set, SSL_GET. Every URL must pass: status
// in its set and, if a digest is given, MD5(body) equal to it. Redirects are
// not followed, connections are not reused, certificates are not verified
// unless VerifyTLS (keepalived's behaviour).
type HTTP struct {
	Conn      Conn
	TLS       bool
	VerifyTLS bool
	SNI       string // TLS server name; empty: none
	URLs      []URL

	tlsConfig *tls.Config
}

// URL is one URL of an HTTP check.
type URL struct {
	Path   string
	Digest string // lower-case hex MD5 of the body; empty: not checked
	Status StatusSet
	// Host is the Host header (virtualhost); empty: connect_ip:port.
	Host string
}

// NewHTTP builds an HTTP checker. It speaks HTTP/1.1 on its own socket
// (one request, Connection: close) rather than through net/http's
// Transport, whose per-connection goroutines and pools cost twice
// keepalived's CPU on 500 servers checked every second.
func NewHTTP(h HTTP) *HTTP {
	if h.TLS {
		h.tlsConfig = &tls.Config{
			InsecureSkipVerify: !h.VerifyTLS,
			ServerName:         h.SNI,
		}
	}
	return &h
}

// Check implements Checker.
func (h *HTTP) Check(ctx context.Context) Result {
	start := time.Now()
	for _, u := range h.URLs {
		if msg := h.fetch(ctx, u); msg != "" {
			if len(h.URLs) > 1 {
				msg = u.Path + ": " + msg
			}
			return down(start, "%s", msg)
		}
	}
	return up(start)
}

// maxHeader bounds the response head (status line and headers).
const maxHeader = 64 << 10

// fetch gets one URL under its own deadline and says what is wrong with
// it, or "" when it passes.
func (h *HTTP) fetch(ctx context.Context, u URL) string {
	ctx, cancel := withDeadline(ctx, h.Conn.Timeout)
	defer cancel()
	// When the deadline closed the socket, the error says "closed"; the
	// cause is the deadline.
	why := func(prefix string, err error) string {
		if ctx.Err() != nil {
			return prefix + "timeout"
		}
		return prefix + reason(err)
	}
	addr := h.Conn.Addr.String()
	raw, err := h.Conn.dialer("tcp").DialContext(ctx, "tcp", addr)
	if err != nil {
		return why("", err)
	}
	defer raw.Close()
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	var c net.Conn = raw
	if h.TLS {
		tc := tls.Client(raw, h.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return why("tls: ", err)
		}
		c = tc
	}
	host := u.Host
	if host == "" {
		host = addr
	}
	req := "GET " + pathOf(u.Path) + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: lbx-healthcheck\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return why("send: ", err)
	}
	// Everything read is bounded: the head, then the body for a digest.
	lr := &io.LimitedReader{R: c, N: maxHeader + MaxBody + 1}
	resp, err := http.ReadResponse(bufio.NewReaderSize(lr, 4096), nil)
	if err != nil {
		if ctx.Err() == nil && (err == io.ErrUnexpectedEOF || err == io.EOF) {
			return "connection closed before a response"
		}
		return why("", err)
	}
	defer resp.Body.Close()
	if !u.Status.Contains(resp.StatusCode) {
		return fmt.Sprintf("status %d not in %s", resp.StatusCode, u.Status)
	}
	if u.Digest == "" {
		return ""
	}
	sum := md5.New()
	n, err := io.Copy(sum, io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return why("reading body: ", err)
	}
	if n > MaxBody {
		return fmt.Sprintf("body larger than %d bytes", MaxBody)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); !strings.EqualFold(got, u.Digest) {
		return fmt.Sprintf("digest %s, want %s", got, strings.ToLower(u.Digest))
	}
	return ""
}

func pathOf(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
}

package check

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"
)

// MaxBody bounds how much of a response body an HTTP check reads to compute
// a digest. A body beyond it fails a digest check rather than eating memory.
const MaxBody = 1 << 20

// maxHeader bounds the response head (status line and headers).
const maxHeader = 64 << 10

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
	// Version is http_protocol: "1.0" (or empty), "1.0C" or "1.1".
	Version string

	serverName string // the name TLS sends and verifies; empty: none
	convs      []conversation
}

// URL is one URL of an HTTP check.
type URL struct {
	Path   string
	Digest string // lower-case hex MD5 of the body; empty: not checked
	Status StatusSet
	// Host is the Host header (virtualhost); empty: connect_ip:port.
	Host string
}

// NewHTTP builds an HTTP checker. Its requests are built once, here: one
// GET per URL on a connection of its own, as keepalived sends them: HTTP/1.0
// by default, with "Connection: close" for 1.0C, HTTP/1.1 with
// "Connection: close" for 1.1 (a chunked reply is decoded). Plain HTTP runs
// on the runner's event loop; TLS runs in a goroutine per probe.
func NewHTTP(h HTTP) *HTTP {
	if h.TLS {
		h.serverName = h.SNI
		if h.VerifyTLS && h.SNI == "" {
			// Verifying needs a name to verify against (Go refuses the
			// handshake without one): the virtualhost, else the address
			// connected to (checked against the certificate's IP SANs;
			// no SNI is sent for an address).
			h.serverName = h.Conn.Addr.Addr().String()
			if len(h.URLs) > 0 && h.URLs[0].Host != "" {
				host := h.URLs[0].Host
				if hp, _, err := net.SplitHostPort(host); err == nil {
					host = hp
				}
				h.serverName = host
			}
		}
	}
	addr := h.Conn.Addr.String()
	for i := range h.URLs {
		host := h.URLs[i].Host
		if host == "" {
			host = addr
		}
		req := "GET " + pathOf(h.URLs[i].Path) + requestVersion(h.Version) + "Host: " + host + "\r\nUser-Agent: lbx-healthcheck\r\n\r\n"
		h.convs = append(h.convs, conversation{request: []byte(req), url: &h.URLs[i]})
	}
	return &h
}

// requestVersion is the end of the request line and the connection header
// for an http_protocol value (validated by the model).
func requestVersion(v string) string {
	switch v {
	case "1.0C":
		return " HTTP/1.0\r\nConnection: close\r\n"
	case "1.1":
		return " HTTP/1.1\r\nConnection: close\r\n"
	}
	return " HTTP/1.0\r\n"
}

// conn and conversations make plain HTTP an evented check.
func (h *HTTP) conn() *Conn { return &h.Conn }

func (h *HTTP) conversations() []conversation {
	if h.TLS {
		return nil
	}
	return h.convs
}

// failure names the URL that failed when there are several.
func (h *HTTP) failure(i int, msg string) string {
	if len(h.URLs) > 1 {
		return h.URLs[i].Path + ": " + msg
	}
	return msg
}

// Check implements Checker: the blocking path, used for TLS (crypto/tls
// needs a net.Conn) and by callers outside the runner.
func (h *HTTP) Check(ctx context.Context) Result {
	start := time.Now()
	for i, cv := range h.convs {
		if msg := h.fetch(ctx, cv); msg != "" {
			return down(start, "%s", h.failure(i, msg))
		}
	}
	return up(start)
}

// fetch runs one conversation under its own deadline and says what is
// wrong with the reply, or "" when it passes.
func (h *HTTP) fetch(ctx context.Context, cv conversation) string {
	start := time.Now()
	ctx, cancel := withDeadline(ctx, conversationSteps*h.Conn.Timeout)
	defer cancel()
	// When the deadline closed the socket, the error says "closed"; the
	// cause is the deadline.
	why := func(prefix string, err error) string {
		if ctx.Err() != nil {
			return prefix + "timeout"
		}
		return prefix + reason(err)
	}
	raw, err := h.Conn.dialer("tcp").DialContext(ctx, "tcp", h.Conn.Addr.String())
	if err != nil {
		return why("", err)
	}
	defer raw.Close()
	// Each step (TLS handshake and request, then every read) under its
	// own connect_timeout, within the conversation's bound.
	nextStep := func() { raw.SetDeadline(h.Conn.stepDeadline(start, time.Now())) }
	nextStep()
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	var c net.Conn = raw
	if h.TLS {
		if tlsHandshake == nil {
			return "tls: " + ErrNoTLS.Error()
		}
		tc, err := tlsHandshake(ctx, raw, h.serverName, h.VerifyTLS)
		if err != nil {
			return why("tls: ", err)
		}
		nextStep()
		c = tc
	}
	if _, err := c.Write(cv.request); err != nil {
		return why("send: ", err)
	}
	resp := newResponse(cv.url)
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if done, fail := resp.feed(buf[:n]); done {
				return fail
			}
			nextStep()
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return resp.eof()
		default:
			return why("", err)
		}
	}
}

func pathOf(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
}

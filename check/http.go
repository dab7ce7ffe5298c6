package check

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

	client *http.Client
}

// URL is one URL of an HTTP check.
type URL struct {
	Path   string
	Digest string // lower-case hex MD5 of the body; empty: not checked
	Status StatusSet
	// Host is the Host header (virtualhost); empty: connect_ip:port.
	Host string
}

// NewHTTP builds an HTTP checker; the transport is made once and reused
// (connections are not: keep-alive is off).
func NewHTTP(h HTTP) *HTTP {
	d := h.Conn.dialer("tcp")
	tr := &http.Transport{
		DialContext:            d.DialContext,
		DisableKeepAlives:      true,
		DisableCompression:     true, // the digest is over the bytes sent
		TLSHandshakeTimeout:    h.Conn.Timeout,
		ResponseHeaderTimeout:  h.Conn.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      false,
		Proxy:                  nil,
	}
	if h.TLS {
		tr.TLSClientConfig = &tls.Config{
			InsecureSkipVerify: !h.VerifyTLS,
			ServerName:         h.SNI,
		}
	}
	h.client = &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
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

// fetch gets one URL under its own deadline and says what is wrong with
// it, or "" when it passes.
func (h *HTTP) fetch(ctx context.Context, u URL) string {
	ctx, cancel := withDeadline(ctx, h.Conn.Timeout)
	defer cancel()
	scheme := "http"
	if h.TLS {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+h.Conn.Addr.String()+pathOf(u.Path), nil)
	if err != nil {
		return fmt.Sprintf("bad url: %v", err)
	}
	if u.Host != "" {
		req.Host = u.Host
	}
	req.Header.Set("User-Agent", "lbx-healthcheck")
	resp, err := h.client.Do(req)
	if err != nil {
		return reasonHTTP(err)
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
		return "reading body: " + reasonHTTP(err)
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

// reasonHTTP strips net/http's wrapping ("Get \"http://...\": ") so the
// reason names the cause.
func reasonHTTP(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return reason(err)
}

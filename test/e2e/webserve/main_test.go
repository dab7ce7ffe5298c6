package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestServesOneRequestPerConnection: a file comes back with 200 and the
// server closes the connection after it, as the bench's checkers expect
// of an HTTP/1.0 exchange; a missing file is a 404.
func TestServesOneRequestPerConnection(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "health"), []byte("ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer("", dir)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for _, tc := range []struct {
		path string
		code int
		body string
	}{{"/health", 200, "ok\n"}, {"/missing", 404, ""}} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, "GET "+tc.path+" HTTP/1.0\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.code || tc.body != "" && string(body) != tc.body {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, resp.StatusCode, body, tc.code, tc.body)
		}
		// The server closes: a further read ends at EOF.
		if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Errorf("GET %s: connection still open after the reply (%d, %v)", tc.path, n, err)
		}
		c.Close()
	}
}

// TestSelfSignedServesTLS: -tls's certificate makes a TLS server a client
// that does not verify (ssl_get's default) can fetch from, and one that
// verifies refuses.
func TestSelfSignedServesTLS(t *testing.T) {
	cert, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "health"), []byte("ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer("", dir)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for _, verify := range []bool{false, true} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: !verify, ServerName: "webserve"}}}
		resp, err := c.Get("https://" + ln.Addr().String() + "/health")
		if verify {
			if err == nil {
				resp.Body.Close()
				t.Error("a verifying client accepted the self-signed certificate")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "ok\n" {
			t.Errorf("GET /health over TLS: %d %q", resp.StatusCode, body)
		}
	}
}

package metrics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/fdtest"
)

// startServer serves m on 127.0.0.1:0 until the test ends.
func startServer(t *testing.T, m *Registry) string {
	t.Helper()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, m) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeListener: %v", err)
		}
	})
	return ln.Addr().String()
}

// get does one request on c (HTTP/1.1, kept alive) and wants a 200.
func get(c net.Conn, path string) error {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: lbx\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

func scrapeOnce(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	return get(c, "/metrics")
}

// TestIdleConnectionsBounded: 1,000 idle connections (the attack of issue
// 26: they exhausted the daemon's descriptors) cost the server at most
// MaxConns descriptors; once they go, a scrape is answered.
func TestIdleConnectionsBounded(t *testing.T) {
	const n = 1000
	addr := startServer(t, New())
	before := fdtest.Count(t, 0)
	var held []net.Conn
	for range n {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(held), err)
		}
		held = append(held, c)
	}
	time.Sleep(300 * time.Millisecond) // the server accepts what it will
	server := fdtest.Count(t, 0) - before - len(held)
	for _, c := range held {
		c.Close()
	}
	t.Logf("%d idle connections held: the server had %d descriptors open for them (MaxConns %d)", n, server, MaxConns)
	if server > MaxConns+2 {
		t.Errorf("server descriptors %d with %d idle connections, want at most MaxConns (%d) + 2", server, n, MaxConns)
	}
	if err := scrapeOnce(addr); err != nil {
		t.Errorf("scrape after the idle connections closed: %v", err)
	}
}

// TestAnswers: what the endpoint answers, status and head, as a scraper
// (net/http's reader here) reads it; every answer closes the connection.
func TestAnswers(t *testing.T) {
	addr := startServer(t, New())
	for _, tc := range []struct {
		name, req string
		code      int
		ctype     string // prefix
		body      string // substring; "" with HEAD: the body must be empty
	}{
		{"scrape", "GET /metrics HTTP/1.1\r\nHost: lbx\r\nAccept: text/plain\r\n\r\n", 200, "text/plain; version=0.0.4", "# TYPE"},
		{"scrape with a query, HTTP/1.0", "GET /metrics?x=1 HTTP/1.0\r\n\r\n", 200, "text/plain; version=0.0.4", "# TYPE"},
		{"absolute form", "GET http://lbx:9650/metrics HTTP/1.1\r\n\r\n", 200, "text/plain; version=0.0.4", "# TYPE"},
		{"HEAD: no body", "HEAD /metrics HTTP/1.1\r\n\r\n", 200, "text/plain; version=0.0.4", ""},
		{"index", "GET / HTTP/1.1\r\n\r\n", 200, "text/plain", "/metrics"},
		{"unknown path", "GET /debug/pprof HTTP/1.1\r\n\r\n", 404, "text/plain", "not found"},
		{"POST", "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 405, "text/plain", "GET and HEAD"},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "text/plain", "HTTP/1.1"},
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, "text/plain", "malformed"},
		{"header without a colon", "GET /metrics HTTP/1.1\r\nHost lbx\r\n\r\n", 400, "text/plain", "header"},
		{"a header longer than the read buffer (a cookie)", "GET /metrics HTTP/1.1\r\nCookie: " + strings.Repeat("a", 10000) + "\r\n\r\n", 200, "text/plain; version=0.0.4", "# TYPE"},
		{"a header past the head's bound", "GET /metrics HTTP/1.1\r\nCookie: " + strings.Repeat("a", 17000) + "\r\n\r\n", 431, "text/plain", "too large"},
		{"a target longer than the read buffer", "GET /" + strings.Repeat("a", 5000) + " HTTP/1.1\r\n\r\n", 414, "text/plain", "too long"},
		{"a CR in the request line", "GET /metrics HTTP/1.1\r\r\n\r\n", 400, "text/plain", "malformed"},
		{"too many headers", "GET /metrics HTTP/1.1\r\n" + strings.Repeat("X-A: 0123456789012345678901234567890123456789\r\n", 400) + "\r\n", 431, "text/plain", "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Second))
			if _, err := io.WriteString(c, tc.req); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(c)
			resp, err := http.ReadResponse(r, &http.Request{Method: strings.Fields(tc.req)[0]})
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("reading the body: %v", err)
			}
			if resp.StatusCode != tc.code || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) || !resp.Close {
				t.Errorf("got %s, %q, close %v; want %d, %q, close", resp.Status, resp.Header.Get("Content-Type"), resp.Close, tc.code, tc.ctype)
			}
			if tc.body == "" && len(body) != 0 || !strings.Contains(string(body), tc.body) {
				t.Errorf("body %.200q, want it to contain %q", body, tc.body)
			}
			if tc.code == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("405 without Allow: GET, HEAD: %v", resp.Header)
			}
			if n, err := r.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("after the answer: %d bytes, %v; want the connection closed", n, err)
			}
		})
	}
}

// TestSlowClientCutOff: a client that sends its request head slower
// than readTimeout is cut off without an answer (it holds one
// descriptor that long at most).
func TestSlowClientCutOff(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(New())
	s.readTimeout = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	io.WriteString(c, "GET /metrics HTTP/1.1\r\n")
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if err != io.EOF || time.Since(start) > 2*time.Second {
		t.Fatalf("a request head never finished: read %d bytes, %v after %v; want EOF after about 200ms", n, err, time.Since(start))
	}
}

// TestAcceptEMFILE: the process runs out of descriptors while a scraper
// connects (the server's accept fails with EMFILE). The server keeps
// serving and answers that scraper once descriptors are free again.
func TestAcceptEMFILE(t *testing.T) {
	addr := startServer(t, New())
	tcp, _ := net.ResolveTCPAddr("tcp", addr)
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	sa := &syscall.SockaddrInet4{Port: tcp.Port}
	copy(sa.Addr[:], tcp.IP.To4())
	release := fdtest.Exhaust(t)
	if err := syscall.Connect(fd, sa); err != nil {
		release()
		t.Fatalf("connect with the table full: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // the server's accept fails meanwhile
	release()
	f := os.NewFile(uintptr(fd), "scraper")
	c, err := net.FileConn(f) // a dup: f is closed here
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := get(c, "/metrics"); err != nil {
		t.Errorf("scraper connected during the shortage: %v", err)
	}
	if err := scrapeOnce(addr); err != nil {
		t.Errorf("scrape after the shortage: %v", err)
	}
}

// TestShutdownClosesStuckClients: at the stop, a client that never sent
// its request gets shutdownGrace, then is closed, and the server returns
// then, not at its read timeout.
func TestShutdownClosesStuckClients(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, New()) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(100 * time.Millisecond) // accepted
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if took := time.Since(start); err != nil || took < shutdownGrace/2 || took > 3*time.Second {
			t.Errorf("ServeListener returned %v after %v, want nil after about %v", err, took, shutdownGrace)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeListener still serving 10 s after the stop")
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the stuck client read %d bytes, %v; want EOF", n, err)
	}
}

package metrics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/fdtest"
)

// startServer serves a fresh registry on 127.0.0.1:0 until the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, New()) }()
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
	addr := startServer(t)
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

// TestKeepAliveYieldsAtCap: MaxConns clients that scraped once and keep
// their connections open (idle keep-alive, which the server would hold
// for IdleTimeout) do not lock a new scraper out: at the cap, idle
// connections are closed.
func TestKeepAliveYieldsAtCap(t *testing.T) {
	addr := startServer(t)
	for i := range MaxConns {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := get(c, "/"); err != nil {
			t.Fatalf("keep-alive client %d: %v", i, err)
		}
	}
	start := time.Now()
	if err := scrapeOnce(addr); err != nil {
		t.Fatalf("scrape with %d idle keep-alive connections: %v", MaxConns, err)
	}
	t.Logf("scrape answered in %v beside %d idle keep-alive connections", time.Since(start).Round(time.Millisecond), MaxConns)
}

// TestAcceptEMFILE: the process runs out of descriptors while a scraper
// connects (the server's accept fails with EMFILE). The server keeps
// serving and answers that scraper once descriptors are free again.
func TestAcceptEMFILE(t *testing.T) {
	addr := startServer(t)
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

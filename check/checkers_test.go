package check

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/check/checkspec"
)

const testTimeout = 300 * time.Millisecond

func addrOf(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

func conn(t *testing.T, a net.Addr) Conn {
	return Conn{Addr: addrOf(t, a), Timeout: testTimeout}
}

// silentListener accepts connections and never writes: the server that
// hangs every check.
func silentListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			// Never write; close once the client gives up, so that the
			// server side does not pile up descriptors in leak tests.
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln
}

// scriptedListener serves each connection with serve.
func scriptedListener(t *testing.T, serve func(c net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln
}

// resetListener accepts and resets every connection at once.
func resetListener(t *testing.T) net.Listener {
	return scriptedListener(t, func(c net.Conn) { c.(*net.TCPConn).SetLinger(0) })
}

func closedPort(t *testing.T) net.Addr { return closedPortOn(t, "tcp", "127.0.0.1:0") }

// closedPortOn is a port on address nobody listens on (a listener's, closed).
func closedPortOn(t *testing.T, network, address string) net.Addr {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr()
	ln.Close()
	return a
}

// within checks a probe's outcome and that it respected its deadline. An
// evented check (TCP, plain HTTP) is probed both ways, by its blocking
// Check and on an event loop as the runner runs it: the two must agree.
func within(t *testing.T, c Checker, wantUp bool, reasonHas string, max time.Duration) Result {
	t.Helper()
	probes := []struct {
		how string
		run func() Result
	}{{"blocking", func() Result { return c.Check(context.Background()) }}}
	if ev, ok := c.(evented); ok && ev.conversations() != nil {
		probes = append(probes, struct {
			how string
			run func() Result
		}{"evented", func() Result { return probeEvented(t, ev) }})
	}
	var r Result
	for _, p := range probes {
		start := time.Now()
		r = p.run()
		if el := time.Since(start); el > max {
			t.Errorf("%s: probe took %s, deadline %s", p.how, el, max)
		}
		if r.Up != wantUp {
			t.Errorf("%s: up = %v (%q), want %v", p.how, r.Up, r.Reason, wantUp)
		}
		if !strings.Contains(r.Reason, reasonHas) {
			t.Errorf("%s: reason %q, want it to contain %q", p.how, r.Reason, reasonHas)
		}
	}
	return r
}

// probeEvented runs one probe of ev on an event loop of its own.
func probeEvented(t *testing.T, ev evented) Result {
	t.Helper()
	l, err := newEvloop()
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	l.start(ev, "token", time.Now())
	for {
		l.expire(time.Now())
		if d := l.take(); len(d) > 0 {
			if len(d) != 1 || d[0].token != "token" {
				t.Fatalf("finished %+v, want the one probe", d)
			}
			res := d[0].res
			if l.inFlight() != 0 {
				t.Fatalf("a finished probe left %d in flight", l.inFlight())
			}
			if len(l.ops) != 0 {
				t.Fatalf("a finished probe left %d sockets open", len(l.ops))
			}
			return res
		}
		l.wait(time.Now(), l.next())
	}
}

// slack is what a shared, loaded 2-core machine adds to a deadline (seen:
// 500 ms under -race with other test suites running). The servers under
// test never answer, so a bounded probe is the point, not the exact bound.
const slack = time.Second

func TestTCP(t *testing.T) {
	good := silentListener(t)
	tests := []struct {
		name   string
		addr   net.Addr
		up     bool
		reason string
	}{
		{"listening", good.Addr(), true, ""},
		{"refused", closedPort(t), false, "connection refused"},
		// A server that resets at once is not a row: whether connect sees
		// the RST before completing is a race, in keepalived too.
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			within(t, &TCP{Conn: conn(t, tt.addr)}, tt.up, tt.reason, testTimeout+slack)
		})
	}
}

func md5hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

func TestHTTP(t *testing.T) {
	var hostMu sync.Mutex
	var lastHost string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		hostMu.Lock()
		lastHost = r.Host
		hostMu.Unlock()
		w.Write([]byte("hello"))
	})
	mux.HandleFunc("/503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	mux.HandleFunc("/404", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for i := 0; i < MaxBody/len(chunk)+2; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/slowbody", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("a"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	st := func(s ...string) StatusSet {
		set, err := ParseStatusSet(s)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	tests := []struct {
		name   string
		addr   net.Addr
		urls   []URL
		up     bool
		reason string
	}{
		{"200 in default range", srv.Listener.Addr(), []URL{{Path: "/ok", Status: st()}}, true, ""},
		{"503 not in default", srv.Listener.Addr(), []URL{{Path: "/503", Status: st()}}, false, "status 503 not in 200-299"},
		{"503 in a range", srv.Listener.Addr(), []URL{{Path: "/503", Status: st("500-503")}}, true, ""},
		{"404 in a list", srv.Listener.Addr(), []URL{{Path: "/404", Status: st("200", "404")}}, true, ""},
		{"404 in a comma list", srv.Listener.Addr(), []URL{{Path: "/404", Status: st("200,404")}}, true, ""},
		{"digest matches (upper case)", srv.Listener.Addr(), []URL{{Path: "/ok", Status: st(), Digest: strings.ToUpper(md5hex("hello"))}}, true, ""},
		{"wrong digest", srv.Listener.Addr(), []URL{{Path: "/ok", Status: st(), Digest: md5hex("bye")}}, false, "digest " + md5hex("hello")},
		{"redirect not followed", srv.Listener.Addr(), []URL{{Path: "/redirect", Status: st()}}, false, "status 302"},
		{"redirect accepted as a status", srv.Listener.Addr(), []URL{{Path: "/redirect", Status: st("302")}}, true, ""},
		{"every url must pass", srv.Listener.Addr(), []URL{{Path: "/ok", Status: st()}, {Path: "/503", Status: st()}}, false, "/503: status 503"},
		{"body over the bound", srv.Listener.Addr(), []URL{{Path: "/big", Status: st(), Digest: md5hex("x")}}, false, "body larger"},
		{"body that never ends", srv.Listener.Addr(), []URL{{Path: "/slowbody", Status: st(), Digest: md5hex("x")}}, false, "timeout"},
		{"accepts and never answers", silentListener(t).Addr(), []URL{{Path: "/", Status: st()}}, false, "timeout"},
		{"resets", resetListener(t).Addr(), []URL{{Path: "/", Status: st()}}, false, ""},
		{"refused", closedPort(t), []URL{{Path: "/", Status: st()}}, false, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHTTP(HTTP{Conn: conn(t, tt.addr), URLs: tt.urls})
			within(t, h, tt.up, tt.reason, time.Duration(len(tt.urls))*testTimeout+slack)
		})
	}
	t.Run("virtualhost sent as Host", func(t *testing.T) {
		h := NewHTTP(HTTP{Conn: conn(t, srv.Listener.Addr()), URLs: []URL{{Path: "/ok", Status: st(), Host: "www.example.org"}}})
		within(t, h, true, "", testTimeout+slack)
		hostMu.Lock()
		defer hostMu.Unlock()
		if lastHost != "www.example.org" {
			t.Fatalf("server saw Host %q", lastHost)
		}
	})
}

// TestHTTPProtocol: http_protocol picks the request line and the
// Connection header as keepalived does, and the chunked body an HTTP/1.1
// server sends is decoded before its digest is taken.
func TestHTTPProtocol(t *testing.T) {
	var mu sync.Mutex
	var proto string
	var closeAsked bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proto, closeAsked = r.Proto, r.Close
		mu.Unlock()
		// Two flushed writes without a length: chunked to HTTP/1.1,
		// plain bytes up to the close to HTTP/1.0.
		w.Write([]byte("hel"))
		w.(http.Flusher).Flush()
		w.Write([]byte("lo"))
	}))
	t.Cleanup(srv.Close)
	st, _ := ParseStatusSet(nil)
	for _, tt := range []struct {
		version   string
		wantProto string
		wantClose bool
	}{
		{"", "HTTP/1.0", true}, // HTTP/1.0 closes by default (Go reports it as Close)
		{"1.0", "HTTP/1.0", true},
		{"1.0C", "HTTP/1.0", true},
		{"1.1", "HTTP/1.1", true},
	} {
		t.Run("version "+tt.version, func(t *testing.T) {
			h := NewHTTP(HTTP{Conn: conn(t, srv.Listener.Addr()), Version: tt.version, URLs: []URL{{Path: "/", Status: st, Digest: md5hex("hello")}}})
			if want := "Connection: close"; strings.Contains(string(h.convs[0].request), want) != (tt.version == "1.0C" || tt.version == "1.1") {
				t.Errorf("request %q: %q present = %v", h.convs[0].request, want, !(tt.version == "1.0C" || tt.version == "1.1"))
			}
			within(t, h, true, "", testTimeout+slack)
			mu.Lock()
			defer mu.Unlock()
			if proto != tt.wantProto || closeAsked != tt.wantClose {
				t.Errorf("server saw %s (close %v), want %s (close %v)", proto, closeAsked, tt.wantProto, tt.wantClose)
			}
		})
	}
}

func TestSSL(t *testing.T) {
	var mu sync.Mutex
	var sni string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("tls")) }))
	srv.TLS = &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		sni = h.ServerName
		mu.Unlock()
		return nil, nil
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	st, _ := ParseStatusSet(nil)
	tests := []struct {
		name   string
		h      HTTP
		up     bool
		reason string
		sni    string
	}{
		{"self-signed accepted by default", HTTP{URLs: []URL{{Path: "/", Status: st, Digest: md5hex("tls")}}}, true, "", ""},
		{"sni sent", HTTP{SNI: "api.example.org", URLs: []URL{{Path: "/", Status: st}}}, true, "", "api.example.org"},
		{"verify_tls refuses a self-signed certificate", HTTP{VerifyTLS: true, SNI: "example.com", URLs: []URL{{Path: "/", Status: st}}}, false, "certificate", "example.com"},
		// Without sni, verification names the virtualhost, else the
		// address (Go refuses a handshake that names nothing).
		{"verify_tls without sni: the virtualhost", HTTP{VerifyTLS: true, URLs: []URL{{Path: "/", Status: st, Host: "www.example.org:443"}}}, false, "certificate", "www.example.org"},
		{"verify_tls without sni or virtualhost: the address", HTTP{VerifyTLS: true, URLs: []URL{{Path: "/", Status: st}}}, false, "certificate", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Certificate verification is slow under -race on a busy
			// machine: a longer deadline, still checked.
			tt.h.Conn, tt.h.TLS = Conn{Addr: addrOf(t, srv.Listener.Addr()), Timeout: 3 * time.Second}, true
			within(t, NewHTTP(tt.h), tt.up, tt.reason, 3*time.Second+slack)
			mu.Lock()
			defer mu.Unlock()
			if sni != tt.sni {
				t.Fatalf("server saw SNI %q, want %q", sni, tt.sni)
			}
		})
	}
	t.Run("slow handshake", func(t *testing.T) {
		h := NewHTTP(HTTP{Conn: conn(t, silentListener(t).Addr()), TLS: true, URLs: []URL{{Path: "/", Status: st}}})
		within(t, h, false, "timeout", testTimeout+slack)
	})
}

// TestSSLWithoutTLS: in a process that leaves TLS out (lbx, lbx-check),
// an ssl_get check is refused when it is given, with the error saying
// where it runs, and a checker built anyway fails its probe saying so
// instead of connecting in plain text.
func TestSSLWithoutTLS(t *testing.T) {
	saved := tlsHandshake
	UseTLS(nil)
	t.Cleanup(func() { UseTLS(saved) })
	st, _ := ParseStatusSet(nil)
	spec := checkspec.Check{Type: "ssl_get", ConnectIP: netip.MustParseAddr("127.0.0.1"), ConnectPort: 443, ConnectTimeout: time.Second,
		Schedule: checkspec.Schedule{DelayLoop: time.Second}, URLs: []checkspec.URL{{Path: "/"}}}
	ch, s, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	targets := []Target{{ID: rid(1), Checks: []Probe{{Checker: ch, Settings: s, Spec: spec}}}}
	if !NeedsTLS(targets) {
		t.Fatal("NeedsTLS: false for an ssl_get check")
	}
	r := New(Options{})
	err = r.Start(context.Background(), targets, func([]Transition) {})
	if !errors.Is(err, ErrNoTLS) || !strings.Contains(err.Error(), "lbx-check-tls") {
		t.Fatalf("Start with an ssl_get check and no TLS: %v, want ErrNoTLS naming lbx-check-tls", err)
	}
	h := NewHTTP(HTTP{Conn: conn(t, silentListener(t).Addr()), TLS: true, URLs: []URL{{Path: "/", Status: st}}})
	within(t, h, false, "lbx-check-tls", testTimeout+slack)
}

func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMisc(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	exitWith := writeScript(t, dir, "exit.sh", `exit "$1"`)
	never := writeScript(t, dir, "never.sh", "sleep 1000 &\necho $! > "+pidFile+"\nwait")
	args := writeScript(t, dir, "args.sh", `[ "$1" = "a b" ] && [ "$2" = c ]`)
	tests := []struct {
		name    string
		cmd     string
		dynamic bool
		up      bool
		weight  int // -1: none
		reason  string
	}{
		{"exit 0", exitWith + " 0", false, true, -1, ""},
		{"exit 1", exitWith + " 1", false, false, -1, "exit status 1"},
		{"exit 7 without dynamic", exitWith + " 7", false, false, -1, "exit status 7"},
		{"dynamic exit 0", exitWith + " 0", true, true, -1, ""},
		{"dynamic exit 1", exitWith + " 1", true, false, -1, "exit status 1"},
		{"dynamic exit 2 is weight 0", exitWith + " 2", true, true, 0, ""},
		{"dynamic exit 7 is weight 5", exitWith + " 7", true, true, 5, ""},
		{"dynamic exit 255 is weight 253", exitWith + " 255", true, true, 253, ""},
		{"quoted arguments", args + ` "a b" c`, false, true, -1, ""},
		{"missing program", filepath.Join(dir, "nope"), false, false, -1, "no such file"},
		{"never exits", never, false, false, -1, "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv, err := SplitCommand(tt.cmd)
			if err != nil {
				t.Fatal(err)
			}
			r := within(t, &Misc{Args: argv, Timeout: 500 * time.Millisecond, Dynamic: tt.dynamic}, tt.up, tt.reason, 500*time.Millisecond+slack)
			switch {
			case tt.weight < 0 && r.Weight != nil:
				t.Errorf("weight %d, want none", *r.Weight)
			case tt.weight >= 0 && (r.Weight == nil || *r.Weight != tt.weight):
				t.Errorf("weight %v, want %d", r.Weight, tt.weight)
			}
		})
	}
	// The script's background child was in its process group: it must be
	// dead too.
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); strings.Contains(string(st), ") Z ") {
			break // a zombie awaiting its reaper is dead
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d of the timed-out script still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFile: the value is read as keepalived's process_track_file reads it
// (strtol, base 0), and a file it cannot read is 0, up: keepalived keeps
// the real server up when the track file is missing.
func TestFile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content string
		up            bool
	}{
		{"zero", "0\n", true},
		{"one", "1\n", false},
		{"negative", "-5", false},
		{"text counts as zero", "hello", true},
		{"empty", "", true},
		{"leading white space", " \t 7", false},
		{"hexadecimal", "0x10", false},
		{"hexadecimal zero", "0x0", true},
		{"octal digits stop at 8", "08", true},
		{"a number then text", "3 down", false},
		{"plus sign", "+0", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			os.WriteFile(p, []byte(tt.content), 0o644)
			within(t, &File{Path: p}, tt.up, "", time.Second)
		})
	}
	t.Run("missing", func(t *testing.T) {
		within(t, &File{Path: filepath.Join(dir, "x")}, true, "", time.Second)
	})
	t.Run("directory", func(t *testing.T) {
		within(t, &File{Path: dir}, true, "", time.Second)
	})
	// A FIFO without a writer would block a plain open forever.
	t.Run("fifo", func(t *testing.T) {
		p := filepath.Join(dir, "fifo")
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
		within(t, &File{Path: p}, true, "", time.Second)
	})
}

// TestFileValue: fileValue against C's strtol(s, NULL, 0).
func TestFileValue(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"", 0}, {"0", 0}, {"12", 12}, {"-12", -12}, {"  42\n", 42}, {"0x1f", 31}, {"0X1F", 31},
		{"0x", 0}, {"0xg", 0}, {"017", 15}, {"019", 1}, {"1e3", 1}, {"abc", 0}, {"- 1", 0},
		{"99999999999999999999", 1<<63 - 1}, {"-99999999999999999999", -(1<<63 - 1)},
	} {
		if got := fileValue(tt.in); got != tt.want {
			t.Errorf("fileValue(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestBindOptions: bindto and bind_port reach the socket on both paths
// (the server sees the probe come from them); an address that is not local
// fails the probe with the reason, it does not fall back to another source.
func TestBindOptions(t *testing.T) {
	var mu sync.Mutex
	var from []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		from = append(from, r.RemoteAddr)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	st, _ := ParseStatusSet(nil)
	c := conn(t, srv.Listener.Addr())
	c.BindAddr = netip.MustParseAddr("127.0.0.2")
	within(t, NewHTTP(HTTP{Conn: c, URLs: []URL{{Path: "/", Status: st}}}), true, "", testTimeout+slack)
	mu.Lock()
	if len(from) != 2 || !strings.HasPrefix(from[0], "127.0.0.2:") || !strings.HasPrefix(from[1], "127.0.0.2:") {
		t.Errorf("blocking and evented probes came from %v, want 127.0.0.2", from)
	}
	mu.Unlock()

	// bind_port, once per path and each with a port of its own: a probe
	// that closes first leaves its 4-tuple in TIME_WAIT (as keepalived's
	// do), which would refuse the same port to the next one for a minute.
	for _, how := range []string{"blocking", "evented"} {
		port := addrOf(t, closedPort(t)).Port()
		c.BindPort = int(port)
		h := NewHTTP(HTTP{Conn: c, URLs: []URL{{Path: "/", Status: st}}})
		mu.Lock()
		from = nil
		mu.Unlock()
		var r Result
		if how == "blocking" {
			r = h.Check(context.Background())
		} else {
			r = probeEvented(t, h)
		}
		mu.Lock()
		want := netip.AddrPortFrom(c.BindAddr, port).String()
		if !r.Up || len(from) != 1 || from[0] != want {
			t.Errorf("%s: up=%v (%s), probes came from %v, want %s", how, r.Up, r.Reason, from, want)
		}
		mu.Unlock()
	}

	c.BindPort = 0
	c.BindAddr = netip.MustParseAddr("192.0.2.1") // TEST-NET-1: not on this host
	within(t, &TCP{Conn: c}, false, "cannot assign requested address", testTimeout+slack)
}

// TestEvloopWait: the loop sleeps to its deadline or a wake from another
// goroutine; with a probe in flight it looks at the sockets every
// turnEvery, not on each event; and it probes over IPv6 through the raw
// connect.
func TestEvloopWait(t *testing.T) {
	l, err := newEvloop()
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	start := time.Now()
	l.wait(start, start.Add(50*time.Millisecond))
	if el := time.Since(start); el < 45*time.Millisecond || el > time.Second {
		t.Errorf("wait with a 50ms deadline took %s", el)
	}
	// A deadline already past only collects what is ready.
	start = time.Now()
	l.wait(start, start.Add(-time.Second))
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("wait with a past deadline took %s", el)
	}
	start = time.Now() // before the waker starts its 30 ms
	go func() { time.Sleep(30 * time.Millisecond); l.wake() }()
	l.wait(start, time.Time{})
	if el := time.Since(start); el < 25*time.Millisecond || el > 2*time.Second {
		t.Errorf("wait without a deadline returned after %s, want the wake at 30ms", el)
	}

	// A probe in flight to a server that answers at once: the connect's
	// event is ready at once, and the loop takes it at its turn, not
	// before; the reply by the third turn (on a busy machine the server
	// may answer after the second, then the loop sleeps to the reply).
	answers := scriptedListener(t, func(c net.Conn) {
		c.Read(make([]byte, 512))
		io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
	})
	st, _ := ParseStatusSet(nil)
	l.start(NewHTTP(HTTP{Conn: conn(t, answers.Addr()), URLs: []URL{{Path: "/", Status: st}}}), "token", time.Now())
	var turns []time.Duration
	for start := time.Now(); l.inFlight() > 0 && len(turns) < 10; {
		at := l.wait(time.Now(), time.Now().Add(time.Hour))
		turns = append(turns, at.Sub(start))
		start = at
	}
	if d := l.take(); len(d) != 1 || !d[0].res.Up {
		t.Fatalf("after turns %v: finished %+v, want the probe up", turns, d)
	}
	if turns[0] < turnEvery*9/10 || len(turns) > 3 {
		t.Errorf("turns %v: want the first after turnEvery (%s), at most 3", turns, turnEvery)
	}

	// A server that answers after 20 turns: once a turn finds nothing,
	// the loop sleeps to the next event (the reply), not turn by turn.
	slow := scriptedListener(t, func(c net.Conn) {
		c.Read(make([]byte, 512))
		time.Sleep(20 * turnEvery)
		io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
	})
	l.start(NewHTTP(HTTP{Conn: conn(t, slow.Addr()), URLs: []URL{{Path: "/", Status: st}}}), "token", time.Now())
	turns = turns[:0]
	for start := time.Now(); l.inFlight() > 0 && len(turns) < 30; {
		at := l.wait(time.Now(), time.Now().Add(time.Hour))
		turns = append(turns, at.Sub(start))
		start = at
	}
	if d := l.take(); len(d) != 1 || !d[0].res.Up || len(turns) > 4 {
		t.Errorf("a reply after %s: turns %v, finished %+v; want it up in at most 4 turns", 20*turnEvery, turns, d)
	}

	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("v6")) }))
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	h := NewHTTP(HTTP{Conn: conn(t, ln.Addr()), URLs: []URL{{Path: "/", Status: st, Digest: md5hex("v6")}}})
	within(t, h, true, "", testTimeout+slack)
	within(t, &TCP{Conn: conn(t, closedPortOn(t, "tcp6", "[::1]:0"))}, false, "connection refused", testTimeout+slack)
}

// TestHTTPStepDeadlines: connect_timeout bounds each step of a
// conversation, as keepalived re-arms it for every read, and the
// conversation as a whole at conversationSteps of them.
func TestHTTPStepDeadlines(t *testing.T) {
	st, _ := ParseStatusSet(nil)
	step := testTimeout * 7 / 10
	// Two pauses of 0.7 connect_timeout each: 1.4 in all, each step
	// within one.
	slow := scriptedListener(t, func(c net.Conn) {
		c.Read(make([]byte, 512))
		time.Sleep(step)
		io.WriteString(c, "HTTP/1.0 200 OK\r\n")
		time.Sleep(step)
		io.WriteString(c, "Content-Length: 0\r\n\r\n")
	})
	within(t, NewHTTP(HTTP{Conn: conn(t, slow.Addr()), URLs: []URL{{Path: "/", Status: st}}}), true, "", conversationSteps*testTimeout+slack)

	// A byte every 0.4 connect_timeout, never a whole head: each step is
	// in time, the conversation is not.
	trickle := scriptedListener(t, func(c net.Conn) {
		c.Read(make([]byte, 512))
		for i := 0; i < 100; i++ {
			if _, err := io.WriteString(c, "X"); err != nil {
				return
			}
			time.Sleep(testTimeout * 4 / 10)
		}
	})
	start := time.Now()
	within(t, NewHTTP(HTTP{Conn: conn(t, trickle.Addr()), URLs: []URL{{Path: "/", Status: st}}}), false, "timeout", conversationSteps*testTimeout+slack)
	// within probes twice (blocking, evented): each must have lasted to
	// the bound, not one step.
	if el := time.Since(start); el < 2*(conversationSteps*testTimeout-testTimeout/2) {
		t.Errorf("two trickling probes ended after %s, before the bound of %s each", el, conversationSteps*testTimeout)
	}
}

// TestEvloopLateWakeUp: a process that wakes after a step deadline (no
// CPU for it on a saturated machine) finds the response in; it counts, as
// it does for keepalived, instead of failing as a timeout. The server
// answers 50 ms after the request; the loop next looks at 1.5 step
// timeouts, within the conversation's hard bound of three.
func TestEvloopLateWakeUp(t *testing.T) {
	ln := scriptedListener(t, func(c net.Conn) {
		c.Read(make([]byte, 4096))
		time.Sleep(50 * time.Millisecond)
		c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	})
	set, err := ParseStatusSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	const timeout = time.Second
	h := NewHTTP(HTTP{Conn: Conn{Addr: addrOf(t, ln.Addr()), Timeout: timeout}, URLs: []URL{{Path: "/", Status: set}}})
	l, err := newEvloop()
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	start := time.Now()
	l.start(h, "token", start)
	// Connect and send the request: the turns before the server answers.
	for l.ops[l.byDue[0].x.fd].sent == 0 {
		l.wait(time.Now(), time.Now().Add(10*time.Millisecond))
	}
	if d := l.take(); len(d) != 0 {
		t.Fatalf("finished before the server answered: %+v", d)
	}
	time.Sleep(200 * time.Millisecond) // the response is in the socket now
	l.expire(start.Add(timeout + timeout/2))
	d := l.take()
	if len(d) != 1 {
		t.Fatalf("late wake-up: %d probes finished, want the one", len(d))
	}
	if !d[0].res.Up {
		t.Fatalf("late wake-up failed a probe whose response was in: %q", d[0].res.Reason)
	}
}

// TestEvloopConnectOutcomes: the event loop takes a plain EPOLLOUT as a
// completed connect (no SO_ERROR read) and writes the request then,
// whether the handshake completed at once or only at the SYN's
// retransmission (a listener whose accept queue is full drops the first
// SYN; the server makes room after 100 ms); a refused connection still
// fails with its error.
func TestEvloopConnectOutcomes(t *testing.T) {
	st, _ := ParseStatusSet(nil)
	ok := scriptedListener(t, func(c net.Conn) {
		c.Read(make([]byte, 4096))
		io.WriteString(c, "HTTP/1.0 200 OK\r\n\r\n")
	})
	full := fullListener(t)
	tests := []struct {
		name   string
		addr   net.Addr
		before func() // after the probe started
		up     bool
		reason string
	}{
		{"handshake at once", ok.Addr(), func() {}, true, ""},
		{"handshake at the SYN's retransmission", full.Addr(), func() { serveAfterFull(t, full) }, true, ""},
		{"refused", closedPort(t), func() {}, false, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHTTP(HTTP{Conn: Conn{Addr: addrOf(t, tt.addr), Timeout: 3 * time.Second}, URLs: []URL{{Path: "/", Status: st}}})
			l, err := newEvloop()
			if err != nil {
				t.Fatal(err)
			}
			defer l.close()
			l.start(h, "token", time.Now())
			tt.before()
			d := l.take()
			for ; len(d) == 0; d = l.take() {
				l.wait(time.Now(), l.next())
				l.expire(time.Now())
			}
			if len(d) != 1 || d[0].res.Up != tt.up || !strings.Contains(d[0].res.Reason, tt.reason) {
				t.Fatalf("finished %+v, want the one probe with up=%v and a reason containing %q", d, tt.up, tt.reason)
			}
			if l.inFlight() != 0 || len(l.ops) != 0 {
				t.Fatalf("a finished probe left %d in flight, %d sockets", l.inFlight(), len(l.ops))
			}
		})
	}
}

// TestEvloopClosesWithReset: the event loop ends a probe's connection
// with a reset, whatever the verdict: the server reads ECONNRESET, not
// the end of the stream a FIN close gives.
func TestEvloopClosesWithReset(t *testing.T) {
	st, _ := ParseStatusSet(nil)
	tests := []struct {
		name   string
		answer string // what the server writes after reading the request ("": reads nothing)
		probe  func(a net.Addr) evented
		up     bool
	}{
		{"tcp", "", func(a net.Addr) evented { return &TCP{Conn: conn(t, a)} }, true},
		{"http up", "HTTP/1.0 200 OK\r\n\r\n", func(a net.Addr) evented {
			return NewHTTP(HTTP{Conn: conn(t, a), URLs: []URL{{Path: "/", Status: st}}})
		}, true},
		{"http down", "HTTP/1.0 503 No\r\n\r\n", func(a net.Addr) evented {
			return NewHTTP(HTTP{Conn: conn(t, a), URLs: []URL{{Path: "/", Status: st}}})
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ended := make(chan error, 1)
			ln := scriptedListener(t, func(c net.Conn) {
				if tt.answer != "" {
					c.Read(make([]byte, 4096))
					io.WriteString(c, tt.answer)
				}
				// The server keeps its end open: what ends the
				// connection is the checker's close.
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, err := io.Copy(io.Discard, c)
				ended <- err
			})
			if r := probeEvented(t, tt.probe(ln.Addr())); r.Up != tt.up {
				t.Fatalf("up = %v (%q), want %v", r.Up, r.Reason, tt.up)
			}
			if err := <-ended; !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("the server's read ended with %v, want a reset (ECONNRESET)", err)
			}
		})
	}
}

// fullListener listens on loopback with an accept queue of one and fills
// it with a connection nobody accepts: the kernel drops the next SYN.
func fullListener(t *testing.T) net.Listener {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close()
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	ln, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	filler, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { filler.Close() })
	return ln
}

// serveAfterFull makes room in a fullListener's queue (accepts and closes
// the filler) and answers the next connection with 200, in the
// background.
func serveAfterFull(t *testing.T, ln net.Listener) {
	go func() {
		time.Sleep(100 * time.Millisecond)
		for i := 0; i < 2; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if i == 1 {
				c.Read(make([]byte, 4096))
				io.WriteString(c, "HTTP/1.0 200 OK\r\n\r\n")
			}
			c.Close()
		}
	}()
}

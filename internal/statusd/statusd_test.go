package statusd

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func sample() Status {
	return Status{
		Daemon: Daemon{PID: os.Getpid(), Version: "v0.1.0", StartTime: t0, ModelFile: "/etc/lbx/lbx.yaml", LastReload: t0.Add(time.Hour)},
		VRRP: []Instance{
			{Name: "VI_1", Interface: "eth0", VRID: 51, State: "MASTER", Priority: 150, EffectivePriority: 150, MasterSince: t0.Add(time.Minute), LastTransition: t0.Add(time.Minute), LastReason: "master_down timer expired",
				Addresses: []Address{{Address: "10.0.0.100", Held: true}, {Address: "10.0.0.101", Held: true}, {Address: "10.0.0.200", Held: true, Excluded: true}},
				Tracking:  []Track{{Kind: TrackInterface, Name: "eth0", Up: true}, {Kind: TrackSource, Name: "eth0", Up: true}}},
			{Name: "VI_2", Interface: "eth1", VRID: 52, State: "BACKUP", Priority: 100, EffectivePriority: 80, LastTransition: t0, LastReason: "higher priority advert",
				Addresses: []Address{{Address: "2001:db8::100"}},
				Tracking: []Track{{Kind: TrackInterface, Name: "eth1", Up: true}, {Kind: TrackScript, Name: "chk_nginx", Weight: -30, AppliedWeight: -30},
					{Kind: TrackInterface, Name: "eth2", Up: true, Weight: 10, AppliedWeight: 10}, {Kind: TrackScript, Name: "chk_dns", Up: true, Weight: -5}}},
		},
		RealServers: []Real{
			{Service: "tcp/10.0.0.1:80", Real: "192.168.1.11:8080", Up: true, Weight: 1, LastCheck: t0.Add(2 * time.Hour), LatencySeconds: 0.0012},
			{Service: "tcp/10.0.0.1:80", Real: "192.168.1.12:8080", Up: false, Weight: 0, LastCheck: t0.Add(2 * time.Hour), LastError: "connect: connection refused", LatencySeconds: 0.0003},
		},
		LastReconcile: &Reconcile{Time: t0.Add(2 * time.Hour), DurationSeconds: 0.0042, Result: "changed", Changes: 1, KernelWrites: 1},
		Counters:      map[string]uint64{"adverts_sent": 7200, "drop_auth": 3},
	}
}

// serve starts a server on a real socket in a temp dir.
func serve(t *testing.T, snap func() Status) (path string, stop func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "lbx.sock")
	s, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, run(t, s, snap)
}

// run serves s until stop, which waits for Serve to return; the test's
// cleanup stops it if the test did not.
func run(t *testing.T, s *Server, snap func() Status) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, func(Request) Status { return snap() }) }()
	stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(2 * ConnTimeout):
			t.Error("Serve did not return after cancel")
		}
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			stop()
		}
	})
	return stop
}

func TestRoundTrip(t *testing.T) {
	want := sample()
	path, _ := serve(t, func() Status { return sample() })
	got, err := Query(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	want.FormatVersion = FormatVersion
	if !reflect.DeepEqual(*got, want) {
		a, _ := json.MarshalIndent(got, "", " ")
		b, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("got\n%s\nwant\n%s", a, b)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
}

// The protocol: a client may send nothing, "status\n", or keep its write
// side open; it gets one JSON document and EOF each time.
func TestProtocolClients(t *testing.T) {
	var n atomic.Int32
	path, _ := serve(t, func() Status { n.Add(1); return sample() })
	tests := []struct {
		name      string
		send      string
		halfClose bool
	}{
		{"nothing, half-closed", "", true},
		{"nothing, write side open", "", false},
		{"status line", "status\n", true},
		{"status line, write side open", "status\n", false},
		{"garbage is ignored", "GET / HTTP/1.0\r\n\r\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(ConnTimeout / 2)) // EOF must come well before the server's timeout
			if tc.send != "" {
				if _, err := io.WriteString(c, tc.send); err != nil {
					t.Fatal(err)
				}
			}
			if tc.halfClose {
				c.(*net.UnixConn).CloseWrite()
			}
			b, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("read: %v (got %d bytes)", err, len(b))
			}
			if !strings.HasSuffix(string(b), "}\n") || strings.Count(string(b), "\n") != 1 {
				t.Fatalf("want one JSON document and a newline, got %q", b)
			}
			var st Status
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatal(err)
			}
			if st.FormatVersion != 1 || st.Daemon.PID != os.Getpid() {
				t.Fatalf("document: format_version %d pid %d", st.FormatVersion, st.Daemon.PID)
			}
		})
	}
	if int(n.Load()) != len(tests) {
		t.Errorf("snapshot taken %d times for %d clients", n.Load(), len(tests))
	}
}

// A client that connects and then never reads nor closes does not hold up
// others, and is cut off after ConnTimeout.
func TestSilentClientsDoNotBlock(t *testing.T) {
	path, _ := serve(t, sample)
	var silent []net.Conn
	for range MaxConns - 1 {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	start := time.Now()
	if _, err := Query(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("query took %v with %d silent clients", el, len(silent))
	}
	// The server half-closed after writing; the silent client's
	// connection is fully closed by ConnTimeout: a write then fails.
	c := silent[0]
	c.SetDeadline(time.Now().Add(2 * ConnTimeout))
	io.ReadAll(c) // the document, then EOF
	time.Sleep(ConnTimeout + 200*time.Millisecond)
	if _, err := c.Write([]byte("x")); err == nil {
		if _, err := c.Write([]byte("x")); err == nil {
			t.Error("silent connection still open after ConnTimeout")
		}
	}
}

func TestListen(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string) // prepares path
		wantErr string                          // substring; "" = Listen succeeds
	}{
		{name: "fresh, creates the directory", setup: func(t *testing.T, path string) {}},
		{
			name: "stale socket of a dead daemon is removed",
			setup: func(t *testing.T, path string) {
				ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
				if err != nil {
					t.Fatal(err)
				}
				ln.SetUnlinkOnClose(false) // as after kill -9
				ln.Close()
				if _, err := os.Stat(path); err != nil {
					t.Fatal("setup: no stale socket file")
				}
			},
		},
		{
			name: "live daemon refused with its pid",
			setup: func(t *testing.T, path string) {
				serveAt(t, path)
			},
			wantErr: "another lbx watch is running (pid " + strconv.Itoa(os.Getpid()) + ", status socket ",
		},
		{
			name: "live socket without the lock is not stolen",
			setup: func(t *testing.T, path string) {
				ln, err := net.Listen("unix", path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
			},
			wantErr: "another lbx watch is running",
		},
		{
			name: "a regular file is not removed",
			setup: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte("keep"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "exists and is not a socket",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run", "lbx", "lbx.sock")
			if !strings.HasPrefix(tc.name, "fresh") {
				os.MkdirAll(filepath.Dir(path), 0o755)
			}
			tc.setup(t, path)
			s, err := Listen(path)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go s.Serve(ctx, func(Request) Status { return sample() })
				if _, err := Query(context.Background(), path); err != nil {
					t.Fatalf("query the new server: %v", err)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("Listen succeeded, want error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q, want it to contain %q", err, tc.wantErr)
			}
			if tc.name == "a regular file is not removed" {
				if b, _ := os.ReadFile(path); string(b) != "keep" {
					t.Error("the regular file was changed")
				}
			}
		})
	}
}

func serveAt(t *testing.T, path string) {
	t.Helper()
	s, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	run(t, s, sample)
}

// After Serve returns, the socket file is gone and the next daemon starts.
func TestShutdownReleases(t *testing.T) {
	path, stop := serve(t, sample)
	stop()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file after shutdown: %v", err)
	}
	s, err := Listen(path)
	if err != nil {
		t.Fatalf("second daemon after the first stopped: %v", err)
	}
	s.Close()
}

func TestQueryNotRunning(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	tests := []struct{ path, want string }{
		{filepath.Join(dir, "absent.sock"), "no lbx watch is running (no socket at " + filepath.Join(dir, "absent.sock") + ")"},
		{stale, "no lbx watch is running (stale socket at " + stale + ")"},
	}
	for _, tc := range tests {
		_, err := Query(context.Background(), tc.path)
		if !errors.Is(err, ErrNotRunning) || err.Error() != tc.want {
			t.Errorf("Query(%s) = %v, want %q wrapping ErrNotRunning", tc.path, err, tc.want)
		}
	}
}

// A daemon that accepts but never answers (wedged) gives a bounded error.
func TestQueryWedgedDaemon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wedged.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			time.Sleep(2 * time.Second)
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Query(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("Query of a wedged daemon: %v", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %v, want about the 300 ms deadline", el)
	}
}

func TestWriteText(t *testing.T) {
	now := t0.Add(2*time.Hour + 3*time.Second)
	tests := []struct {
		name string
		st   func() *Status
		want []string
		not  []string
	}{
		{
			name: "full",
			st:   func() *Status { s := sample(); return &s },
			want: []string{
				"lbx watch pid " + strconv.Itoa(os.Getpid()) + " (v0.1.0), up 2h0m, model /etc/lbx/lbx.yaml, reloaded 1h0m ago\n",
				"last reconcile 3s ago: changed, 1 changes, 1 kernel writes, took 4.2ms\n",
				"INSTANCE  INTERFACE  VRID  STATE   PRIORITY     SINCE  REASON",
				"VI_1      eth0       51    MASTER  150          1h59m  master_down timer expired",
				"VI_2      eth1       52    BACKUP  80 (of 100)  2h0m   higher priority advert",
				"\nINSTANCE  HELD                              NOT HELD       TRACKING\n" +
					"VI_1      10.0.0.100,10.0.0.101,10.0.0.200  -              -\n" +
					"VI_2      -                                 2001:db8::100  script chk_nginx failed: -30, interface eth2 up: +10\n",
				"\nreal servers: 1/2 up\nSERVICE          REAL               HEALTH  WEIGHT  LATENCY  CHECKED  LAST ERROR\n",
				"192.168.1.11:8080  up      1       1.2ms    3s ago   -\n",
				"192.168.1.12:8080  down    0       300µs    3s ago   connect: connection refused\n",
				"counters: adverts_sent=7200 drop_auth=3\n",
			},
			not: []string{"FAILED", "no reconcile yet", "sync daemon"},
		},
		{
			name: "a model of VRRP alone, in lbx-vrrp",
			st: func() *Status {
				s := sample()
				s.Daemon.Process = "lbx-vrrp"
				return &s
			},
			want: []string{"lbx watch pid " + strconv.Itoa(os.Getpid()) + " (v0.1.0), in lbx-vrrp, up 2h0m"},
		},
		{
			name: "FAULT: the tracked objects that hold it there",
			st: func() *Status {
				s := sample()
				s.VRRP = []Instance{{Name: "VI_F", Interface: "d0", VRID: 9, State: "FAULT", Priority: 100, EffectivePriority: 100, LastTransition: t0, LastReason: "interface d1 is down",
					Addresses: []Address{{Address: "192.0.2.50"}},
					Tracking: []Track{{Kind: TrackInterface, Name: "d0", Up: true}, {Kind: TrackSource, Name: "d0", Fault: true},
						{Kind: TrackInterface, Name: "d1", Fault: true}, {Kind: TrackScript, Name: "chk", Fault: true}}}}
				return &s
			},
			want: []string{"VI_F      -     192.0.2.50  no source address on d0: FAULT, interface d1 down: FAULT, script chk failed: FAULT\n"},
		},
		{
			name: "sync daemon, running and not",
			st: func() *Status {
				s := sample()
				s.SyncDaemon = &SyncDaemon{Role: "master", Interface: "sy0", SyncID: 51, Error: "start IPVS sync daemon master on sy0, sync id 51: interface \"sy0\" does not exist\nmore"}
				return &s
			},
			want: []string{`IPVS sync daemon: master on sy0, sync id 51, NOT RUNNING: start IPVS sync daemon master on sy0, sync id 51: interface "sy0" does not exist`},
		},
		{
			name: "sync daemon running",
			st: func() *Status {
				s := sample()
				s.SyncDaemon = &SyncDaemon{Role: "backup", Interface: "sy0", SyncID: 51}
				return &s
			},
			want: []string{"IPVS sync daemon: backup on sy0, sync id 51\n"},
			not:  []string{"NOT RUNNING"},
		},
		{
			name: "fresh daemon, failed reload",
			st: func() *Status {
				return &Status{Daemon: Daemon{PID: 7, StartTime: now.Add(-500 * time.Millisecond), ModelFile: "m.yaml", LastReloadError: "m.yaml:3: unknown field \"vip\""}}
			},
			want: []string{
				"lbx watch pid 7, up 500ms, model m.yaml\n",
				"last reload FAILED (previous model in force): m.yaml:3: unknown field \"vip\"\n",
				"no reconcile yet\n",
			},
			not: []string{"INSTANCE", "SERVICE", "counters"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteText(&b, tc.st(), now); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("unexpected %q", n)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// The JSON field names of addresses and tracking, as scripts read them
// (`lbx status -o json | jq '.vrrp[].tracking[] | select(.fault)'`).
func TestJSONNames(t *testing.T) {
	b, err := json.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`"addresses":[{"address":"10.0.0.100","held":true},{"address":"10.0.0.101","held":true},{"address":"10.0.0.200","held":true,"excluded":true}]`,
		`"addresses":[{"address":"2001:db8::100","held":false}]`,
		`{"kind":"script","name":"chk_nginx","up":false,"weight":-30,"applied_weight":-30}`,
		`{"kind":"interface","name":"eth0","up":true,"weight":0,"applied_weight":0}`,
	} {
		if !strings.Contains(string(b), w) {
			t.Errorf("missing %s", w)
		}
	}
	var f Status
	f.VRRP = []Instance{{Tracking: []Track{{Kind: TrackInterface, Name: "d1", Fault: true}}}}
	b, _ = json.Marshal(f)
	if !strings.Contains(string(b), `"fault":true`) {
		t.Errorf("fault not in %s", b)
	}
	if t.Failed() {
		t.Logf("%s", b)
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {850 * time.Millisecond, "850ms"}, {12 * time.Second, "12s"},
		{5*time.Minute + 3*time.Second, "5m3s"}, {5 * time.Minute, "5m"},
		{80 * time.Second, "1m20s"}, {5*time.Minute + 30*time.Second, "5m30s"},
		{3*time.Hour + 12*time.Minute + 40*time.Second, "3h13m"}, {2*time.Hour + 10*time.Minute, "2h10m"},
		{2 * time.Hour, "2h0m"},
		{52 * time.Hour, "2d4h"}, {-time.Second, "0s"},
	}
	for _, tc := range tests {
		if got := age(t0.Add(tc.d), t0); got != tc.want {
			t.Errorf("age(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// FuzzWriteText: whatever document a daemon sends, rendering it never
// panics. Seeds in testdata/fuzz/FuzzWriteText.
func FuzzWriteText(f *testing.F) {
	b, _ := json.Marshal(sample())
	f.Add(b)
	f.Add([]byte(`{"format_version":1,"vrrp":[{}],"real_servers":[{"latency_seconds":1e300}],"last_reconcile":{"duration_seconds":-1}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var st Status
		if json.Unmarshal(doc, &st) != nil {
			return
		}
		var w strings.Builder
		if err := WriteText(&w, &st, t0); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(w.String(), "lbx watch pid ") {
			t.Fatalf("output does not start with the daemon line: %q", w.String())
		}
	})
}

package check

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/check/tlsclient"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestMain serves HTTP when the benchmark starts this binary as its
// server: the server runs in a process of its own, so that the
// benchmark's CPU figures are the checker's alone.
func TestMain(m *testing.M) {
	if os.Getenv("LBX_CHECK_BENCH_SERVER") == "1" {
		ln, err := net.Listen("tcp", "0.0.0.0:0")
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }))
		os.Exit(1)
	}
	// lbx-check-tls's setting: the SSL_GET tests need TLS
	// (TestSSLWithoutTLS takes it away for itself).
	UseTLS(tlsclient.Handshake)
	os.Exit(testkit.Main(m.Run))
}

// serveInChild starts this test binary as an HTTP server on every
// loopback address and returns its port.
func serveInChild(b *testing.B) uint16 {
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), "LBX_CHECK_BENCH_SERVER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var port uint16
	if _, err := fmt.Fscan(out, &port); err != nil {
		b.Fatalf("bench server: %v", err)
	}
	return port
}

// BenchmarkHTTPCycle500 is one check cycle of 500 HTTP real servers, all
// served by one loopback httpd listening on every address (the real
// servers are 127.0.1.1 .. 127.0.2.244, one port). One op = 500 checks run
// concurrently: "evloop" as the runner runs them (one event loop),
// "goroutines" as a goroutine per probe calling Check (the design the
// event loop replaced). Reported: CPU time of the whole process (the
// checker: the httpd is another process) per cycle, and allocations per cycle.
func BenchmarkHTTPCycle500(b *testing.B) {
	port := serveInChild(b)
	st, _ := ParseStatusSet(nil)
	const n = 500
	checkers := make([]*HTTP, n)
	a := netip.MustParseAddr("127.0.1.1")
	for i := range checkers {
		checkers[i] = NewHTTP(HTTP{Conn: Conn{Addr: netip.AddrPortFrom(a, port), Timeout: 5 * time.Second}, URLs: []URL{{Path: "/", Status: st}}})
		a = a.Next()
	}
	cycles := map[string]func() int{
		"goroutines": func() (failed int) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			for _, c := range checkers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if r := c.Check(context.Background()); !r.Up {
						mu.Lock()
						failed++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			return failed
		},
	}
	l, err := newEvloop()
	if err != nil {
		b.Fatal(err)
	}
	defer l.close()
	cycles["evloop"] = func() (failed int) {
		now := time.Now()
		for _, c := range checkers {
			l.start(c, nil, now)
		}
		for left := n; ; {
			for _, d := range l.take() {
				left--
				if !d.res.Up {
					failed++
				}
			}
			if left == 0 {
				return failed
			}
			l.wait(time.Now(), l.next())
			l.expire(time.Now())
		}
	}
	for _, name := range []string{"evloop", "goroutines"} {
		b.Run(name, func(b *testing.B) {
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ReportAllocs()
			b.ResetTimer()
			failed := 0
			for i := 0; i < b.N; i++ {
				failed += cycles[name]()
			}
			b.StopTimer()
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			if failed > 0 {
				b.Fatalf("%d checks failed", failed)
			}
			cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime)-syscall.TimevalToNsec(ru0.Utime)) + time.Duration(syscall.TimevalToNsec(ru1.Stime)-syscall.TimevalToNsec(ru0.Stime))
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/cycle")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "wall-ms/cycle")
		})
	}
}

package check

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkHTTPCycle500 is one check cycle of 500 HTTP real servers, all
// served by one loopback httpd listening on every address (the real
// servers are 127.0.1.1 .. 127.0.2.244, one port). One op = 500 checks run
// concurrently, as the runner runs them. Reported: CPU time of the whole
// process (checker and httpd) per cycle, and allocations per cycle.
func BenchmarkHTTPCycle500(b *testing.B) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }))
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	st, _ := ParseStatusSet(nil)
	const n = 500
	checkers := make([]Checker, n)
	a := netip.MustParseAddr("127.0.1.1")
	for i := range checkers {
		checkers[i] = NewHTTP(HTTP{Conn: Conn{Addr: netip.AddrPortFrom(a, port), Timeout: 5 * time.Second}, URLs: []URL{{Path: "/", Status: st}}})
		a = a.Next()
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ReportAllocs()
	b.ResetTimer()
	failed := 0
	for i := 0; i < b.N; i++ {
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
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	if failed > 0 {
		b.Fatalf("%d checks failed", failed)
	}
	cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime)-syscall.TimevalToNsec(ru0.Utime)) + time.Duration(syscall.TimevalToNsec(ru1.Stime)-syscall.TimevalToNsec(ru0.Stime))
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/cycle")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "wall-ms/cycle")
}

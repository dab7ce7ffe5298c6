package checkproc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/checkmodel"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
)

// BenchmarkCheckerRSS500 is the real lbx-check's peak resident memory
// (VmHWM, and the file and anonymous parts at the end) checking 500 real
// servers by HTTP every second on loopback for 20 s (LBX_RSS_DUR), the
// host figure of docs/performance.md's Memory section:
//
//	go test ./checkproc -run '^$' -bench CheckerRSS500 -benchtime 1x
func BenchmarkCheckerRSS500(b *testing.B) {
	const servers = 500
	dur := 20 * time.Second
	if s := os.Getenv("LBX_RSS_DUR"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("LBX_RSS_DUR: %v", err)
		}
		dur = d
	}
	bin := filepath.Join(testkit.Binaries(b, "./cmd/lbx-check"), "lbx-check")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	ts, err := checkmodel.Targets(rssModel(b, servers, ln.Addr().(*net.TCPAddr).Port))
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		c := New(Options{Path: bin, Build: buildOf(b, bin)})
		if err := c.Start(context.Background(), ts, func([]check.Transition) {}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(dur)
		up := 0
		for _, h := range c.Health() {
			if h.Up {
				up++
			}
		}
		st := childStatus(b)
		c.Stop()
		if up != servers {
			b.Fatalf("%d of %d servers up after %s", up, servers, dur)
		}
		for _, f := range []string{"VmHWM", "RssFile", "RssAnon"} {
			b.ReportMetric(st[f], f+"-kB")
		}
	}
}

// rssModel is n virtual servers with one real server each, each checked
// by HTTP at 127.0.0.1:port (connect_ip: the listener is on loopback only).
func rssModel(b *testing.B, n, port int) *model.Model {
	var y strings.Builder
	y.WriteString("version: 1\nvirtual_servers:\n")
	for i := range n {
		fmt.Fprintf(&y, `  - address: 192.0.%d.%d
    port: 80
    delay_loop: 1s
    real_servers:
      - address: 127.0.%d.%d
        port: 80
        checks: [{type: http_get, connect_ip: 127.0.0.1, connect_port: %d, urls: [{path: /}]}]
`, 2+i/250, 1+i%250, 1+i/250, 1+i%250, port)
	}
	m, err := model.Parse([]byte(y.String()), "m.yaml")
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// childStatus reads the kB fields of the one child process's
// /proc/PID/status.
func childStatus(b *testing.B) map[string]float64 {
	var kids []string
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		b.Fatal(err)
	}
	for _, task := range tasks {
		k, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		kids = append(kids, strings.Fields(string(k))...)
	}
	if len(kids) != 1 {
		b.Fatalf("%d child processes (%v), want the checker alone", len(kids), kids)
	}
	data, err := os.ReadFile("/proc/" + kids[0] + "/status")
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for _, l := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(l, ":")
		if f := strings.Fields(rest); ok && len(f) == 2 && f[1] == "kB" {
			v, _ := strconv.ParseFloat(f[0], 64)
			out[name] = v
		}
	}
	return out
}

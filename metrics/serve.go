package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/lbx-dev/lbx/internal/accept"
	"github.com/lbx-dev/lbx/metrics/internal/expo"
	"golang.org/x/net/netutil"
)

// maxScrapes is how many scrapes are served at once; more get 503. A
// scrape never holds the loop up: it only reads in-memory values, and a
// slow scraper is cut off by the server's timeouts below.
const maxScrapes = 4

// Handler serves m's metrics in the Prometheus text exposition format.
func (m *Registry) Handler() http.Handler {
	inFlight := make(chan struct{}, maxScrapes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case inFlight <- struct{}{}:
			defer func() { <-inFlight }()
		default:
			http.Error(w, "too many scrapes at once; retry", http.StatusServiceUnavailable)
			return
		}
		var b bytes.Buffer
		if err := m.WriteText(&b); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", expo.ContentType)
		w.Write(b.Bytes())
	})
}

// Listen binds addr (host:port, e.g. ":9650" or "127.0.0.1:9650") so that
// a taken port fails `lbx watch` at start, before it touches the kernel.
// An empty addr means metrics are off: Listen returns an error then, so
// callers check for "" first.
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, errNoAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	return ln, nil
}

// MaxConns bounds the metrics server's connections, so that its
// descriptors are bounded too: anyone who can reach the port could
// otherwise hold thousands of idle connections and leave the daemon no
// descriptor for a track script or a netlink socket. Beyond MaxConns new
// connections wait in the kernel's backlog (costing the daemon nothing)
// until one closes; at the cap, idle keep-alive connections are closed.
const MaxConns = 64

// ServeListener serves /metrics (and a plain-text index on /) on ln until
// ctx is done, then shuts down, giving in-flight scrapes a second. It
// returns nil after ctx is done, or the server's error. Accept errors
// (EMFILE when something else took every descriptor) are logged and
// retried: they never end the server.
func ServeListener(ctx context.Context, ln net.Listener, m *Registry) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "lbx watch: metrics at /metrics")
	})
	idle := newIdleCloser(MaxConns)
	srv := &http.Server{
		Handler: mux,
		// Bounded everything: a stuck or slow client holds one goroutine
		// and one fd for at most these durations.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ConnState:         idle.track,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	ln = netutil.LimitListener(accept.Retrying(ln, "metrics "+ln.Addr().String(), nil), MaxConns)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// idleCloser keeps keep-alive from holding the cap: when the server has
// limit connections open, the idle ones are closed, and a connection that
// goes idle then is closed instead of kept.
type idleCloser struct {
	limit int
	mu    sync.Mutex
	open  int
	idle  map[net.Conn]struct{}
}

func newIdleCloser(limit int) *idleCloser {
	return &idleCloser{limit: limit, idle: make(map[net.Conn]struct{})}
}

// track is the server's ConnState hook.
func (ic *idleCloser) track(c net.Conn, state http.ConnState) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	switch state {
	case http.StateNew:
		ic.open++
		if ic.open >= ic.limit {
			for c := range ic.idle {
				c.Close() // the server then reports StateClosed
				delete(ic.idle, c)
			}
		}
	case http.StateIdle:
		if ic.open >= ic.limit {
			c.Close()
			return
		}
		ic.idle[c] = struct{}{}
	case http.StateActive:
		delete(ic.idle, c)
	case http.StateClosed, http.StateHijacked:
		ic.open--
		delete(ic.idle, c)
	}
}

// Serve is Listen then ServeListener: it serves m on addr until ctx is done.
// An empty addr means metrics are off: Serve returns nil at once.
func Serve(ctx context.Context, addr string, m *Registry) error {
	if addr == "" {
		return nil
	}
	ln, err := Listen(addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, m)
}

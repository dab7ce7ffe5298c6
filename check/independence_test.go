package check

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

func httpProbe(t *testing.T, a net.Addr, loop, timeout time.Duration) Probe {
	st, _ := ParseStatusSet(nil)
	return Probe{
		Checker:  NewHTTP(HTTP{Conn: Conn{Addr: addrOf(t, a), Timeout: timeout}, URLs: []URL{{Path: "/", Status: st}}}),
		Settings: Settings{Type: "http_get", DelayLoop: loop, Retry: 0, DelayBeforeRetry: loop, Deadline: timeout, Spec: a.String()},
	}
}

func idN(i int) model.RealID {
	id := rid(0)
	id.Real.Port = uint16(1000 + i)
	return id
}

// TestIndependence: one server that accepts and never answers, N good
// ones. The hanging one is declared down at its deadline; the good ones are
// checked on schedule all along, never waiting for it.
func TestIndependence(t *testing.T) {
	var hits atomic.Int64
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer good.Close()
	hang := silentListener(t)
	const n = 20
	loop, timeout := 50*time.Millisecond, 1500*time.Millisecond
	targets := []Target{{ID: idN(0), Checks: []Probe{httpProbe(t, hang.Addr(), loop, timeout)}}}
	for i := 1; i <= n; i++ {
		targets = append(targets, Target{ID: idN(i), Checks: []Probe{httpProbe(t, good.Listener.Addr(), loop, timeout)}})
	}
	got := make(chan []Transition, 10)
	r := New(Options{})
	start := time.Now()
	if err := r.Start(context.Background(), targets, func(b []Transition) { got <- b }); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	time.Sleep(timeout / 2)
	// Half-way through the hanging probe, every good server has been
	// checked several times already.
	for _, st := range r.Stats() {
		if st.ID == idN(0) {
			continue
		}
		// Ideally 15; a serialized runner would have at most 1. The
		// margin is for a shared, noisy machine.
		if c := st.Checks[0]; c.Total < 2 || c.Failed != 0 {
			t.Errorf("%s: %d probes (%d failed) in %s, want >= 2 and none failed", st.ID, c.Total, c.Failed, timeout/2)
		}
	}
	select {
	case b := <-got:
		el := time.Since(start)
		if len(b) != 1 || b[0].ID != idN(0) || b[0].Health.Up {
			t.Fatalf("got %+v, want only the hanging server down", b)
		}
		// Slack for a shared, noisy machine; the point is that it is
		// bounded, and that the good servers did not wait (above).
		if el > timeout+time.Second {
			t.Errorf("hanging server declared down after %s, deadline %s", el, timeout)
		}
	case <-time.After(timeout + 2*time.Second):
		t.Fatal("hanging server never declared down")
	}
	for _, st := range r.Stats() {
		if c := st.Checks[0]; st.ID != idN(0) && c.Total < 5 {
			t.Errorf("%s: only %d probes while the hanging one ran", st.ID, c.Total)
		}
	}
	h := r.Health()
	for i := 1; i <= n; i++ {
		if !h[idN(i)].Up {
			t.Errorf("%s down", idN(i))
		}
	}
}

func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		testkit.Skip(t, "no /proc/self/fd: "+err.Error())
	}
	return len(ents)
}

// TestNoLeaks: many cycles of checks of every kind that fail in every way,
// with reloads, then Stop: goroutines and file descriptors return to where
// they were.
func TestNoLeaks(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer good.Close()
	hang := silentListener(t)
	reset := resetListener(t)
	refused := closedPort(t)
	dnsOK := dnsServer(t, "ok")
	dnsSilent := dnsServer(t, "silent")
	dir := t.TempDir()
	never := writeScript(t, dir, "never.sh", "sleep 1000 &\nwait")
	quick := writeScript(t, dir, "quick.sh", "exit 3")

	loop, timeout := 20*time.Millisecond, 100*time.Millisecond
	s := func(typ, spec string) Settings {
		return Settings{Type: typ, DelayLoop: loop, Retry: 1, DelayBeforeRetry: loop / 2, Deadline: timeout, Spec: spec}
	}
	c := func(a net.Addr) Conn { return Conn{Addr: addrOf(t, a), Timeout: timeout} }
	build := func(gen int) []Target {
		var ts []Target
		add := func(p Probe) {
			ts = append(ts, Target{ID: idN(len(ts)), Checks: []Probe{p}})
		}
		st, _ := ParseStatusSet(nil)
		for _, a := range []net.Addr{good.Listener.Addr(), hang.Addr(), reset.Addr(), refused} {
			add(Probe{Checker: NewHTTP(HTTP{Conn: c(a), URLs: []URL{{Path: "/", Status: st}}}), Settings: s("http", a.String())})
			add(Probe{Checker: NewHTTP(HTTP{Conn: c(a), TLS: true, URLs: []URL{{Path: "/", Status: st}}}), Settings: s("ssl", a.String())})
			add(Probe{Checker: &TCP{Conn: c(a)}, Settings: s("tcp", a.String())})
			add(Probe{Checker: &SMTP{Conn: c(a), HeloName: "x"}, Settings: s("smtp", a.String())})
		}
		add(Probe{Checker: &DNS{Conn: c(dnsOK), Type: 6, Name: "."}, Settings: s("dns", "ok")})
		add(Probe{Checker: &DNS{Conn: c(dnsSilent), Type: 6, Name: "."}, Settings: s("dns", "silent")})
		add(Probe{Checker: &UDP{Conn: c(dnsSilent), RequireReply: true}, Settings: s("udp", "silent")})
		add(Probe{Checker: &Misc{Args: []string{never}, Timeout: timeout}, Settings: s("misc", never)})
		// The quick script's key changes every generation: its probe is
		// replaced on each Update.
		add(Probe{Checker: &Misc{Args: []string{quick}, Timeout: timeout, Dynamic: true}, Settings: s("misc", quick+string(rune('a'+gen)))})
		return ts
	}

	// Warm up lazily created runtime state (netpoller, resolver, TLS
	// tables) before taking the baseline.
	for _, tg := range build(0) {
		tg.Checks[0].Checker.Check(context.Background())
	}
	time.Sleep(100 * time.Millisecond)
	baseG, baseFD := runtime.NumGoroutine(), countFDs(t)

	for round := 0; round < 3; round++ {
		r := New(Options{})
		if err := r.Start(context.Background(), build(0), func([]Transition) {}); err != nil {
			t.Fatal(err)
		}
		for gen := 1; gen <= 5; gen++ {
			time.Sleep(150 * time.Millisecond)
			if err := r.Update(build(gen)); err != nil {
				t.Fatal(err)
			}
		}
		var total uint64
		for _, st := range r.Stats() {
			total += st.Checks[0].Total
		}
		r.Stop()
		if total < 100 {
			t.Fatalf("round %d: only %d probes ran", round, total)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		g, fd := runtime.NumGoroutine(), countFDs(t)
		if g <= baseG && fd <= baseFD {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("leak: goroutines %d -> %d, fds %d -> %d\n%s", baseG, g, baseFD, fd, buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var _ = state.TCP

package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/state"
)

// TestRunStop: SIGTERM (the context's end) leaves the model's IPVS
// services in place, or removes them with global.ipvs_on_stop: remove,
// and then no more writes come.
func TestRunStop(t *testing.T) {
	for _, tc := range []struct {
		onStop string
		want   int // services in the kernel after Run returned
	}{
		{"", 1}, {"keep", 1}, {"remove", 0},
	} {
		t.Run("ipvs_on_stop="+tc.onStop, func(t *testing.T) {
			dir := t.TempDir()
			y := "version: 1\nglobal: {resync_interval: 100ms"
			if tc.onStop != "" {
				y += ", ipvs_on_stop: " + tc.onStop
			}
			y += "}\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.1}]}\n"
			k, stop := runWatch(t, dir, y)
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if n := len(k.State().Services); n != tc.want {
				t.Errorf("%d services after stop, want %d", n, tc.want)
			}
			writes := k.Writes
			time.Sleep(300 * time.Millisecond) // three resync intervals
			if k.Writes != writes {
				t.Errorf("%d kernel writes after Run returned", k.Writes-writes)
			}
		})
	}
}

// TestRunStopOmega: with omega, the stop runs quorum_down (quorum held)
// and the notify_down of each real server that is up; without, neither.
func TestRunStopOmega(t *testing.T) {
	for _, tc := range []struct {
		omega  bool
		onStop string
		run    bool
	}{
		{true, "remove", true},
		{true, "keep", false}, // nothing leaves the pool
		{false, "remove", false},
	} {
		t.Run(fmt.Sprintf("omega=%v,ipvs_on_stop=%s", tc.omega, tc.onStop), func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "scripts.log")
			y := fmt.Sprintf(`version: 1
global: {ipvs_on_stop: %[3]s}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    omega: %[1]v
    quorum: {down_script: 'echo quorum_down >>%[2]s'}
    real_servers: [{address: 10.1.0.1, notify_down: 'echo notify_down >>%[2]s'}]
`, tc.omega, log, tc.onStop)
			_, stop := runWatch(t, dir, y)
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			b, _ := os.ReadFile(log)
			lines := strings.Fields(string(b))
			sort.Strings(lines)
			want := []string{"notify_down", "quorum_down"}
			if !tc.run {
				want = nil
			}
			if !slices.Equal(lines, want) {
				t.Errorf("scripts run at stop: %q, want %q", lines, want)
			}
		})
	}
}

// runWatch runs Run on model y against a fake kernel until the model's
// one service is applied; stop ends it (SIGTERM) and returns Run's error
// once it returned.
func runWatch(t *testing.T, dir, y string) (k *apply.FakeKernel, stop func() error) {
	t.Helper()
	k = apply.NewFakeKernel("eth0")
	return k, runWatchOn(t, dir, y, k, k)
}

// runWatchOn is runWatch on a given kernel (fake is the state behind it).
func runWatchOn(t *testing.T, dir, y string, k apply.Kernel, fake *apply.FakeKernel) (stop func() error) {
	t.Helper()
	m, file := loadModel(t, dir, y)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Model: m, File: file, StateDir: dir,
			Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
			OpenKernel: func() (apply.Kernel, error) { return k, nil }})
	}()
	eventually(t, "service applied", func() bool { return len(fake.State().Services) == 1 })
	return func() error {
		cancel()
		select {
		case err := <-done:
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context ended")
			return nil
		}
	}
}

// slowReads is a kernel whose reads take a while and that records whether
// two calls ever overlapped: two writers.
type slowReads struct {
	*apply.FakeKernel
	inFlight atomic.Int32
	overlap  atomic.Bool
}

func (k *slowReads) enter() func() {
	if k.inFlight.Add(1) > 1 {
		k.overlap.Store(true)
	}
	return func() { k.inFlight.Add(-1) }
}

func (k *slowReads) Read(ctx context.Context) (*state.State, error) {
	defer k.enter()()
	time.Sleep(80 * time.Millisecond)
	return k.FakeKernel.Read(ctx)
}

func (k *slowReads) DeleteService(ctx context.Context, key state.ServiceKey) error {
	defer k.enter()()
	return k.FakeKernel.DeleteService(ctx, key)
}

// TestRunStopOneWriter: a stop that removes the services while the loop
// is in a reconcile (resyncs back to back, each read slow) waits for that
// reconcile; the two never overlap, and the removal is done.
func TestRunStopOneWriter(t *testing.T) {
	for i := 0; i < 5; i++ {
		dir := t.TempDir()
		k := &slowReads{FakeKernel: apply.NewFakeKernel("eth0")}
		stop := runWatchOn(t, dir, "version: 1\nglobal: {resync_interval: 100ms, ipvs_on_stop: remove}\n"+
			"virtual_servers:\n  - {address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.1}]}\n", k, k.FakeKernel)
		time.Sleep(time.Duration(20+i*37) * time.Millisecond) // somewhere in a resync
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if k.overlap.Load() {
			t.Fatalf("stop %d: the stop's removal ran beside the loop's reconcile (two writers)", i)
		}
		if n := len(k.State().Services); n != 0 {
			t.Fatalf("stop %d: %d services left, want 0", i, n)
		}
	}
}

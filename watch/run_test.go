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
	"testing"
	"time"

	"github.com/lbx-dev/lbx/apply"
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
	m, file := loadModel(t, dir, y)
	k = apply.NewFakeKernel("eth0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Model: m, File: file, StateDir: dir,
			Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
			OpenKernel: func() (apply.Kernel, error) { return k, nil }})
	}()
	eventually(t, "service applied", func() bool { return len(k.State().Services) == 1 })
	return k, func() error {
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

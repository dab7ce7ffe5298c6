package watch

import (
	"context"
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
	"github.com/lbx-dev/lbx/model"
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
			file := filepath.Join(dir, "m.yaml")
			os.WriteFile(file, []byte(y), 0o644)
			m, err := model.LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			k := apply.NewFakeKernel("eth0")
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- Run(ctx, Options{Model: m, File: file, StateDir: dir,
					Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
					OpenKernel: func() (apply.Kernel, error) { return k, nil }})
			}()
			eventually(t, "service applied", func() bool { return len(k.State().Services) == 1 })
			cancel()
			select {
			case err := <-done:
				if err != nil && err != context.Canceled {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after its context ended")
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
	for _, omega := range []bool{true, false} {
		t.Run(fmt.Sprintf("omega=%v", omega), func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "scripts.log")
			y := fmt.Sprintf(`version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    omega: %v
    quorum: {down_script: 'echo quorum_down >>%[2]s'}
    real_servers: [{address: 10.1.0.1, notify_down: 'echo notify_down >>%[2]s'}]
`, omega, log)
			file := filepath.Join(dir, "m.yaml")
			os.WriteFile(file, []byte(y), 0o644)
			m, err := model.LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			k := apply.NewFakeKernel("eth0")
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- Run(ctx, Options{Model: m, File: file, StateDir: dir,
					Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
					OpenKernel: func() (apply.Kernel, error) { return k, nil }})
			}()
			eventually(t, "service applied", func() bool { return len(k.State().Services) == 1 })
			cancel()
			<-done
			b, _ := os.ReadFile(log)
			lines := strings.Fields(string(b))
			sort.Strings(lines)
			want := []string{"notify_down", "quorum_down"}
			if !omega {
				want = nil
			}
			if !slices.Equal(lines, want) {
				t.Errorf("scripts run at stop: %q, want %q", lines, want)
			}
		})
	}
}

package watch

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
)

// hangScriptsModel: the real server 10.1.0.1's MISC_CHECK flips its result
// on every run (FLAP), so it goes up and down many times a second, each
// time running its notify_up or notify_down and the virtual server's
// quorum_up or quorum_down (10.1.0.2's check hangs: it stays up, as at the start, and the quorum of 2 follows 10.1.0.1). Every one of
// those scripts hangs (HANG).
const hangScriptsModel = `version: 1
global: {resync_interval: 100ms}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    quorum: {min: 2, up_script: HANG quorum_up, down_script: HANG quorum_down}
    real_servers:
      - {address: 10.1.0.1, notify_up: HANG notify_up, notify_down: HANG notify_down,
         checks: [{type: misc, path: FLAP, delay_loop: 20ms}]}
      - {address: 10.1.0.2, notify_up: HANG notify_up2, notify_down: HANG notify_down2,
         checks: [{type: misc, path: HANG misc, delay_loop: 20ms, timeout: 1h}]}
`

// TestHangingEngineScripts is issue 26's rule for lbx watch's own scripts
// (real server notify_up/notify_down, quorum up/down, and a MISC_CHECK)
// when every one of them hangs: they run through a bounded queue, so that
// however many transitions there are, only a few run at once (one per
// command and kind), the engine keeps reconciling the health changes, and
// a stop ends within 5 s with every script killed. Before, each transition
// started a goroutine and a process that lived 30 s, beyond the stop.
//
// In-process against apply's fake IPVS kernel: the host has no IPVS, and
// lbx watch with virtual servers needs it (the namespace tests run
// VRRP-only models). The scripts and the checker are real; the MISC_CHECK
// scripts run as the script user (root), which needs root.
func TestHangingEngineScripts(t *testing.T) {
	testkit.RequireRoot(t, "running MISC_CHECK scripts as root")
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	hang := filepath.Join(dir, "hang.sh")
	os.WriteFile(hang, []byte("#!/bin/sh\necho $$ $1 >> "+pids+"\nexec sleep 1000000\n"), 0o755)
	flap, up := filepath.Join(dir, "flap.sh"), filepath.Join(dir, "up")
	os.WriteFile(flap, []byte(fmt.Sprintf("#!/bin/sh\nif [ -e %[1]s ]; then rm %[1]s; exit 1; fi\ntouch %[1]s\n", up)), 0o755)
	y := strings.NewReplacer("FLAP", flap, "HANG", hang).Replace(hangScriptsModel)
	m, file := loadModel(t, dir, y)
	k := kerneltest.NewFakeKernel("eth0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Model: m, File: file, StateDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			OpenKernel: func() (kernel.Kernel, error) { return k, nil }})
	}()
	started := func() []string { b, _ := os.ReadFile(pids); return strings.Split(strings.TrimSpace(string(b)), "\n") }
	live := func() (n int) {
		for _, l := range started() {
			if f := strings.Fields(l); len(f) > 0 && alive(f[0]) {
				n++
			}
		}
		return n
	}

	// The flapping: reconciles follow (10.1.0.1 in and out of the
	// kernel), while the hanging scripts stay few.
	const kinds = 5 // notify_up, notify_down, quorum_up, quorum_down, misc
	reads, peak := k.ReadCount(), 0
	var ins, outs int
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		peak = max(peak, live())
		if len(reals(k)) == 1 {
			ins++
		} else {
			outs++
		}
	}
	if peak > kinds {
		t.Errorf("%d hanging scripts ran at once, want at most %d (one per command and kind)", peak, kinds)
	}
	if ins == 0 || outs == 0 || k.ReadCount() == reads {
		t.Errorf("the engine stopped following health: 10.1.0.1 seen in %d and out %d times, %d kernel reads", ins, outs, k.ReadCount()-reads)
	}
	seen := map[string]bool{}
	for _, l := range started() {
		if f := strings.Fields(l); len(f) == 2 {
			seen[f[1]] = true
		}
	}
	for _, want := range []string{"notify_up", "notify_down", "quorum_up", "quorum_down", "misc"} {
		if !seen[want] {
			t.Errorf("no %s script ran (ran: %v)", want, seen)
		}
	}

	at := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of the stop with hanging scripts")
	}
	t.Logf("stopped in %s; peak %d hanging scripts; %d started", time.Since(at).Round(time.Millisecond), peak, len(started()))
	testkit.Eventually(t, "every hanging script killed", 5*time.Second, func() bool { return live() == 0 })
}

// alive: process pid exists and is no zombie.
func alive(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || syscall.Kill(n, 0) != nil {
		return false
	}
	s, err := os.ReadFile("/proc/" + pid + "/stat")
	return err == nil && !strings.Contains(string(s), ") Z ")
}

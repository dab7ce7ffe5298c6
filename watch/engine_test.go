package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/checkmodel"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/metrics"
	"github.com/lbx-dev/lbx/metrics/metricstest"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
	"github.com/lbx-dev/lbx/watch/lvsrules"
)

const watchModel = `version: 1
global: {resync_interval: 100ms}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    inhibit_on_failure: false
    sorry_server: {address: 10.9.0.1, port: 80}
    real_servers:
      - {address: 10.1.0.1, weight: 2, checks: [{type: tcp}]}
      - {address: 10.1.0.2, weight: 3, checks: [{type: tcp}]}
`

var (
	svc = state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Family: state.IPv4}
	rs1 = model.RealID{Service: svc, Real: state.RealKey{Addr: netip.MustParseAddr("10.1.0.1"), Port: 80}}
	rs2 = model.RealID{Service: svc, Real: state.RealKey{Addr: netip.MustParseAddr("10.1.0.2"), Port: 80}}
)

// loadModel writes y as dir/m.yaml and loads it.
func loadModel(t testing.TB, dir, y string) (*model.Model, string) {
	t.Helper()
	file := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return m, file
}

func startEngine(t testing.TB, y string) (*engine, *kerneltest.FakeKernel, string) {
	t.Helper()
	return startEngineOn(t, y, func(k *kerneltest.FakeKernel) kernel.Kernel { return k })
}

// startEngineOn is startEngine with the engine's kernel made from the
// fake one by wrap (a slower kernel, one that fails).
func startEngineOn(t testing.TB, y string, wrap func(*kerneltest.FakeKernel) kernel.Kernel) (*engine, *kerneltest.FakeKernel, string) {
	t.Helper()
	dir := t.TempDir()
	m, file := loadModel(t, dir, y)
	k := kerneltest.NewFakeKernel("eth0")
	owner, _ := apply.OpenOwnerRecord(dir, "")
	e := newEngine(m, file, wrap(k), owner, nil, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	e.claimDeclared(e.declared)
	runLoop(t, e)
	return e, k, file
}

// runLoop runs the engine's loop until the test ends and returns its
// context. The cleanup waits for the loop to end: it may be writing the
// ownership record in the test's directory, which t.TempDir's cleanup
// then removes.
func runLoop(t testing.TB, e *engine) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan struct{})
	go func() { defer close(ended); e.loop(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			t.Error("the engine's loop did not end within 10 s of its context's")
		}
	})
	return ctx
}

// await waits for cond on the engine's events (the end of a loop turn, a
// script run), checking it at once and after each: the loop is
// asynchronous by design, and a test waits on what it emits, not on a
// clock.
func await(t *testing.T, e *engine, what string, cond func() bool) {
	t.Helper()
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for !cond() {
		select {
		case <-e.turned:
		case <-timeout.C:
			t.Fatalf("timed out waiting for: %s", what)
		}
	}
}

// scriptsRan waits until every script the engine queued has run.
func scriptsRan(t *testing.T, e *engine) {
	t.Helper()
	await(t, e, "the queued scripts run", func() bool { return e.scriptsPending.Load() == 0 })
}

// awaitTurns waits until n turns of the loop that start from now have
// ended (0: until the turn under way, if any, has ended).
func awaitTurns(t *testing.T, e *engine, n uint64) {
	t.Helper()
	start := e.turnsStarted.Load()
	await(t, e, fmt.Sprintf("%d more turns of the loop", n), func() bool { return e.turnsEnded.Load() >= start+n })
}

// kickTurn kicks the loop for why and waits for a turn begun after the
// kick to end. The count is taken before the kick: the loop may have
// begun the turn by the time the caller looks (awaitTurns after a kick
// then waited for one more turn, which never came).
func kickTurn(t *testing.T, e *engine, why trigger) {
	t.Helper()
	started := e.turnsStarted.Load()
	e.kick(why)
	await(t, e, "a turn after the kick", func() bool { return e.turnsEnded.Load() > started })
}

func reals(k *kerneltest.FakeKernel) map[state.RealKey]state.Real {
	s := k.State().Services[svc]
	if s == nil {
		return nil
	}
	return s.Reals
}

func TestHealthDrivesKernel(t *testing.T) {
	e, k, _ := startEngine(t, watchModel)
	e.kick(trigResync)
	await(t, e, "both real servers in", func() bool { return len(reals(k)) == 2 })

	down := model.Health{Up: false}
	up := model.Health{Up: true}
	e.onHealth([]check.Transition{{ID: rs1, Health: down}})
	await(t, e, "rs1 removed", func() bool { _, ok := reals(k)[rs1.Real]; return !ok && len(reals(k)) == 1 })

	// All down: the sorry server comes in; back up: it leaves.
	e.onHealth([]check.Transition{{ID: rs2, Health: down}})
	sorry := state.RealKey{Addr: netip.MustParseAddr("10.9.0.1"), Port: 80}
	await(t, e, "sorry server in", func() bool { _, ok := reals(k)[sorry]; return ok && len(reals(k)) == 1 })
	e.onHealth([]check.Transition{{ID: rs2, Health: up}})
	await(t, e, "sorry server out", func() bool { _, ok := reals(k)[sorry]; _, ok2 := reals(k)[rs2.Real]; return !ok && ok2 })
}

func TestDriftRepairedOnResync(t *testing.T) {
	e, k, _ := startEngine(t, watchModel)
	e.kick(trigResync)
	await(t, e, "applied", func() bool { return len(reals(k)) == 2 })
	k.Mutate(func(st *state.State) { delete(st.Services[svc].Reals, rs1.Real) })
	await(t, e, "hand-deleted real server restored", func() bool { return len(reals(k)) == 2 })
	k.Mutate(func(st *state.State) { delete(st.Services, svc) })
	await(t, e, "hand-deleted service restored", func() bool { return len(reals(k)) == 2 })
	// The kernel shows a repair before the engine counts it (the count
	// follows the apply's return): wait for the count, do not sample it.
	await(t, e, "both repairs counted in drift_repaired", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.counters["drift_repaired"] >= 2
	})
}

func TestReloadIsADiff(t *testing.T) {
	e, k, file := startEngine(t, watchModel)
	e.kick(trigResync)
	await(t, e, "applied", func() bool { return len(reals(k)) == 2 })
	writes := k.Writes
	os.WriteFile(file, []byte(strings.Replace(watchModel, "weight: 3", "weight: 4", 1)), 0o644)
	if err := e.reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	await(t, e, "weight changed", func() bool { return reals(k)[rs2.Real].Weight == 4 })
	awaitTurns(t, e, 3) // a few resyncs: nothing else may be written
	if w := k.Writes - writes; w != 1 {
		t.Errorf("reload with one weight changed made %d kernel writes, want 1", w)
	}
	// An invalid file is refused and the running model stays.
	os.WriteFile(file, []byte("version: 1\nvirtual_servers: [{address: nope}]\n"), 0o644)
	if err := e.reload(context.Background()); err == nil {
		t.Fatal("invalid model accepted on reload")
	}
	awaitTurns(t, e, 2)
	if len(reals(k)) != 2 || e.status().Daemon.LastReloadError == "" {
		t.Errorf("invalid reload changed the kernel or was not reported: %+v", e.status().Daemon)
	}
	// Removing the service from the model deletes it (it is ours).
	os.WriteFile(file, []byte("version: 1\n"), 0o644)
	if err := e.reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	await(t, e, "service removed", func() bool { return k.State().Services[svc] == nil })
}

func TestKernelErrorsDoNotKillTheLoop(t *testing.T) {
	e, k, _ := startEngine(t, watchModel)
	k.FailWrite = 1 // the first write fails
	e.kick(trigResync)
	await(t, e, "converged after a failed write", func() bool { return len(reals(k)) == 2 })
	if st := e.status(); st.LastReconcile == nil || st.LastReconcile.Result == "error" {
		t.Errorf("last reconcile: %+v", st.LastReconcile)
	}
}

// TestHealthReconcilesOnlyItsService: a health transition reads and plans
// only its service's real servers (no whole-table read); a kick for
// everything folded into it still reconciles everything.
func TestHealthReconcilesOnlyItsService(t *testing.T) {
	e, k, _ := startEngine(t, strings.Replace(watchModel, "resync_interval: 100ms", "resync_interval: 1h", 1))
	e.kick(trigResync)
	await(t, e, "both real servers in", func() bool { return len(reals(k)) == 2 })
	reads := func() uint64 { e.mu.Lock(); defer e.mu.Unlock(); return e.counters["reconciles"] }
	before, wholeReads := reads(), k.ReadCount()

	down, up := model.Health{Up: false}, model.Health{Up: true}
	e.onHealth([]check.Transition{{ID: rs1, Health: down}})
	await(t, e, "rs1 removed", func() bool { _, ok := reals(k)[rs1.Real]; return !ok })
	await(t, e, "the reconcile counted", func() bool { return reads() > before })
	if n := k.ReadCount(); n != wholeReads {
		t.Errorf("a health transition read the whole table %d times", n-wholeReads)
	}

	// An address notification reconciles addresses only: no whole read.
	e.kick(trigNetlink)
	await(t, e, "the netlink reconcile counted", func() bool { return reads() > before+1 })
	if n := k.ReadCount(); n != wholeReads {
		t.Errorf("an address notification read the whole table %d times", n-wholeReads)
	}

	// Drift in the same service is repaired by the scoped reconcile too;
	// a kick for everything (the address subscription reopened) folded
	// into a health one makes it whole.
	k.Mutate(func(st *state.State) { delete(st.Services[svc].Reals, rs2.Real) })
	e.kick(trigResubscribed)
	e.onHealth([]check.Transition{{ID: rs1, Health: up}})
	await(t, e, "both back", func() bool { return len(reals(k)) == 2 })
	await(t, e, "a whole reconcile for the kick", func() bool { return k.ReadCount() > wholeReads })
}

// TestHealthAfterServiceDeletedByHand: a health transition whose service
// is gone from the kernel reconciles everything and brings it back.
func TestHealthAfterServiceDeletedByHand(t *testing.T) {
	e, k, _ := startEngine(t, strings.Replace(watchModel, "resync_interval: 100ms", "resync_interval: 1h", 1))
	e.kick(trigResync)
	await(t, e, "both real servers in", func() bool { return len(reals(k)) == 2 })
	k.Mutate(func(st *state.State) { delete(st.Services, svc) })
	down := model.Health{Up: false}
	e.onHealth([]check.Transition{{ID: rs1, Health: down}})
	await(t, e, "service back with rs2 only", func() bool { r := reals(k); _, ok := r[rs2.Real]; return len(r) == 1 && ok })
}

// TestQuorumScriptsAndHysteresis: quorum with hysteresis decides the sorry
// server, and quorum_up / quorum_down run on the crossings only.
func TestQuorumScriptsAndHysteresis(t *testing.T) {
	type step struct {
		id    model.RealID
		up    bool
		sorry bool   // the sorry server in IPVS after the step
		log   string // what the scripts wrote by then
	}
	log := filepath.Join(t.TempDir(), "scripts.log")
	echo := func(w string) string { return "'echo " + w + " >>" + log + "'" }
	for _, tc := range []struct {
		name, quorum string
		steps        []step
	}{
		{"min 3, hysteresis 1 (weights 2 + 3)", "{min: 3, hysteresis: 1, up_script: " + echo("up") + ", down_script: " + echo("down") + "}", []step{
			{rs2, false, false, ""},           // weight 2: within the hysteresis, kept
			{rs1, false, true, "down\n"},      // weight 0: lost
			{rs1, true, true, "down\n"},       // weight 2: below 3+1, still lost
			{rs2, true, false, "down\nup\n"},  // weight 5: regained
			{rs1, false, false, "down\nup\n"}, // weight 3: kept
		}},
		{"no min: keepalived's 1", "{down_script: " + echo("down") + "}", []step{
			{rs1, false, false, ""},
			{rs2, false, true, "down\n"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(log)
			e, k, _ := startEngine(t, strings.Replace(watchModel, "    sorry_server:", "    quorum: "+tc.quorum+"\n    sorry_server:", 1))
			// As Run does: the quorum as the first health has it.
			e.mu.Lock()
			e.health = map[model.RealID]model.Health{rs1: {Up: true}, rs2: {Up: true}}
			e.updateQuorumLocked()
			e.mu.Unlock()
			e.kick(trigResync)
			sorry := state.RealKey{Addr: netip.MustParseAddr("10.9.0.1"), Port: 80}
			for i, s := range tc.steps {
				e.onHealth([]check.Transition{{ID: s.id, Health: model.Health{Up: s.up}}})
				await(t, e, fmt.Sprintf("step %d: sorry server in=%v, scripts' log %q", i, s.sorry, s.log), func() bool {
					b, _ := os.ReadFile(log)
					_, in := reals(k)[sorry]
					return in == s.sorry && string(b) == s.log
				})
			}
			// No late script run after the last crossing.
			scriptsRan(t, e)
			if b, _ := os.ReadFile(log); string(b) != tc.steps[len(tc.steps)-1].log {
				t.Errorf("scripts' log %q after the last step", b)
			}
		})
	}
}

// TestQuorumAtFirstSight: keepalived 2.2.7's quorum at start (pinned in
// the VM by watch-quorum-parity): a service starts without quorum and
// gains it at quorum+hysteresis (up_script at start); below that, with a
// sorry server, it starts lost (down_script, only the sorry server in);
// without one, nothing runs.
func TestQuorumAtFirstSight(t *testing.T) {
	for _, tc := range []struct {
		name, vs    string
		up          []bool // health of 10.1.0.1, 10.1.0.2
		scripts     []string
		lost, sorry bool
	}{
		{"held: up_script", "quorum: {up_script: up, down_script: down}", []bool{true, true}, []string{"up"}, false, false},
		{"alpha, sorry server: down_script", "alpha: true\n    sorry_server: {address: 10.9.0.1}\n    quorum: {up_script: up, down_script: down}", []bool{false, false}, []string{"down"}, true, true},
		{"below quorum+hysteresis, sorry server", "sorry_server: {address: 10.9.0.1}\n    quorum: {min: 2, hysteresis: 1, up_script: up, down_script: down}", []bool{true, true}, []string{"down"}, true, true},
		{"lost, no sorry server: nothing", "quorum: {min: 2, up_script: up, down_script: down}", []bool{true, false}, nil, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, k, _ := startEngine(t, `version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    `+tc.vs+`
    real_servers:
      - {address: 10.1.0.1, checks: [{type: tcp}]}
      - {address: 10.1.0.2, checks: [{type: tcp}]}
`)
			e.mu.Lock()
			e.health = map[model.RealID]model.Health{rs1: {Up: tc.up[0]}, rs2: {Up: tc.up[1]}}
			scripts := e.updateQuorumLocked()
			lost := e.quorumLost[svc]
			again := e.updateQuorumLocked()
			e.mu.Unlock()
			if !slices.Equal(cmds(scripts), tc.scripts) || lost != tc.lost || len(again) != 0 {
				t.Errorf("scripts %q, lost %v, then %q; want %q, %v, none", scripts, lost, again, tc.scripts, tc.lost)
			}
			e.kick(trigResync)
			sorry := state.RealKey{Addr: netip.MustParseAddr("10.9.0.1"), Port: 80}
			await(t, e, fmt.Sprintf("sorry server in: %v", tc.sorry), func() bool {
				_, in := reals(k)[sorry]
				return in == tc.sorry && (!tc.sorry || len(reals(k)) == 1)
			})
		})
	}
}

// TestQuorumScriptOncePerGroup: a group's services lose quorum together,
// and its down_script runs once (keepalived: a group is one virtual
// server), then its up_script once.
func TestQuorumScriptOncePerGroup(t *testing.T) {
	log := filepath.Join(t.TempDir(), "scripts.log")
	e, _, _ := startEngine(t, `version: 1
virtual_server_groups:
  - {name: g, members: [{address: 10.0.0.2, port: 80}, {address: 10.0.0.3, port: 80}]}
virtual_servers:
  - group: g
    quorum: {down_script: 'echo down >>`+log+`', up_script: 'echo up >>`+log+`'}
    real_servers: [{address: 10.1.0.4, port: 80}]
`)
	var ids []model.RealID
	for _, a := range []string{"10.0.0.2", "10.0.0.3"} {
		ids = append(ids, model.RealID{Service: state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr(a), Port: 80, Family: state.IPv4},
			Real: state.RealKey{Addr: netip.MustParseAddr("10.1.0.4"), Port: 80}})
	}
	e.mu.Lock()
	e.health = map[model.RealID]model.Health{ids[0]: {Up: true}, ids[1]: {Up: true}}
	e.updateQuorumLocked()
	e.mu.Unlock()
	read := func() string { b, _ := os.ReadFile(log); return string(b) }
	for _, step := range []struct {
		up   bool
		want string
	}{{false, "down\n"}, {true, "down\nup\n"}} {
		e.onHealth([]check.Transition{{ID: ids[0], Health: model.Health{Up: step.up}}, {ID: ids[1], Health: model.Health{Up: step.up}}})
		await(t, e, fmt.Sprintf("scripts' log %q", step.want), func() bool { return read() == step.want })
	}
	scriptsRan(t, e)
	if got := read(); got != "down\nup\n" {
		t.Errorf("scripts' log %q, want one down and one up", got)
	}
}

// tcpServer listens on a loopback port for the test's life, accepting
// and closing every connection (a TCP check passes); accepts counts them.
func tcpServer(t *testing.T) (port int, accepts *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepts = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, accepts
}

// TestHASuspendFollowsStartVRRPAndReload: a checked real server of an
// ha_suspend service is not probed before its instance is MASTER (from the
// first probe on), is probed while it is, and a reload that drops
// ha_suspend resumes its probes at once.
func TestHASuspendFollowsStartVRRPAndReload(t *testing.T) {
	port, accepts := tcpServer(t)
	y := func(suspend bool) string {
		return fmt.Sprintf(`version: 1
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 10.0.0.1/24}]}
virtual_servers:
  - address: 10.0.0.1
    port: %d
    ha_suspend: %v
    real_servers: [{address: 127.0.0.1, checks: [{type: tcp, delay_loop: 100ms, warmup: 0s}]}]
`, port, suspend)
	}
	e, _, file := startEngine(t, y(true))
	runner := check.New(check.Options{})
	e.runner = runner
	targets, err := checkmodel.Targets(e.m)
	if err != nil {
		t.Fatal(err)
	}
	e.suspendChecks()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := runner.Start(ctx, targets, e.onHealth); err != nil {
		t.Fatal(err)
	}
	defer runner.Stop()
	quiet := func(what string) {
		t.Helper()
		time.Sleep(50 * time.Millisecond) // a probe in flight may land
		n := accepts.Load()
		time.Sleep(400 * time.Millisecond)
		if got := accepts.Load(); got != n {
			t.Fatalf("%s: %d probes in 400 ms, want none", what, got-n)
		}
	}
	probed := func(what string) {
		t.Helper()
		n := accepts.Load()
		testkit.Eventually(t, what, 5*time.Second, func() bool { return accepts.Load() >= n+2 })
	}
	quiet("at start, no instance MASTER")
	if err := e.Reconcile(ctx, map[string]string{"VI_1": "MASTER"}); err != nil {
		t.Fatal(err)
	}
	probed("MASTER: probed")
	if err := e.Reconcile(ctx, map[string]string{"VI_1": "BACKUP"}); err != nil {
		t.Fatal(err)
	}
	quiet("BACKUP: suspended")
	os.WriteFile(file, []byte(y(false)), 0o644)
	if err := e.reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	probed("reloaded without ha_suspend: probed while BACKUP")
}

// TestDriftCountsOnlyRepairs: a change the facts explain is not drift,
// whatever reconcile applies it (here a resync that picks up a pending
// health transition); a change behind lbx's back is, even when a health
// or VRRP reconcile finds it. The start's apply is not drift either.
func TestDriftCountsOnlyRepairs(t *testing.T) {
	e, k, _ := startEngine(t, `version: 1
global: {resync_interval: 1h}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    real_servers:
      - {address: 10.1.0.1, weight: 2, checks: [{type: tcp}]}
      - {address: 10.1.0.2, weight: 3, checks: [{type: tcp}]}
  - address: 10.0.0.2
    port: 80
    real_servers: [{address: 10.1.0.3}]
`)
	drift := func() uint64 {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.counters["drift_repaired"]
	}
	ctx := context.Background()
	if err := e.reconcile(ctx, trigResync); err != nil || len(reals(k)) != 2 || len(k.State().Services) != 2 || drift() != 0 {
		t.Fatalf("start: err %v, %d real servers, drift %d; want 2 and 0", err, len(reals(k)), drift())
	}
	// A health transition applied by a resync: not drift.
	e.mu.Lock()
	e.health[rs1] = model.Health{Up: false}
	e.healthGen++
	e.mu.Unlock()
	if err := e.reconcile(ctx, trigResync); err != nil || len(reals(k)) != 1 || drift() != 0 {
		t.Fatalf("health on a resync: err %v, %d real servers, drift %d; want 1 and 0", err, len(reals(k)), drift())
	}
	// A weight changed by hand, repaired by the next resync: drift.
	k.Mutate(func(st *state.State) {
		r := st.Services[svc].Reals[rs2.Real]
		r.Weight = 9
		st.Services[svc].Reals[rs2.Real] = r
	})
	if err := e.reconcile(ctx, trigResync); err != nil || reals(k)[rs2.Real].Weight != 3 || drift() != 1 {
		t.Fatalf("hand edit: err %v, weight %d, drift %d; want 3 and 1", err, reals(k)[rs2.Real].Weight, drift())
	}
	// The same again: a VRRP reconcile reads and plans addresses only
	// (its transition's way to the kernel must not pay for the IPVS
	// table), so the next resync repairs it: drift.
	k.Mutate(func(st *state.State) {
		r := st.Services[svc].Reals[rs2.Real]
		r.Weight = 9
		st.Services[svc].Reals[rs2.Real] = r
	})
	reads := k.ReadCount()
	if err := e.Reconcile(ctx, map[string]string{}); err != nil || reals(k)[rs2.Real].Weight != 9 || k.ReadCount() != reads || drift() != 1 {
		t.Fatalf("VRRP reconcile: err %v, weight %d, %d whole reads, drift %d; want 9, none, 1", err, reals(k)[rs2.Real].Weight, k.ReadCount()-reads, drift())
	}
	if err := e.reconcile(ctx, trigResync); err != nil || reals(k)[rs2.Real].Weight != 3 || drift() != 2 {
		t.Fatalf("hand edit found by the resync after: err %v, weight %d, drift %d; want 3 and 2", err, reals(k)[rs2.Real].Weight, drift())
	}
	// A model change (a reload: another service's weight) with a health
	// reconcile of the first service in between: that reconcile does not
	// cover the model, and the whole one after it applies the model, which
	// is not drift.
	e.mu.Lock()
	w := 4
	e.m.VirtualServers[1].RealServers[0].Weight = &w
	e.factsGen++
	e.health[rs1] = model.Health{Up: true}
	e.healthGen++
	e.healthScope[svc] = true
	e.mu.Unlock()
	if err := e.reconcile(ctx, trigHealth); err != nil || drift() != 2 {
		t.Fatalf("health reconcile after a reload: err %v, drift %d; want 2", err, drift())
	}
	svc2 := state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.2"), Port: 80, Family: state.IPv4}
	rs3 := state.RealKey{Addr: netip.MustParseAddr("10.1.0.3"), Port: 80}
	if err := e.reconcile(ctx, trigReload); err != nil || k.State().Services[svc2].Reals[rs3].Weight != 4 || drift() != 2 {
		t.Fatalf("reload's reconcile: err %v, weight %d, drift %d; want 4 and 2", err, k.State().Services[svc2].Reals[rs3].Weight, drift())
	}
}

func TestStatusLine(t *testing.T) {
	up, down := model.Health{Up: true}, model.Health{}
	for _, tc := range []struct {
		vrrp   map[string]string
		health map[model.RealID]model.Health
		want   string
	}{
		{nil, nil, "running"},
		{map[string]string{"VI_1": "MASTER", "VI_2": "BACKUP"}, nil, "1/2 VRRP MASTER"},
		{nil, map[model.RealID]model.Health{rs1: up, rs2: down}, "1/2 real servers up"},
		{map[string]string{"VI_1": "MASTER"}, map[model.RealID]model.Health{rs1: up, rs2: up}, "1/1 VRRP MASTER; 2/2 real servers up"},
	} {
		if got := statusLine(tc.vrrp, tc.health); got != tc.want {
			t.Errorf("statusLine(%v, %v) = %q, want %q", tc.vrrp, tc.health, got, tc.want)
		}
	}
}

// TestNotifyScripts: a real server's notify_down and notify_up run on its
// transitions (keepalived's notify_down / notify_up), once each.
func TestNotifyScripts(t *testing.T) {
	log := filepath.Join(t.TempDir(), "notify.log")
	e, _, _ := startEngine(t, strings.Replace(watchModel, "{address: 10.1.0.1, weight: 2,",
		"{address: 10.1.0.1, notify_up: 'echo up >>"+log+"', notify_down: 'echo down >>"+log+"', weight: 2,", 1))
	e.kick(trigResync)
	read := func() string { b, _ := os.ReadFile(log); return string(b) }
	e.onHealth([]check.Transition{{ID: rs1, Health: model.Health{}}, {ID: rs2, Health: model.Health{}}})
	await(t, e, "notify_down ran", func() bool { return read() == "down\n" })
	e.onHealth([]check.Transition{{ID: rs1, Health: model.Health{Up: true}}})
	await(t, e, "notify_up ran", func() bool { return read() == "down\nup\n" })
	// A misc_dynamic weight change is no transition: no script.
	w := 7
	e.onHealth([]check.Transition{{ID: rs1, Health: model.Health{Up: true, Weight: &w}}})
	scriptsRan(t, e)
	if got := read(); got != "down\nup\n" {
		t.Errorf("scripts' log %q, want one down and one up", got)
	}
}

// TestNotifyScriptsGroup: a real server of a virtual server group is
// reported under each service of the group; its notify_down runs once.
func TestNotifyScriptsGroup(t *testing.T) {
	log := filepath.Join(t.TempDir(), "notify.log")
	e, _, _ := startEngine(t, `version: 1
virtual_server_groups:
  - name: g
    members: [{address: 10.0.0.1-2, port: 80}]
virtual_servers:
  - group: g
    real_servers:
      - {address: 10.1.0.1, port: 80, notify_down: 'echo down >>`+log+`', checks: [{type: tcp}]}
`)
	other := model.RealID{Service: state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.2"), Port: 80, Family: state.IPv4}, Real: rs1.Real}
	e.onHealth([]check.Transition{{ID: rs1, Health: model.Health{}}, {ID: other, Health: model.Health{}}})
	read := func() string { b, _ := os.ReadFile(log); return string(b) }
	await(t, e, "notify_down ran", func() bool { return read() != "" })
	scriptsRan(t, e)
	if got := read(); got != "down\n" {
		t.Errorf("scripts' log %q, want one down", got)
	}
}

// TestStatusAndMetricsOfChecks: `lbx status` shows each checked real
// server's weight in the pool (its own while up, 0 while down and
// inhibited), and a group's real server, checked once, is reported under
// every service of the group, in status and in lbx_checker_up.
func TestStatusAndMetricsOfChecks(t *testing.T) {
	port, _ := tcpServer(t)
	e, _, _ := startEngine(t, fmt.Sprintf(`version: 1
virtual_server_groups:
  - {name: g, members: [{address: 10.0.0.2, port: 80}, {address: 10.0.0.3, port: 80}]}
virtual_servers:
  - group: g
    real_servers: [{address: 127.0.0.1, port: %d, weight: 3, checks: [{type: tcp, delay_loop: 100ms, warmup: 0s}]}]
  - address: 10.0.0.1
    port: 80
    inhibit_on_failure: true
    real_servers: [{address: 127.0.0.2, port: 1, weight: 5, checks: [{type: tcp, delay_loop: 100ms, warmup: 0s, retry: 0, connect_timeout: 1s}]}]
`, port))
	runner := check.New(check.Options{})
	e.runner = runner
	targets, err := checkmodel.Targets(e.m)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := runner.Start(ctx, targets, e.onHealth); err != nil {
		t.Fatal(err)
	}
	defer runner.Stop()
	type row struct {
		service, real string
		up            bool
		weight        int
	}
	rows := func() []row {
		var out []row
		for _, r := range e.status().RealServers {
			out = append(out, row{r.Service, r.Real, r.Up, r.Weight})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].service < out[j].service })
		return out
	}
	good := fmt.Sprintf("127.0.0.1:%d", port)
	want := []row{{"tcp/10.0.0.1:80", "127.0.0.2:1", false, 0}, {"tcp/10.0.0.2:80", good, true, 3}, {"tcp/10.0.0.3:80", good, true, 3}}
	await(t, e, fmt.Sprintf("status rows %v", want), func() bool { return slices.Equal(rows(), want) })

	met := metrics.New()
	exportChecks(met, runner.Stats())
	fams, err := metricstest.Gather(met)
	if err != nil {
		t.Fatal(err)
	}
	up := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "lbx_checker_up" {
			continue
		}
		for _, m := range f.GetMetric() {
			var svc string
			for _, l := range m.GetLabel() {
				if l.GetName() == "local_address" {
					svc = l.GetValue()
				}
			}
			up[svc] = m.GetGauge().GetValue()
		}
	}
	if want := map[string]float64{"10.0.0.1": 0, "10.0.0.2": 1, "10.0.0.3": 1}; !maps.Equal(up, want) {
		t.Errorf("lbx_checker_up by local_address %v, want %v", up, want)
	}
}

// TestIPVSErrorKeepsVIP: a service the kernel refuses (a scheduler module
// it lacks) neither keeps a new MASTER's VIP off the interface nor fails
// vrrpd's reconcile (its gratuitous ARP follows the address); the other
// service is made, the error is in the status, and the loop retries.
func TestIPVSErrorKeepsVIP(t *testing.T) {
	e, k, _ := startEngine(t, `version: 1
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 10.0.0.1/24}]}
virtual_servers:
  - {address: 10.0.0.1, port: 80, scheduler: mh, real_servers: [{address: 10.1.0.1}]}
  - {address: 10.0.0.1, port: 443, real_servers: [{address: 10.1.0.1}]}
`)
	k.Schedulers = map[string]bool{"wlc": true} // no mh
	if err := e.Reconcile(context.Background(), map[string]string{"VI_1": "MASTER"}); err != nil {
		t.Fatalf("vrrpd's reconcile: %v; want nil, the address is made", err)
	}
	st := k.State()
	if _, ok := st.Addresses[state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.1")}]; !ok {
		t.Error("the VIP is not on eth0")
	}
	https := state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 443, Family: state.IPv4}
	if s := st.Services[https]; s == nil || len(s.Reals) != 1 {
		t.Errorf("the service the kernel takes: %+v, want it with its real server", s)
	}
	if _, ok := st.Services[svc]; ok {
		t.Error("the mh service is in the kernel")
	}
	if last := e.status().LastReconcile; last == nil || !strings.Contains(last.Error, "mh") {
		t.Errorf("status' last reconcile %+v, want the scheduler's error", last)
	}
	n := e.status().Counters["reconciles"]
	await(t, e, "a retry", func() bool { return e.status().Counters["reconciles"] > n })
}

// TestUnrelatedAddressErrorKeepsGARP: an address of the model that cannot
// be made (a static one on an interface not there yet) does not fail
// vrrpd's reconcile when the instances' own addresses are made: vrrpd
// answers a failed reconcile with no gratuitous ARP for any instance
// and a retry every second, so the new master's VIP went unannounced. A
// VIP that is not made still fails it; the loop retries the other.
func TestUnrelatedAddressErrorKeepsGARP(t *testing.T) {
	e, k, _ := startEngine(t, `version: 1
addresses:
  - {interface: vlan99, address: 192.0.2.9/24}
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 10.0.0.1/24}]}
  - {name: VI_2, interface: eth1, virtual_router_id: 2, virtual_addresses: [{address: 10.0.1.1/24}]}
`)
	if err := e.Reconcile(context.Background(), map[string]string{"VI_1": "MASTER", "VI_2": "BACKUP"}); err != nil {
		t.Fatalf("vrrpd's reconcile: %v; want nil, VI_1's address is made", err)
	}
	if _, ok := k.State().Addresses[state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.1")}]; !ok {
		t.Error("VI_1's VIP is not on eth0")
	}
	if last := e.status().LastReconcile; last == nil || !strings.Contains(last.Error, "vlan99") {
		t.Errorf("status' last reconcile %+v, want vlan99's error", last)
	}
	// VI_2's interface is not there either: its own address fails it.
	if err := e.Reconcile(context.Background(), map[string]string{"VI_1": "MASTER", "VI_2": "MASTER"}); err == nil || !strings.Contains(err.Error(), "eth1") {
		t.Errorf("vrrpd's reconcile with VI_2's VIP not made: %v; want eth1's error", err)
	}
}

// TestReloadScripts: a reload that removes real servers runs what
// keepalived's reload runs (clear_diff_services; pinned against keepalived
// by the VM scenario watch-reload-parity), omega or not: the notify_down
// of each removed real server that was up, the quorum_down of a removed
// virtual server that had quorum and of a kept one that loses it, each
// once; a removed real server that was down runs nothing, and a reload
// that removes nothing runs nothing.
func TestReloadScripts(t *testing.T) {
	log := filepath.Join(t.TempDir(), "scripts.log")
	echo := func(w string) string { return "'echo " + w + " >>" + log + "'" }
	// model: VS A with quorum 2 over 10.1.0.1 (up), 10.1.0.2 (up) and
	// 10.1.0.3 (down); VS B (a group of two services) over 10.1.0.4.
	// dropA drops those real servers of A, withB keeps B.
	gen := func(dropA []string, withB bool) string {
		y := "version: 1\nvirtual_server_groups:\n  - {name: g, members: [{address: 10.0.0.2, port: 80}, {address: 10.0.0.3, port: 80}]}\n" +
			"virtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    quorum: {min: 2, down_script: " + echo("A-quorum_down") + "}\n    real_servers:\n"
		for _, r := range []string{"10.1.0.1", "10.1.0.2", "10.1.0.3"} {
			if !slices.Contains(dropA, r) {
				y += "      - {address: " + r + ", notify_down: " + echo("A-"+r+"-down") + "}\n"
			}
		}
		if withB {
			y += "  - group: g\n    quorum: {down_script: " + echo("B-quorum_down") + "}\n" +
				"    real_servers: [{address: 10.1.0.4, notify_down: " + echo("B-10.1.0.4-down") + "}]\n"
		}
		return y
	}
	for _, tc := range []struct {
		name  string
		next  string
		want  []string // sorted
		count int      // services in the kernel after
	}{
		{"nothing removed", gen(nil, true), nil, 3},
		{"a down real server removed", gen([]string{"10.1.0.3"}, true), nil, 3},
		{"an up real server removed: quorum 2 of A lost", gen([]string{"10.1.0.2"}, true), []string{"A-10.1.0.2-down", "A-quorum_down"}, 3},
		{"the group B removed, no omega", gen(nil, false), []string{"B-10.1.0.4-down", "B-quorum_down"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(log)
			e, k, file := startEngine(t, gen(nil, true))
			a := func(r string) model.RealID {
				return model.RealID{Service: svc, Real: state.RealKey{Addr: netip.MustParseAddr(r), Port: 80}}
			}
			e.mu.Lock()
			e.health = map[model.RealID]model.Health{a("10.1.0.1"): {Up: true}, a("10.1.0.2"): {Up: true}, a("10.1.0.3"): {Up: false}}
			e.updateQuorumLocked()
			e.mu.Unlock()
			e.kick(trigResync)
			await(t, e, "three services in", func() bool { return len(k.State().Services) == 3 })
			read := func() []string { b, _ := os.ReadFile(log); l := strings.Fields(string(b)); sort.Strings(l); return l }
			os.WriteFile(file, []byte(tc.next), 0o644)
			if err := e.reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			await(t, e, fmt.Sprintf("%d services", tc.count), func() bool { return len(k.State().Services) == tc.count })
			await(t, e, fmt.Sprintf("scripts %q", tc.want), func() bool { return slices.Equal(read(), tc.want) })
			scriptsRan(t, e) // nothing more, and nothing twice
			if got := read(); !slices.Equal(got, tc.want) {
				t.Errorf("scripts ran %q, want %q", got, tc.want)
			}
		})
	}
}

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
func runWatch(t *testing.T, dir, y string) (k *kerneltest.FakeKernel, stop func() error) {
	t.Helper()
	k = kerneltest.NewFakeKernel("eth0")
	return k, runWatchOn(t, dir, y, k, k)
}

// runWatchOn is runWatch on a given kernel (fake is the state behind it).
func runWatchOn(t *testing.T, dir, y string, k kernel.Kernel, fake *kerneltest.FakeKernel) (stop func() error) {
	t.Helper()
	m, file := loadModel(t, dir, y)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Model: m, File: file, StateDir: dir,
			Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
			OpenKernel: func() (kernel.Kernel, error) { return k, nil }})
	}()
	testkit.Eventually(t, "service applied", 5*time.Second, func() bool { return len(fake.State().Services) == 1 })
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
	*kerneltest.FakeKernel
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
		k := &slowReads{FakeKernel: kerneltest.NewFakeKernel("eth0")}
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

// lostHandle is a kernel handle whose first read times out: from then on
// it takes no more calls, as NetKernel after a call that did not answer.
type lostHandle struct {
	*kerneltest.FakeKernel
	closed atomic.Bool
}

func (k *lostHandle) Read(context.Context) (*state.State, error) {
	return nil, fmt.Errorf("read IPVS services: the kernel did not answer within 30s: %w", kernel.ErrKernelLost)
}

func (k *lostHandle) Close() error { k.closed.Store(true); return nil }

// TestKernelLostIsReopened: a kernel handle lost to a call that timed out
// is replaced by a new one on the retry, and the model is applied; the
// old handle is closed.
func TestKernelLostIsReopened(t *testing.T) {
	dir := t.TempDir()
	fake := kerneltest.NewFakeKernel("eth0")
	lost := &lostHandle{FakeKernel: fake}
	var opens atomic.Int32
	m, file := loadModel(t, dir, "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.1}]}\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Model: m, File: file, StateDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			OpenKernel: func() (kernel.Kernel, error) {
				if opens.Add(1) == 1 {
					return lost, nil
				}
				return fake, nil
			}})
	}()
	testkit.Eventually(t, "the service applied through a new handle", 5*time.Second, func() bool { return len(fake.State().Services) == 1 })
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if n := opens.Load(); n != 2 || !lost.closed.Load() {
		t.Errorf("%d opens, old handle closed %v; want 2 and true", n, lost.closed.Load())
	}
}

// TestDrainDoesNotHoldTheWriter: a reload that removes a real server with
// connections, under drain_timeout, sets it to weight 0 at once and
// deletes it once idle, while the loop goes on: a VRRP reconcile during
// the drain returns at once. The drain is no drift.
func TestDrainDoesNotHoldTheWriter(t *testing.T) {
	y := `version: 1
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 10.0.0.1/24}]}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    drain_timeout: 30s
    real_servers:
      - {address: 10.1.0.1}
      - {address: 10.1.0.2}
`
	e, k, file := startEngine(t, y)
	e.kick(trigResync)
	await(t, e, "both real servers in", func() bool { return len(reals(k)) == 2 })
	busy := rs2.Real
	k.Mutate(func(st *state.State) {
		r := st.Services[svc].Reals[busy]
		r.Counters.ActiveConns = 4
		st.Services[svc].Reals[busy] = r
	})
	os.WriteFile(file, []byte(strings.Replace(y, "      - {address: 10.1.0.2}\n", "", 1)), 0o644)
	if err := e.reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	await(t, e, "the removed server at weight 0", func() bool { r, ok := reals(k)[busy]; return ok && r.Weight == 0 })
	start := time.Now()
	if err := e.Reconcile(context.Background(), map[string]string{"VI_1": "MASTER"}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("a VRRP reconcile during the drain took %s", took)
	}
	if _, ok := k.State().Addresses[state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.1")}]; !ok {
		t.Error("the VIP is not in during the drain")
	}
	reads := k.ReadCount()
	awaitTurns(t, e, 1) // a drain poll: still busy, still there
	if n := k.ReadCount() - reads; n != 0 {
		t.Errorf("%d whole-table reads during the drain: its poll reads the drained service only", n)
	}
	if r, ok := reals(k)[busy]; !ok || r.Weight != 0 {
		t.Fatalf("busy server during the drain: %+v, %v; want it at weight 0", r, ok)
	}
	k.Mutate(func(st *state.State) {
		r := st.Services[svc].Reals[busy]
		r.Counters.ActiveConns = 0
		st.Services[svc].Reals[busy] = r
	})
	await(t, e, "the idle server deleted", func() bool { _, ok := reals(k)[busy]; return !ok })
	if d := e.status().Counters["drift_repaired"]; d != 0 {
		t.Errorf("drift_repaired %d, want 0", d)
	}
}

// hookKernel fails one CreateReal (transient), running hook first.
type hookKernel struct {
	*kerneltest.FakeKernel
	failCreate atomic.Bool
	hook       func()
}

func (k *hookKernel) CreateReal(ctx context.Context, s state.ServiceKey, r state.Real) error {
	if k.failCreate.Load() {
		k.failCreate.Store(false)
		k.hook()
		return errors.New("transient ENOMEM")
	}
	return k.FakeKernel.CreateReal(ctx, s, r)
}

// TestRetryOutlivesAddressesOnlyReconcile: a failed health reconcile
// followed, in the same turn of the loop, by a VRRP reconcile (addresses
// only) that succeeds is still retried.
func TestRetryOutlivesAddressesOnlyReconcile(t *testing.T) {
	y := `version: 1
global: {resync_interval: 1h}
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 10.0.0.1/24}]}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    real_servers:
      - {address: 10.1.0.1, checks: [{type: tcp}]}
      - {address: 10.1.0.2, checks: [{type: tcp}]}
`
	dir := t.TempDir()
	m, file := loadModel(t, dir, y)
	k := &hookKernel{FakeKernel: kerneltest.NewFakeKernel("eth0")}
	owner, _ := apply.OpenOwnerRecord(dir, "")
	e := newEngine(m, file, k, owner, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.claimDeclared(e.declared)
	ctx := runLoop(t, e)
	if err := e.Reconcile(ctx, map[string]string{"VI_1": "BACKUP"}); err != nil {
		t.Fatal(err)
	}
	await(t, e, "two reals", func() bool { return len(reals(k.FakeKernel)) == 2 })
	e.onHealth([]check.Transition{{ID: rs1, Health: model.Health{Up: false}}})
	await(t, e, "rs1 out", func() bool { return len(reals(k.FakeKernel)) == 1 })
	k.hook = func() {
		go e.Reconcile(ctx, map[string]string{"VI_1": "MASTER"})
		for len(e.syncq) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	k.failCreate.Store(true)
	e.onHealth([]check.Transition{{ID: rs1, Health: model.Health{Up: true}}})
	await(t, e, "rs1, up again, back after a transient failure (the retry)", func() bool { _, ok := reals(k.FakeKernel)[rs1.Real]; return ok })
}

// addrOnlyKernel is a kernel handle opened without IPVS.
type addrOnlyKernel struct{ *kerneltest.FakeKernel }

func (k addrOnlyKernel) CreateService(context.Context, *state.Service) error {
	return kernel.ErrAddressesOnly
}

// TestAddressesOnlyHandleStillServesVIPs: with virtual servers in the
// model and a handle without IPVS that cannot be replaced (no ip_vs on
// the host), a VRRP takeover still gets its VIP through the old handle,
// and the failure is in the status.
func TestAddressesOnlyHandleStillServesVIPs(t *testing.T) {
	dir := t.TempDir()
	m, file := loadModel(t, dir, `version: 1
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 10.0.0.1/24}]}
virtual_servers:
  - {address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.1}]}
`)
	k := addrOnlyKernel{kerneltest.NewFakeKernel("eth0")}
	owner, _ := apply.OpenOwnerRecord(dir, "")
	e := newEngine(m, file, k, owner, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.reopen = func(*model.Model) (kernel.Kernel, error) { return nil, errors.New("ip_vs: module not found") }
	e.claimDeclared(e.declared)
	ctx := runLoop(t, e)
	e.Reconcile(ctx, map[string]string{"VI_1": "BACKUP"}) // whole: the service fails
	err := e.Reconcile(ctx, map[string]string{"VI_1": "MASTER"})
	_, ok := k.State().Addresses[state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.1")}]
	if err != nil || !ok {
		t.Errorf("takeover: err %v, VIP on eth0 %v; want nil and true", err, ok)
	}
	await(t, e, "the reopen failure in the status", func() bool {
		last := e.status().LastReconcile
		return last != nil && strings.Contains(last.Error, "module not found")
	})
}

// TestReloadAppliesResyncInterval: a reload that changes
// global.resync_interval takes effect in the running loop.
func TestReloadAppliesResyncInterval(t *testing.T) {
	y := "version: 1\nglobal: {resync_interval: 1h}\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.1}]}\n"
	e, k, file := startEngine(t, y)
	e.kick(trigResync)
	await(t, e, "the service in", func() bool { return len(k.State().Services) == 1 })
	os.WriteFile(file, []byte(strings.Replace(y, "1h", "100ms", 1)), 0o644)
	if err := e.reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	awaitTurns(t, e, 0) // the reload's reconcile, then the new ticker
	reads := k.ReadCount()
	await(t, e, "resyncs every 100ms", func() bool { return k.ReadCount() >= reads+3 })
}

// TestSyncDaemonsFollowVRRP: with lvs_sync_daemon, the kernel runs the
// backup sync daemon from start, the master one while the instance is
// MASTER (never both: keepalived's rule, pinned against keepalived by the
// VM scenario watch-sync-daemon), a daemon changed by hand is put back on
// the resync, a reload's new settings replace the running one, and a
// reload without lvs_sync_daemon stops it (and then leaves the slots
// alone).
func TestSyncDaemonsFollowVRRP(t *testing.T) {
	const y = `version: 1
global:
  resync_interval: 100ms
  lvs_sync_daemon: {interface: sy0, vrrp_instance: VI_1}
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 51, virtual_addresses: [{address: 10.0.0.1/24}]}
`
	dir := t.TempDir()
	m, file := loadModel(t, dir, y)
	k := kerneltest.NewFakeKernel("eth0", "sy0")
	owner, _ := apply.OpenOwnerRecord(dir, "")
	e := newEngine(m, file, k, owner, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := runLoop(t, e)
	running := func() string {
		ds, _ := k.ReadSyncDaemons(ctx)
		var s []string
		for _, d := range ds {
			s = append(s, fmt.Sprintf("%s/%d", d.Role, d.SyncID))
		}
		return strings.Join(s, " ")
	}
	expect := func(what, want string) {
		t.Helper()
		await(t, e, what+": "+want, func() bool { return running() == want })
	}
	for _, step := range []struct{ state, want string }{
		{"BACKUP", "backup/51"}, {"MASTER", "master/51"}, {"FAULT", "backup/51"}, {"MASTER", "master/51"},
	} {
		if err := e.Reconcile(ctx, map[string]string{"VI_1": step.state}); err != nil {
			t.Fatal(err)
		}
		expect(step.state, step.want)
	}
	await(t, e, "the status says master", func() bool {
		st := e.status().SyncDaemon
		return st != nil && st.Role == "master" && st.Interface == "sy0" && st.SyncID == 51 && st.Error == ""
	})

	// By hand: the master stopped, a foreign backup started.
	k.StopSyncDaemon(ctx, state.SyncMaster)
	k.StartSyncDaemon(ctx, state.SyncDaemon{Role: state.SyncBackup, Interface: "sy0", SyncID: 9})
	expect("repaired on the resync", "master/51")

	// A reload with another sync id and a ttl replaces the daemon; one
	// that drops the ttl again gives the kernel's default back.
	ttl := func() int {
		ds, _ := k.ReadSyncDaemons(ctx)
		if len(ds) != 1 {
			return -1
		}
		return ds[0].TTL
	}
	os.WriteFile(file, []byte(strings.Replace(y, "vrrp_instance: VI_1}", "vrrp_instance: VI_1, sync_id: 7, ttl: 3}", 1)), 0o644)
	if err := e.reload(ctx); err != nil {
		t.Fatal(err)
	}
	expect("reloaded", "master/7")
	await(t, e, "ttl 3", func() bool { return ttl() == 3 })
	os.WriteFile(file, []byte(strings.Replace(y, "vrrp_instance: VI_1}", "vrrp_instance: VI_1, sync_id: 7}", 1)), 0o644)
	if err := e.reload(ctx); err != nil {
		t.Fatal(err)
	}
	await(t, e, "ttl back to the kernel's default", func() bool { return ttl() == state.SyncDefaultTTL })

	// A reload without lvs_sync_daemon stops it; a daemon started by hand
	// after that is not lbx's.
	os.WriteFile(file, []byte(strings.Replace(y, "  lvs_sync_daemon: {interface: sy0, vrrp_instance: VI_1}\n", "", 1)), 0o644)
	if err := e.reload(ctx); err != nil {
		t.Fatal(err)
	}
	expect("removed from the model", "")
	await(t, e, "no sync daemon in the status", func() bool { return e.status().SyncDaemon == nil })
	k.StartSyncDaemon(ctx, state.SyncDaemon{Role: state.SyncBackup, Interface: "sy0", SyncID: 3})
	kickTurn(t, e, trigResync)
	if got := running(); got != "backup/3" {
		t.Errorf("a foreign daemon after the removal: %q, want it left alone (backup/3)", got)
	}
}

// TestSyncDaemonErrorIsRetriedAndShown: a daemon the kernel refuses (its
// interface missing) does not fail vrrpd's reconcile (the VIP is made),
// shows in the status and is retried until the interface exists.
func TestSyncDaemonErrorIsRetriedAndShown(t *testing.T) {
	e, k, ctx, stop := syncEngine(t, "eth0")
	if err := e.Reconcile(ctx, map[string]string{"VI_1": "MASTER"}); err != nil {
		t.Fatalf("vrrpd's reconcile: %v; want nil (the VIP is made)", err)
	}
	if _, ok := k.State().Addresses[state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.1")}]; !ok {
		t.Error("no VIP")
	}
	await(t, e, "the error in the status", func() bool {
		st := e.status().SyncDaemon
		return st != nil && strings.Contains(st.Error, `interface "sy0" does not exist`)
	})
	k.Mutate(func(*state.State) { k.Interfaces["sy0"] = true })
	await(t, e, "started by a retry", func() bool {
		ds, _ := k.ReadSyncDaemons(ctx)
		return len(ds) == 1 && ds[0].Role == state.SyncMaster
	})
	await(t, e, "the error gone", func() bool { st := e.status().SyncDaemon; return st != nil && st.Error == "" })
	stop() // the stop's step runs after the loop, as in Run
	e.stopSyncDaemons(context.Background())
	if ds, _ := k.ReadSyncDaemons(ctx); len(ds) != 0 {
		t.Errorf("after the stop: %v", ds)
	}
}

// TestSyncDaemonAtShutdown: vrrpd's last reconcile (state STOP) stops the
// master daemon and starts no backup on the way out (keepalived stops the
// daemon it ran).
func TestSyncDaemonAtShutdown(t *testing.T) {
	e, k, ctx, _ := syncEngine(t, "eth0", "sy0")
	if err := e.Reconcile(ctx, map[string]string{"VI_1": "MASTER"}); err != nil {
		t.Fatal(err)
	}
	await(t, e, "the master daemon", func() bool {
		ds, _ := k.ReadSyncDaemons(ctx)
		return len(ds) == 1 && ds[0].Role == state.SyncMaster
	})
	awaitTurns(t, e, 0) // the turn's read-back
	writes := k.Writes
	if err := e.Reconcile(ctx, map[string]string{"VI_1": "STOP"}); err != nil {
		t.Fatal(err)
	}
	await(t, e, "no daemon", func() bool { ds, _ := k.ReadSyncDaemons(ctx); return len(ds) == 0 })
	// The VIP's removal and the daemon's stop: nothing started.
	awaitTurns(t, e, 0)
	if w := k.Writes - writes; w != 2 {
		t.Errorf("%d kernel writes at shutdown, want 2 (the VIP removed, the master stopped)", w)
	}
}

// syncEngine runs an engine's loop on a fake kernel with ifaces and a model
// whose sync daemon follows VI_1; stop ends the loop and waits for it.
func syncEngine(t *testing.T, ifaces ...string) (e *engine, k *kerneltest.FakeKernel, ctx context.Context, stop func()) {
	t.Helper()
	dir := t.TempDir()
	m, file := loadModel(t, dir, `version: 1
global:
  lvs_sync_daemon: {interface: sy0, vrrp_instance: VI_1}
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 51, virtual_addresses: [{address: 10.0.0.1/24}]}
`)
	k = kerneltest.NewFakeKernel(ifaces...)
	owner, _ := apply.OpenOwnerRecord(dir, "")
	e = newEngine(m, file, k, owner, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	loopDone := make(chan struct{})
	go func() { defer close(loopDone); e.loop(ctx) }()
	return e, k, ctx, func() { cancel(); <-loopDone }
}

// TestNotesLoggedOnce: a plan note (a route conflict) is logged when it
// appears, not at every resync that finds it again, and again after it
// went away and came back; addresses-only passes, which plan fewer
// objects than whole ones, do not make a whole pass's note look new.
func TestNotesLoggedOnce(t *testing.T) {
	type pass struct {
		whole bool
		notes []string
	}
	tests := []struct {
		name   string
		passes []pass
		want   map[string]int
	}{
		{"appears, stays, goes, comes back", []pass{{true, []string{"a"}}, {true, []string{"a"}}, {true, []string{"a", "b"}}, {true, nil}, {true, []string{"a"}}},
			map[string]int{"a": 2, "b": 1}},
		{"whole and addresses-only passes interleaved", []pass{{true, []string{"bgp"}}, {false, nil}, {true, []string{"bgp"}}, {false, nil}, {true, []string{"bgp"}}},
			map[string]int{"bgp": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			e := &engine{log: slog.New(slog.NewTextHandler(&out, nil))}
			for _, p := range tt.passes {
				e.logNewNotes(p.whole, p.notes)
			}
			for note, want := range tt.want {
				if got := strings.Count(out.String(), "note="+note); got != want {
					t.Errorf("note %s logged %d times, want %d:\n%s", note, got, want, out.String())
				}
			}
		})
	}
}

// TestLinkCameUp: the link watcher asks for a reconcile when a link goes
// up or gets its carrier back, not when it goes down or repeats itself.
func TestLinkCameUp(t *testing.T) {
	update := func(index int32, flags uint32) netlink.LinkUpdate {
		var u netlink.LinkUpdate
		u.Header.Type = unix.RTM_NEWLINK
		u.Index, u.Flags = index, flags
		return u
	}
	up, running := uint32(unix.IFF_UP), uint32(unix.IFF_UP|unix.IFF_RUNNING)
	gone := update(1, 0)
	gone.Header.Type = unix.RTM_DELLINK
	cameUp := linkCameUp()
	for i, c := range []struct {
		u    netlink.LinkUpdate
		want bool
	}{
		{update(1, running), true},  // first seen, up
		{update(1, running), false}, // the same again (an MTU change, say)
		{update(1, up), false},      // carrier lost
		{update(1, running), true},  // carrier back
		{update(1, 0), false},       // set down
		{update(1, up), true},       // set up, no carrier yet
		{update(2, 0), false},       // another link, first seen down
		{gone, false},
		{update(1, running), true}, // a new link with the old index
	} {
		if got := cameUp(c.u); got != c.want {
			t.Errorf("update %d (link %d, flags %#x): %v, want %v", i, c.u.Index, c.u.Flags, got, c.want)
		}
	}
}

// cmds are the command lines of scripts.
func cmds(scripts []lvsrules.Script) []string {
	var out []string
	for _, s := range scripts {
		out = append(out, s.Cmd)
	}
	return out
}

func TestHealthPacer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	for _, tc := range []struct {
		name       string
		took       time.Duration // the last health pass's length (0: none ran)
		askedAfter time.Duration // a pass asked for this long after it ended
		want       time.Duration
	}{
		{"no pass before", 0, 0, 0},
		{"right after a short pass", 5 * ms, 0, 5 * ms},
		{"during the spacing", 400 * ms, 100 * ms, 300 * ms},
		{"after the spacing", 400 * ms, 500 * ms, 0},
		{"a long pass waits at most the bound", 5 * time.Second, 0, maxHealthSpacing},
	} {
		var p healthPacer
		end := t0
		if tc.took > 0 {
			end = t0.Add(tc.took)
			p.ran(t0, end)
		}
		if got := p.wait(end.Add(tc.askedAfter)); got != tc.want {
			t.Errorf("%s: wait %v, want %v", tc.name, got, tc.want)
		}
	}
}

// slowServiceReads is a kernel whose reads of one service take delay: a
// director whose kernel dumps are slow (thousands of real servers, a
// loaded machine).
type slowServiceReads struct {
	*kerneltest.FakeKernel
	delay time.Duration
}

func (k slowServiceReads) ReadService(ctx context.Context, key state.ServiceKey) (*state.Service, error) {
	time.Sleep(k.delay)
	return k.FakeKernel.ReadService(ctx, key)
}

// TestHealthStormIsPaced: transitions that keep coming while health
// passes are slow are taken in passes spaced by their own length — about
// half as many as back to back — and the kernel ends at the last verdict.
func TestHealthStormIsPaced(t *testing.T) {
	const read = 20 * time.Millisecond
	e, fake, _ := startEngineOn(t, strings.Replace(watchModel, "resync_interval: 100ms", "resync_interval: 1h", 1),
		func(k *kerneltest.FakeKernel) kernel.Kernel { return slowServiceReads{k, read} })
	e.kick(trigResync)
	await(t, e, "both real servers in", func() bool { return len(reals(fake)) == 2 })
	passes := func() uint64 { e.mu.Lock(); defer e.mu.Unlock(); return e.counters["reconciles"] }
	before := passes()

	const storm = 600 * time.Millisecond
	for i, end := 0, time.Now().Add(storm); time.Now().Before(end); i++ {
		e.onHealth([]check.Transition{{ID: rs1, Health: model.Health{Up: i%2 == 1}}})
		time.Sleep(time.Millisecond)
	}
	e.onHealth([]check.Transition{{ID: rs1, Health: model.Health{Up: false}}})
	await(t, e, "rs1 out at last", func() bool { _, ok := reals(fake)[rs1.Real]; return !ok })
	awaitTurns(t, e, 0)
	backToBack := uint64(storm / read)
	if got := passes() - before; got > backToBack*3/4 {
		t.Errorf("a %v storm took %d health passes of %v each: want them spaced, about %d (back to back: %d)", storm, got, read, backToBack/2, backToBack)
	}
}

// TestHealthPassWithNothingLeft: a health kick whose services an earlier
// pass took reads nothing (it read the whole table, once per such race).
func TestHealthPassWithNothingLeft(t *testing.T) {
	e, k, _ := startEngine(t, strings.Replace(watchModel, "resync_interval: 100ms", "resync_interval: 1h", 1))
	e.kick(trigResync)
	await(t, e, "both real servers in", func() bool { return len(reals(k)) == 2 })
	awaitTurns(t, e, 0)
	wholeReads := k.ReadCount()
	kickTurn(t, e, trigHealth)
	if got := k.ReadCount(); got != wholeReads {
		t.Errorf("a health pass with no service left read the whole table %d times", got-wholeReads)
	}
}

// heldReads holds the kernel's whole reads while hold is set, telling
// waiting when one starts to wait.
type heldReads struct {
	*kerneltest.FakeKernel
	hold    atomic.Pointer[chan struct{}]
	waiting chan struct{}
}

func (k *heldReads) Read(ctx context.Context) (*state.State, error) {
	if ch := k.hold.Load(); ch != nil {
		k.waiting <- struct{}{}
		<-*ch
	}
	return k.FakeKernel.Read(ctx)
}

// TestKickBehindAnotherIsKept: a kick that finds the wake-up slot taken
// by another trigger is not lost. The loop's turn for an address
// notification reconciles addresses only, so a real server's health
// change kicked behind one waited for the next resync (an hour here).
func TestKickBehindAnotherIsKept(t *testing.T) {
	var held *heldReads
	e, fake, _ := startEngineOn(t, strings.Replace(watchModel, "resync_interval: 100ms", "resync_interval: 1h", 1),
		func(k *kerneltest.FakeKernel) kernel.Kernel {
			held = &heldReads{FakeKernel: k, waiting: make(chan struct{}, 1)}
			return held
		})
	e.kick(trigResync)
	await(t, e, "both real servers in", func() bool { return len(reals(fake)) == 2 })
	awaitTurns(t, e, 0)

	gate := make(chan struct{})
	held.hold.Store(&gate)
	e.kick(trigReload) // a whole turn, held in its read
	<-held.waiting
	e.kick(trigNetlink)                                               // takes the slot
	e.onHealth([]check.Transition{{ID: rs1, Health: model.Health{}}}) // kicks behind it
	held.hold.Store(nil)
	close(gate)
	await(t, e, "rs1 out", func() bool { _, ok := reals(fake)[rs1.Real]; return !ok })
}

// slowStats is a checker whose figures wait for release: lbx-check slow
// to answer.
type slowStats struct {
	Checker
	entered, release chan struct{}
}

func (s slowStats) Stats() []check.TargetStats {
	s.entered <- struct{}{}
	<-s.release
	return s.Checker.Stats()
}

// TestStatusDoesNotHoldTheEngine: `lbx status` asks the checker for its
// figures outside the engine's lock, which VRRP's reconciles wait for: a
// slow checker held them for its whole timeout, per status client.
func TestStatusDoesNotHoldTheEngine(t *testing.T) {
	e, _, _ := startEngine(t, strings.Replace(watchModel, "resync_interval: 100ms", "resync_interval: 1h", 1))
	slow := slowStats{Checker: check.New(check.Options{}), entered: make(chan struct{}), release: make(chan struct{})}
	e.mu.Lock()
	e.runner = slow
	e.mu.Unlock()
	release := sync.OnceFunc(func() { close(slow.release) })
	t.Cleanup(release) // before the loop's: a failed test must not leave it stuck
	done := make(chan struct{})
	go func() { defer close(done); e.status() }()
	<-slow.entered
	started := e.turnsStarted.Load()
	go e.kick(trigResync) // a whole kick, and its turn, take the lock
	deadline := time.After(5 * time.Second)
	for e.turnsEnded.Load() <= started {
		select {
		case <-e.turned:
		case <-deadline:
			release()
			t.Fatal("no turn of the loop while a status waited for the checker")
		}
	}
	release()
	<-done
}

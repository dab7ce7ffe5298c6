// Package vrrponly runs a model that holds nothing but VRRP (instances,
// their scripts and sync groups, their virtual addresses) in a process
// of its own, lbx-vrrp, which links neither the model's loader nor the
// planner: their code, resident in every lbx watch, is most of what keeps
// a VRRP-only lbx watch above keepalived's VRRP process in memory.
//
// lbx watch loads and checks the model, compiles it into a Spec (package
// watch, VRRPOnly) and executes lbx-vrrp in its own place (same PID) with
// the spec. lbx-vrrp keeps lbx watch's rules for what it runs: the one-
// writer lock, the ownership record (the model's VRRP addresses are lbx's
// by declaration), stale VIPs removed at start, a MASTER's addresses on
// its links before its gratuitous ARP, drift repaired on address
// notifications and every resync interval, the status socket, SIGHUP as
// a reload that keeps every unchanged instance's state, and at a stop
// priority 0 and the addresses removed. A reload asks lbx for the new
// spec; one whose model needs more than VRRP hands the daemon back to
// lbx watch's whole engine, which starts the instances that were MASTER
// as MASTER.
package vrrponly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lbx-dev/lbx/internal/buildinfo"
	"github.com/lbx-dev/lbx/internal/footprint"
	"github.com/lbx-dev/lbx/internal/onewriter"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/internal/sdnotify"
	"github.com/lbx-dev/lbx/internal/statusd"
	"github.com/lbx-dev/lbx/ownership"
	"github.com/lbx-dev/lbx/state"
	"github.com/lbx-dev/lbx/vrrpd"
)

// Options configure the process.
type Options struct {
	Spec *Spec
	// Build is this program's build: a reload's spec of another (lbx
	// upgraded under the daemon) is handed to the new lbx watch.
	Build buildinfo.Build
	// StateDir holds the ownership record; NetnsID names the network
	// namespace's record (paths.NetnsID), as lbx watch's options.
	StateDir, NetnsID string
	// LockPath is the one-writer lock, held while the daemon runs.
	LockPath string
	// StatusSocket, if set, serves `lbx status`.
	StatusSocket string
	// StatsFile, if set, receives the VRRP counters as JSON.
	StatsFile string
	Version   string
	// Reload receives a value per SIGHUP.
	Reload <-chan struct{}
	// Compile asks lbx for the model file's spec again (a reload).
	Compile func(ctx context.Context) (*Spec, error)
	// HandBack runs the model in lbx watch's whole engine, the instances
	// named MASTER starting as MASTER; it returns only when it failed
	// (it executes lbx watch in this process's place).
	HandBack func(masters []string) error
	Log      *slog.Logger
	// kernel overrides the netlink kernel (tests).
	kernel addrKernel
}

// daemon is the running process: the spec in force and the addresses'
// one writer, its loop.
type daemon struct {
	o      Options
	log    *slog.Logger
	k      addrKernel
	record *ownership.Record
	vrrp   *vrrpd.Daemon
	hb     sdnotify.Heartbeat

	syncq chan syncReq  // VRRP's reconciles, answered
	wake  chan struct{} // drift, resync, a reload: reconcile soon
	ready chan struct{} // closed once vrrpd has started
	once  sync.Once     // closes ready
	// want and owned are the reconcile's desired and owned addresses,
	// their maps reused from one reconcile to the next (the loop's alone).
	want  map[state.AddressKey]state.Address
	owned map[state.AddressKey]bool

	mu        sync.Mutex
	spec      *Spec
	declared  map[state.AddressKey]bool
	states    map[string]string // the last VRRP states reconciled
	started   time.Time
	reloadAt  time.Time
	reloadErr string
	last      *statusd.Reconcile
	// statusSent is the last STATUS= line given to systemd, and
	// statusCounts what it says.
	statusSent   string
	statusCounts statusCounts
}

type syncReq struct {
	states map[string]string
	reply  chan error
}

// Run runs the daemon until ctx ends (a stop: priority 0, addresses
// removed) or vrrpd fails.
func Run(ctx context.Context, o Options) error {
	d := &daemon{o: o, log: o.Log, k: o.kernel, spec: o.Spec, declared: o.Spec.declared(), started: time.Now(),
		syncq: make(chan syncReq), wake: make(chan struct{}, 1), ready: make(chan struct{})}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.k == nil {
		d.k = &netlinkKernel{}
	}
	srv, release, err := claim(ctx, o)
	if err != nil {
		return err
	}
	defer release()
	if d.record, err = ownership.Open(stateDir(o.StateDir), o.NetnsID); err != nil {
		return err
	}
	if err := d.record.Claim(keys(d.declared)); err != nil {
		return err
	}
	d.releaseStale(ctx)

	// The writer outlives vrrpd: vrrpd's stop reconciles once more to
	// release the addresses.
	loopCtx, stopLoop := context.WithCancel(context.Background())
	defer stopLoop()
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		d.loop(loopCtx)
	}()
	go watchAddresses(loopCtx, d.concerns, d.kick, func(err error) {
		d.log.Warn("address notifications unavailable; relying on resync", "err", err)
	})
	if d.vrrp, err = vrrpd.New(o.Spec.Config, vrrpd.Options{Reconciler: d, Log: d.log, StatsFile: o.StatsFile,
		OnStarted: func() { d.once.Do(func() { close(d.ready) }) }}); err != nil {
		return err
	}
	if srv != nil {
		go func() {
			if err := srv.Serve(loopCtx, d.status); err != nil {
				d.log.Error("status socket stopped", "err", err)
			}
		}()
	}
	reloadCtx, stopReloads := context.WithCancel(ctx)
	reloadDone := make(chan struct{})
	go func() {
		defer close(reloadDone)
		d.serveReloads(reloadCtx)
	}()
	d.notifySystemd(ctx, loopCtx)
	// make bench-vrrp's settled row finds lbx-vrrp's output by this line.
	d.log.Info("lbx-vrrp started", "instances", len(o.Spec.Config.Instances), "model", o.Spec.ModelFile)
	err = d.vrrp.Run(ctx)
	// A reload in flight ends first, so that it cannot bring a model
	// back after the stop's release.
	stopReloads()
	<-reloadDone
	stopLoop()
	<-loopDone
	d.releaseAtStop(100 * time.Millisecond)
	d.log.Info("lbx-vrrp stopped")
	return err
}

// stopRetries bounds releaseAtStop: 5 tries from 100 ms, doubling, wait
// 3.1 s in all, well within systemd's stop timeout.
const stopRetries = 5

// releaseAtStop tries again, a few times, the release of the addresses
// when the stop's reconcile (vrrpd's, through the loop) failed: left on
// the links of a stopped daemon, they would answer beside the peer that
// took over. Every instance counts as stopped, whatever the loop last
// saw. The loop has ended: this is the one writer now.
func (d *daemon) releaseAtStop(backoff time.Duration) {
	d.mu.Lock()
	failed := d.last != nil && d.last.Result == "error"
	d.states = map[string]string{}
	for _, in := range d.spec.Config.Instances {
		d.states[in.FSM.Name] = "STOP"
	}
	d.mu.Unlock()
	for try := 1; failed && try <= stopRetries; try++ {
		time.Sleep(backoff)
		backoff *= 2
		err := d.reconcile(context.Background())
		if failed = err != nil; failed {
			d.log.Error("releasing the addresses at the stop failed", "try", try, "of", stopRetries, "err", err)
		}
	}
}

func stateDir(dir string) string {
	if dir == "" {
		return paths.StateDir
	}
	return dir
}

// claim takes what can refuse a start before the kernel is touched: the
// status socket (another daemon runs) and the one-writer lock.
func claim(ctx context.Context, o Options) (srv *statusd.Server, release func(), err error) {
	release = func() {}
	if o.StatusSocket != "" {
		if srv, err = statusd.Listen(o.StatusSocket); err != nil {
			return nil, nil, err
		}
		release = func() { srv.Close() }
	}
	if o.LockPath != "" {
		lock, err := onewriter.Acquire(ctx, o.LockPath, 30*time.Second)
		if err != nil {
			release()
			return nil, nil, err
		}
		closeSrv := release
		release = func() { lock.Release(); closeSrv() }
	}
	return srv, release, nil
}

func keys(m map[state.AddressKey]bool) ownership.Keys {
	k := ownership.Empty()
	maps.Copy(k.Addresses, m)
	return k
}

// releaseStale deletes the model's VRRP addresses found on the links at
// start: no instance is MASTER yet, and a master killed with -9 left
// them there while a peer may already hold them. Failures are logged:
// the first reconcile tries again.
func (d *daemon) releaseStale(ctx context.Context) {
	live, err := d.k.Read(ctx)
	if err != nil {
		d.log.Warn("reading addresses for stale VRRP addresses", "err", err)
		return
	}
	p := planAddresses(nil, func(k state.AddressKey) bool { return d.declared[k] }, live)
	for _, del := range p.dels {
		if err := d.k.Delete(ctx, del.addr, del.keeps); err != nil {
			d.log.Warn("removing a stale VRRP address", "address", del.addr.Key.String(), "err", err)
			continue
		}
		d.log.Info("removed a stale VRRP address (no instance is master yet)", "address", del.addr.Key.String())
	}
}

// Reconcile is vrrpd's Reconciler: it returns once the kernel has the
// MASTERs' addresses, so that gratuitous ARP follows them.
func (d *daemon) Reconcile(ctx context.Context, states map[string]string) error {
	r := syncReq{states: states, reply: make(chan error, 1)}
	select {
	case d.syncq <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// kick asks the loop for a reconcile soon; kicks before it runs coalesce.
func (d *daemon) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// concerns says whether an address notification is about an address the
// model declares.
func (d *daemon) concerns(a netip.Addr) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.declared {
		if k.Addr == a {
			return true
		}
	}
	return false
}

// loop is the kernel's one writer: VRRP's reconciles, kicks, the resync
// and retries after a failure, one at a time.
func (d *daemon) loop(ctx context.Context) {
	interval := d.resync()
	resync := time.NewTicker(interval)
	defer resync.Stop()
	var retry <-chan time.Time
	backoff := 100 * time.Millisecond
	for {
		var reply chan error
		select {
		case <-ctx.Done():
			return
		case r := <-d.syncq:
			d.mu.Lock()
			d.states = r.states
			d.mu.Unlock()
			reply = r.reply
		case <-d.wake:
		case <-resync.C:
		case <-retry:
		}
		err := d.reconcile(context.WithoutCancel(ctx))
		if reply != nil {
			reply <- err
		}
		retry = nil
		if err != nil {
			d.log.Error("reconcile failed; retrying", "err", err, "in", backoff)
			retry = time.After(backoff)
			backoff = min(2*backoff, 30*time.Second)
		} else {
			backoff = 100 * time.Millisecond
		}
		d.sendStatus()
		if i := d.resync(); i != interval {
			interval = i
			resync.Reset(i)
		}
		d.hb.Beat()
	}
}

// sendStatus gives systemd the VRRP states (STATUS=) when they changed.
// It compares counts, not lines: the loop turns every few seconds, and a
// line formatted at each turn was part of a steady daemon's garbage.
func (d *daemon) sendStatus() {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := statusCounts{masters: countMasters(d.states), instances: len(d.states)}
	if d.statusSent != "" && n == d.statusCounts {
		return
	}
	d.statusCounts, d.statusSent = n, n.String()
	sdnotify.Status(d.statusSent)
}

func (d *daemon) resync() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.spec.Resync <= 0 {
		return 10 * time.Second
	}
	return d.spec.Resync
}

// reconcile reads the links' addresses and brings them to the spec in
// force for the last VRRP states; it records the outcome for the status.
func (d *daemon) reconcile(ctx context.Context) error {
	start := time.Now()
	d.mu.Lock()
	spec, declared, states := d.spec, d.declared, d.states
	d.mu.Unlock()
	var p addrPlan
	writes := 0
	err := func() error {
		live, err := d.k.Read(ctx)
		if err != nil {
			return err
		}
		d.owned = d.record.OwnedAddressesInto(d.owned)
		owned := d.owned
		may := func(k state.AddressKey) bool { return owned[k] || declared[k] }
		d.want = spec.desired(states, d.want)
		p = planAddresses(d.want, may, live)
		var errs []error
		var done []string
		gone := ownership.Empty()
		for _, del := range p.dels {
			writes++
			if err := d.k.Delete(ctx, del.addr, del.keeps); err != nil {
				errs = append(errs, err)
				continue
			}
			done = append(done, "deleted "+del.addr.Key.Interface+"/"+del.addr.Prefix().String())
			if !declared[del.addr.Key] {
				gone.Addresses[del.addr.Key] = true
			}
		}
		for _, a := range p.adds {
			writes++
			if err := d.k.Add(ctx, a); err != nil {
				errs = append(errs, fmt.Errorf("%w (%s)", err, a.Origin))
				continue
			}
			done = append(done, "added "+a.Key.Interface+"/"+a.Prefix().String()+" ("+a.Origin+")")
		}
		if len(done) > 0 {
			d.log.Info("applied", "changes", len(done), "result", strings.Join(done, ", "))
		}
		// An address lbx recorded that the model no longer declares is
		// forgotten once it is gone, so that one made later by someone
		// else is not taken for lbx's.
		for k := range owned {
			if _, ok := live[k]; !ok && !declared[k] {
				gone.Addresses[k] = true
			}
		}
		if err := d.release(gone); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}()
	rec := &statusd.Reconcile{Time: start, DurationSeconds: time.Since(start).Seconds(), Result: "noop",
		Changes: len(p.dels) + len(p.adds), KernelWrites: writes}
	switch {
	case err != nil:
		rec.Result, rec.Error = "error", err.Error()
	case !p.empty():
		rec.Result = "changed"
	}
	d.mu.Lock()
	d.last = rec
	d.mu.Unlock()
	return err
}

// release forgets gone in the ownership record, but for what the model in
// force now declares: a reload may have claimed it since the reconcile
// took its snapshot (claims and the swap happen under d.mu).
func (d *daemon) release(gone ownership.Keys) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	maps.DeleteFunc(gone.Addresses, func(k state.AddressKey, _ bool) bool { return d.declared[k] })
	return d.record.Release(gone)
}

// serveReloads reloads on each value of o.Reload until ctx ends.
func (d *daemon) serveReloads(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-d.o.Reload:
			if !ok {
				return
			}
			d.reload(ctx)
		}
	}
}

// reload asks lbx for the file's spec and applies it as a diff: vrrpd
// keeps every unchanged instance's state, the next reconcile releases the
// addresses of what left. An invalid file leaves the running spec in
// force; a model that needs more than VRRP goes to lbx watch's engine.
func (d *daemon) reload(ctx context.Context) {
	sdnotify.Reloading()
	defer sdnotify.Ready()
	d.log.Info("reloading", "model", d.o.Spec.ModelFile)
	spec, err := d.o.Compile(ctx)
	if ctx.Err() != nil {
		d.log.Warn("reload abandoned: lbx-vrrp is stopping")
		return
	}
	if err == nil {
		if why := handOverWhy(spec, d.o.Build); why != "" {
			d.log.Info("handing the daemon over to lbx watch's whole engine", "why", why)
			err = fmt.Errorf("hand over to lbx watch (%s): %w", why, d.o.HandBack(masters(d.vrrp.States())))
		}
	}
	d.mu.Lock()
	d.reloadAt = time.Now()
	d.reloadErr = ""
	if err == nil {
		// Claimed and in force at once, under d.mu: a reconcile in
		// flight must not forget a claim of the new model (reconcile).
		// In force before vrrpd reloads: the reconciles of the VRRP
		// reload (addresses of stopped instances released) follow it.
		declared := spec.declared()
		if err = d.record.Claim(keys(declared)); err == nil {
			d.spec, d.declared = spec, declared
		}
	}
	if err != nil {
		d.reloadErr = err.Error()
		d.mu.Unlock()
		d.log.Error("reload refused; the running model stays in force", "err", err)
		return
	}
	d.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = d.vrrp.Reload(rctx, spec.Config)
	cancel()
	if err != nil {
		d.mu.Lock()
		d.reloadErr = err.Error()
		d.mu.Unlock()
		d.log.Error("VRRP reload incomplete", "err", err)
	}
	d.log.Info("reloaded", "model", spec.ModelFile)
	d.kick()
	footprint.Settle()
}

// StatusLine is the VRRP states as systemd's STATUS= shows them: "1/2
// VRRP MASTER".
func StatusLine(states map[string]string) string {
	return statusCounts{masters: countMasters(states), instances: len(states)}.String()
}

// statusCounts is what a StatusLine says.
type statusCounts struct{ masters, instances int }

func (n statusCounts) String() string {
	return fmt.Sprintf("%d/%d VRRP MASTER", n.masters, n.instances)
}

// countMasters is len(masters(states)) without the slice.
func countMasters(states map[string]string) int {
	n := 0
	for _, st := range states {
		if st == "MASTER" {
			n++
		}
	}
	return n
}

// handOverWhy says why a reload's spec goes to lbx watch's whole engine:
// its model needs more than VRRP, or it comes from another build of lbx
// (upgraded under the daemon: the new lbx watch runs it). "" for neither.
func handOverWhy(spec *Spec, build buildinfo.Build) string {
	switch {
	case spec.Full != "":
		return "the model has " + spec.Full
	case spec.Build != build:
		return "lbx is now " + spec.Build.String() + ", lbx-vrrp " + build.String()
	}
	return ""
}

// masters names the instances MASTER in states.
func masters(states map[string]string) []string {
	var out []string
	for name, st := range states {
		if st == "MASTER" {
			out = append(out, name)
		}
	}
	return out
}

// notifySystemd feeds the watchdog while both loops turn, says READY once
// vrrpd has started and STOPPING at the stop.
func (d *daemon) notifySystemd(ctx, loopCtx context.Context) {
	fresh := func() bool { return d.hb.Fresh(3*d.resync()+10*time.Second)() && d.vrrp.Alive(30*time.Second) }
	go sdnotify.Watchdog(loopCtx, fresh, func() {
		d.log.Error("the reconcile loop or the VRRP event loop has not turned for too long; not feeding the systemd watchdog")
	})
	go func() {
		select {
		case <-d.ready:
			sdnotify.Ready()
			// The loop sent it before READY; systemd shows it from now.
			d.mu.Lock()
			sdnotify.Status(d.statusSent)
			d.mu.Unlock()
			footprint.SettleStart()
		case <-loopCtx.Done():
		}
	}()
	go func() {
		<-ctx.Done()
		sdnotify.Stopping()
	}()
}

// status is the document `lbx status` prints; the daemon model, kept
// encoded, is decoded only for a client that asks for it.
func (d *daemon) status(r statusd.Request) statusd.Status {
	d.mu.Lock()
	st := statusd.Status{
		Daemon: statusd.Daemon{PID: os.Getpid(), Version: d.o.Version, Process: "lbx-vrrp", StartTime: d.started, ModelFile: d.spec.ModelFile,
			Node: d.spec.Node, LastReload: d.reloadAt, LastReloadError: d.reloadErr},
		LastReconcile: d.last,
	}
	spec := d.spec
	d.mu.Unlock()
	if r.DaemonModel {
		st.DaemonModel = spec.daemonView()
	}
	st.VRRP = InstancesOf(d.vrrp.Instances())
	st.Counters = map[string]uint64{}
	for k, v := range d.vrrp.Counters.Snapshot() {
		st.Counters["vrrp_"+k] = v
	}
	for kind, n := range d.vrrp.ScriptsDropped() {
		st.Counters["scripts_dropped_"+kind] = n
	}
	return st
}

// InstancesOf is vrrpd's instances as the status shows them.
func InstancesOf(insts []vrrpd.InstanceStatus) []statusd.Instance {
	var out []statusd.Instance
	for _, in := range insts {
		si := statusd.Instance{
			Name: in.Name, Interface: in.Interface, VRID: in.VRID, State: in.State,
			Priority: in.Priority, EffectivePriority: in.EffectivePriority,
			LastTransition: in.LastTransition, LastReason: in.LastReason,
		}
		if in.State == "MASTER" {
			si.MasterSince = in.LastTransition
		}
		for _, a := range in.Addresses {
			si.Addresses = append(si.Addresses, statusd.Address{Address: a.Addr.String(), Held: a.Held, Excluded: a.Excluded})
		}
		for _, t := range in.Tracks {
			si.Tracking = append(si.Tracking, statusd.Track{Kind: t.Kind, Name: t.Name, Up: t.Up, Weight: t.Weight, AppliedWeight: t.Applied, Fault: t.Fault})
		}
		out = append(out, si)
	}
	return out
}

// Package watch is lbx's resident mode (`lbx watch`). It runs the model's
// VRRP virtual routers (vrrpd) and health checkers (check), and keeps the
// kernel at compile(model, VRRP states, health) through the one plan/apply
// path: every fact change, resync tick, address notification and reload
// goes to a single writer (engine.go) as a typed trigger whose scope says
// what to read and plan (trigger.go). The writer follows keepalived's
// rules — quorum, notify and quorum scripts, omega, ha_suspend — as pure
// functions of package watch/lvsrules, and does the I/O they decide.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/checkproc"
	"github.com/lbx-dev/lbx/internal/footprint"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/internal/sdnotify"
	"github.com/lbx-dev/lbx/internal/statusd"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/metrics"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/vrrpd"
	"github.com/lbx-dev/lbx/vrrponly"
)

// Options configure the daemon.
type Options struct {
	Model *model.Model
	// File is the model's path, read again on reload.
	File string
	// Node is the node of the model's nodes the daemon runs as, on
	// reload too (model.LoadNode; "": the host name).
	Node     string
	StateDir string // ownership record directory
	// StatsFile receives VRRP counters as JSON (drops by reason, adverts).
	StatsFile string
	// MetricsAddr, if set, serves Prometheus metrics on /metrics.
	MetricsAddr string
	// StatusSocket, if set, serves `lbx status` (default in the command:
	// /run/lbx/lbx.sock).
	StatusSocket string
	// LockPath is the one-writer lock held while the daemon runs, so that
	// a one-shot `lbx apply` cannot write behind it.
	LockPath string
	// NetnsID names the network namespace the daemon runs in, as its
	// lock does (ops.NetnsID): its ownership record is that namespace's.
	NetnsID string
	// Reload receives a value per SIGHUP.
	Reload <-chan struct{}
	Log    *slog.Logger
	// OpenKernel overrides the kernel (tests).
	OpenKernel func() (kernel.Kernel, error)
	// Version is lbx's version, shown by `lbx status`.
	Version string
	// NewChecker makes the health checker; nil: a check.Runner in this
	// process.
	NewChecker func(log *slog.Logger) Checker
	// HandedBack: this process took over from lbx-vrrp, whose reload found
	// a model that needs the whole engine; the start is that reload (the
	// status says so, for the lbx apply waiting on it). ResumeMasters are
	// the instances MASTER there: they start as MASTER, and their
	// addresses are not taken for stale ones at start.
	HandedBack    bool
	ResumeMasters []string
}

// Checker runs the health checks: a check.Runner in lbx watch's own
// process, or a checkproc.Client running them in a child process.
type Checker interface {
	Start(ctx context.Context, targets []check.Target, report func([]check.Transition)) error
	Update(targets []check.Target) error
	Suspend(ids map[model.RealID]bool)
	Stop()
	Health() map[model.RealID]model.Health
	Stats() []check.TargetStats
}

// summary words an apply's outcome for the log: the first summaryMax
// changes, then how many more (a reconcile after many health transitions
// can hold hundreds, and a log line listing them all helps nobody).
func summary(res *apply.Result) string {
	if res == nil {
		return ""
	}
	var b strings.Builder
	for i, c := range res.Changes {
		if i == summaryMax {
			fmt.Fprintf(&b, ", and %d more", len(res.Changes)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v %s", c.Outcome, c.Address)
	}
	return b.String()
}

const summaryMax = 10

// Run runs until ctx is cancelled (SIGTERM/SIGINT), then stops cleanly:
// priority 0 adverts, VRRP addresses released, IPVS kept or removed as the
// model's global.ipvs_on_stop says.
func Run(ctx context.Context, o Options) error {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	m := o.Model
	cfg, targets, err := Preflight(m, log)
	if err != nil {
		return err
	}
	resume(cfg, o.ResumeMasters)
	// The parse tree behind error positions is most of a large model's
	// memory and serves only the load that already passed: a resident
	// daemon lets it go (a reload parses its file afresh).
	m.Positions = model.Positions{}
	met, srv, release, err := claimResources(ctx, o, log)
	if err != nil {
		return err
	}
	defer release()
	e, err := openEngine(ctx, o, cfg, met, log)
	if err != nil {
		return err
	}
	// A start that fails kills what the script queue runs (a stop gives
	// it stopScriptBudget first, below).
	defer e.scripts.Close(0)
	defer func() { e.k.Close() }() // the handle in use then: the loop may have reopened it

	// Before the loop, the kernel's only writer, starts.
	e.releaseStaleVIPs(ctx, o.ResumeMasters)
	if o.HandedBack {
		e.reloadAt = e.started
	}
	e.resumed = map[string]bool{}
	for _, name := range o.ResumeMasters {
		e.resumed[name] = true
	}
	e.startTable()

	// The writer outlives vrrpd: vrrpd's shutdown reconciles once more to
	// release the addresses.
	loopCtx, stopLoop := context.WithCancel(context.Background())
	defer stopLoop()
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		e.loop(loopCtx)
	}()
	e.watchNotifications(loopCtx)
	go e.bgp.run(loopCtx)

	runner, err := e.startChecks(loopCtx, o, targets, log)
	if err != nil {
		return err
	}
	defer runner.Stop()
	d, err := e.newVRRP(cfg, o.StatsFile, log)
	if err != nil {
		return err
	}
	if srv != nil {
		go func() {
			if err := srv.Serve(loopCtx, e.statusFor); err != nil {
				log.Error("status socket stopped", "err", err)
			}
		}()
	}
	go e.observe(loopCtx, d, runner)
	stopReloads, reloadDone := e.serveReloads(ctx, o.Reload)
	defer stopReloads()
	e.startNotifications(ctx, loopCtx, d, log)
	log.Info("lbx watch started", "instances", len(cfg.Instances), "checked_real_servers", len(targets), "model", e.file)
	go func() {
		select {
		case <-e.ready: // the start's burst (the load, the first apply) is over
			footprint.Settle()
		case <-loopCtx.Done():
		}
	}()
	err = e.runVRRP(ctx, loopCtx, d)
	// A reload in flight ends first (abandoned at vrrpd, which stopped), so
	// that it cannot bring the model back after the stop's removal below.
	stopReloads()
	<-reloadDone
	runner.Stop()
	// One writer to the kernel: the loop ends (after any reconcile in
	// flight) before the stop's own reconcile runs here.
	stopLoop()
	<-loopDone
	e.stop()
	log.Info("lbx watch stopped")
	return err
}

// resume starts the named instances as MASTER (Options.ResumeMasters).
func resume(cfg *vrrpd.Config, masters []string) {
	for _, in := range cfg.Instances {
		if slices.Contains(masters, in.FSM.Name) {
			in.FSM.InitialMaster = true
		}
	}
}

// claimResources takes, before the kernel is touched, everything that can
// refuse a start: the metrics port, the status socket (a second daemon)
// and the one-writer lock. release gives back what was taken.
func claimResources(ctx context.Context, o Options, log *slog.Logger) (met *metrics.Registry, srv *statusd.Server, release func(), err error) {
	var undo []func()
	release = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	if o.MetricsAddr != "" {
		met = metrics.New()
		setBuildInfo(met, o.Version)
		ln, err := metrics.Listen(o.MetricsAddr)
		if err != nil {
			return nil, nil, release, err
		}
		go func() {
			if err := metrics.ServeListener(ctx, ln, met); err != nil {
				log.Error("metrics server stopped", "err", err)
			}
		}()
	}
	if o.StatusSocket != "" {
		if srv, err = statusd.Listen(o.StatusSocket); err != nil {
			return nil, nil, release, err
		}
		undo = append(undo, func() { srv.Close() })
	}
	if o.LockPath != "" {
		lock, err := apply.AcquireLock(ctx, o.LockPath, 30*time.Second)
		if err != nil {
			release()
			return nil, nil, func() {}, err
		}
		undo = append(undo, func() { lock.Release() })
	}
	return met, srv, release, nil
}

// openEngine opens the kernel and the ownership record and makes the
// engine, with the model's objects claimed as lbx's.
func openEngine(ctx context.Context, o Options, cfg *vrrpd.Config, met *metrics.Registry, log *slog.Logger) (*engine, error) {
	m := o.Model
	dir := o.StateDir
	if dir == "" {
		dir = paths.StateDir
	}
	owner, err := apply.OpenOwnerRecord(dir, o.NetnsID)
	if err != nil {
		return nil, err
	}
	open := func(m *model.Model) (kernel.Kernel, error) { return openKernel(m, owner) }
	if o.OpenKernel != nil {
		open = func(*model.Model) (kernel.Kernel, error) { return o.OpenKernel() }
	}
	k, err := open(m)
	if err != nil {
		return nil, err
	}
	file := o.File
	if file == "" {
		file = m.File
	}
	e := newEngine(m, AbsPath(file), k, owner, met, log)
	e.node = o.Node
	e.scriptUser.Store(cfg.ScriptUser)
	e.version, e.reopen, e.stopping = o.Version, open, ctx
	e.bgp = newBGPRunner(e, met, log)
	if err := e.claimDeclared(e.declared); err != nil {
		k.Close()
		e.scripts.Close(0)
		return nil, err
	}
	return e, nil
}

// startTable asks the loop for the IPVS table at once, as keepalived's
// checker makes it before its first probe: every real server as the
// model starts it (up, or down under alpha) and quorum as at start (its
// scripts queued), with no instance master. The checker process and VRRP
// start meanwhile, and their facts come as the turns after it; before,
// the first table waited for both (in the bench VM, 500 checked servers:
// 1.0 s after the launch, 0.5 s of it lbx-check's start). A model
// without virtual servers has no table: VRRP's first reconcile makes its
// addresses and routes, as before, and its start holds a reconcile less
// (0.3 MiB of a VRRP-only daemon's peak at 100 instances).
func (e *engine) startTable() {
	if len(e.m.VirtualServers) == 0 {
		return
	}
	e.mu.Lock()
	e.queueScripts(e.updateQuorumLocked())
	e.mu.Unlock()
	e.kick(trigStart)
}

// startChecks starts the health checker (until loopCtx ends) with the
// real servers ha_suspend pauses, takes its first health and queues
// keepalived's quorum scripts at start.
func (e *engine) startChecks(loopCtx context.Context, o Options, targets []check.Target, log *slog.Logger) (Checker, error) {
	var runner Checker
	if o.NewChecker != nil {
		runner = o.NewChecker(log)
	} else {
		runner = check.New(check.Options{Logger: log})
	}
	e.runner = runner
	// Before the first probe: no instance is MASTER yet.
	e.suspendChecks()
	if err := runner.Start(loopCtx, targets, e.onHealth); err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.health = runner.Health()
	// keepalived's quorum scripts at start (lvsrules.Quorum).
	e.queueScripts(e.updateQuorumLocked())
	e.mu.Unlock()
	return runner, nil
}

// newVRRP makes the VRRP daemon, reconciling through e, and gives the
// status and metrics its instances.
func (e *engine) newVRRP(cfg *vrrpd.Config, statsFile string, log *slog.Logger) (*vrrpd.Daemon, error) {
	var d *vrrpd.Daemon
	d, err := vrrpd.New(cfg, vrrpd.Options{Reconciler: e, Log: log, StatsFile: statsFile,
		OnState:   func(states map[string]string) { e.onVRRP(d.Instances(), d.Tracked()) },
		OnStarted: func() { e.readyOnce.Do(func() { close(e.ready) }) }})
	if err != nil {
		return nil, err
	}
	e.daemon = d
	e.vrrpInfo = func() []statusd.Instance { return vrrponly.InstancesOf(d.Instances()) }
	e.met.Retain(metricInstances(e.currentModel()), metricReals(e.currentModel()))
	return d, nil
}

// serveReloads reloads the model on each value of reload until stop is
// called (or ctx ends); done is closed once no reload runs any more.
func (e *engine) serveReloads(ctx context.Context, reload <-chan struct{}) (stop func(), done chan struct{}) {
	reloadCtx, stop := context.WithCancel(ctx)
	done = make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-reloadCtx.Done():
				return
			case _, ok := <-reload:
				if !ok {
					return
				}
				e.reload(reloadCtx)
			}
		}
	}()
	return stop, done
}

// startNotifications tells systemd about the daemon: the watchdog fed
// while both loops turn, READY after the first reconcile, STOPPING at the
// stop (which closes the script queue with its budget).
func (e *engine) startNotifications(ctx, loopCtx context.Context, d *vrrpd.Daemon, log *slog.Logger) {
	// The reconcile loop turns at least every resync interval (the bound
	// follows a reload that changes it), the VRRP event loop every second:
	// either stuck starves the watchdog, so that systemd restarts lbx.
	fresh := func() bool { return e.hb.Fresh(3*e.resyncInterval()+10*time.Second)() && d.Alive(vrrpStuckAfter) }
	go sdnotify.Watchdog(loopCtx, fresh, func() {
		log.Error("the reconcile loop or the VRRP event loop has not turned for too long; not feeding the systemd watchdog")
	})
	// From the stop on, the queued notify_up/down and quorum scripts get
	// stopScriptBudget, beside vrrpd's notify scripts' own: neither waits
	// for the other, so a stop with hanging scripts takes one budget.
	e.scriptsClosed = make(chan struct{})
	go func() {
		<-ctx.Done()
		sdnotify.Stopping()
		e.scripts.Close(stopScriptBudget)
		close(e.scriptsClosed)
	}()
	// Readiness follows vrrpd's start (OnStarted), which comes after the
	// start's table (startTable).
	go func() {
		select {
		case <-e.ready:
		case <-loopCtx.Done():
		}
		sdnotify.Ready()
		// The reconcile sent it before READY; systemd shows it from now.
		e.mu.Lock()
		sdnotify.Status(e.statusSent)
		e.mu.Unlock()
	}()
}

// runVRRP runs vrrpd until ctx ends (or it ends on its own). At a stop,
// BGP withdraws (after its graceful-shutdown wait) before vrrpd releases
// any VIP: routers stop sending before the VIP goes.
func (e *engine) runVRRP(ctx, loopCtx context.Context, d *vrrpd.Daemon) error {
	vrrpCtx, stopVRRP := context.WithCancel(context.Background())
	defer stopVRRP()
	go func() {
		select {
		case <-ctx.Done():
			e.bgp.stop(context.Background())
		case <-loopCtx.Done():
		}
		stopVRRP()
	}()
	err := d.Run(vrrpCtx)
	e.bgp.stop(context.Background()) // vrrpd ended on its own: withdraw too
	return err
}

// stop is the daemon's last step, once the loop has ended: the sync
// daemons stopped and, with ipvs_on_stop: remove, omega's scripts run
// and the services removed; then it waits for the queued scripts' budget.
func (e *engine) stop() {
	stopCtx, cancelStop := context.WithTimeout(context.Background(), 30*time.Second)
	e.stopSyncDaemons(stopCtx)
	cancelStop()
	if m := e.currentModel(); m.Global.IPVSOnStop == "remove" {
		// omega, with the health of the last moment, before the removal.
		// With IPVS kept, nothing leaves the pool: no down scripts.
		e.runScripts(e.omegaScripts(), stopScriptTimeout)
		e.removeServices()
	}
	<-e.scriptsClosed
}

// vrrpStuckAfter is how long the VRRP event loop (which turns every
// second) may stay still before it counts as stuck: a reconcile it waits
// on takes a few seconds at worst.
const vrrpStuckAfter = 30 * time.Second

func (e *engine) currentModel() *model.Model {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.m
}

// removeServices deletes the model's IPVS services at stop
// (ipvs_on_stop: remove): the model without virtual servers is reconciled,
// and its services, still declared-owned, are deleted. The loop must have
// ended: this reconcile is the kernel's only writer.
func (e *engine) removeServices() {
	e.mu.Lock()
	stripped := *e.m
	stripped.VirtualServers, stripped.VirtualServerGroups = nil, nil
	e.m = &stripped
	e.factsGen++ // a change of the model: not drift
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.reconcile(ctx, trigStop); err != nil {
		e.log.Error("removing IPVS services at stop failed", "err", err)
	}
}

// setBuildInfo sets lbx_build_info from what the binary knows of its
// build, as lbx-check's handshake reads it.
func setBuildInfo(met *metrics.Registry, version string) {
	b := checkproc.ThisBuild(version)
	if b.Go == "" {
		b.Go = runtime.Version()
	}
	met.SetBuildInfo(b.Version, b.Revision, b.Go)
}

// onVRRP records states, priorities, transitions, addresses and the
// tracked objects in metrics (vrrpd logs transitions with reasons). It is
// called after every change of them and after a reload, with the
// instances running then.
func (e *engine) onVRRP(insts []vrrpd.InstanceStatus, tracked []vrrpd.TrackedObject) {
	e.mu.Lock()
	prev := e.vrrpSeen
	e.vrrpSeen = map[string]string{}
	for _, in := range insts {
		e.vrrpSeen[in.Name] = in.State
	}
	e.mu.Unlock()
	for _, in := range insts {
		v := metrics.VRRP{Name: in.Name, Interface: in.Interface, VRID: in.VRID}
		e.met.SetVRRP(v, in.State, in.EffectivePriority, in.Priority)
		if prev[in.Name] != in.State {
			e.met.Transition(v, in.State)
		}
		addrs := make([]metrics.Address, 0, len(in.Addresses))
		for _, a := range in.Addresses {
			addrs = append(addrs, metrics.Address{IP: a.Addr, Held: a.Held})
		}
		e.met.SetAddresses(v, addrs)
	}
	exportTracked(e.met, tracked)
}

// exportTracked sets the tracked scripts' and interfaces' series.
func exportTracked(met *metrics.Registry, tracked []vrrpd.TrackedObject) {
	scripts, intfs := map[string]bool{}, map[string]bool{}
	for _, t := range tracked {
		switch t.Kind {
		case vrrpd.TrackScript:
			scripts[t.Name] = t.Up
		case vrrpd.TrackInterface:
			intfs[t.Name] = t.Up
		}
	}
	met.SetTracked(scripts, intfs)
}

// observe copies counters into metrics once a second.
func (e *engine) observe(ctx context.Context, d *vrrpd.Daemon, r Checker) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		running := map[vrrpd.CounterKey]bool{}
		for _, in := range d.Instances() {
			running[vrrpd.CounterKey{Name: in.Name, Interface: in.Interface, VRID: in.VRID}] = true
		}
		for k, c := range d.Counters.PerInstance() {
			// An instance a reload just removed must not come back as a
			// series after metrics.Retain dropped it.
			if k.Name != "" && !running[k] {
				continue
			}
			e.met.SetAdvertCounts(metrics.VRRP{Name: k.Name, Interface: k.Interface, VRID: k.VRID}, advertCounts(c))
		}
		// Copying 500 servers' stats every second is only worth it for a
		// metrics endpoint; `lbx status` asks the runner itself.
		var stats []check.TargetStats
		if e.met != nil {
			stats = r.Stats()
		}
		exportChecks(e.met, stats)
		e.bgp.observe(ctx)
		if p, ok := r.(interface{ Restarts() int }); ok {
			e.met.SetCheckerRestarts(p.Restarts())
		}
		c := d.Counters.Snapshot()
		dropped := d.ScriptsDropped()
		maps.Copy(dropped, e.scripts.Dropped()) // kinds of their own
		for kind, n := range dropped {
			e.met.SetScriptsDropped(kind, n)
		}
		e.mu.Lock()
		for k, v := range c {
			e.counters["vrrp_"+k] = v
		}
		for kind, n := range dropped {
			e.counters["scripts_dropped_"+kind] = n
		}
		e.mu.Unlock()
	}
}

// exportChecks sets the checker metrics of each real server, under every
// service it is checked for (a group's real server is checked once).
func exportChecks(met *metrics.Registry, stats []check.TargetStats) {
	for _, ts := range stats {
		var total, failed uint64
		for _, cs := range ts.Checks {
			total += cs.Total
			failed += cs.Failed
		}
		_, lat := ts.LastCheck()
		for _, id := range ts.IDs() {
			met.SetChecker(metrics.Real(id), ts.Up, lat, total, failed)
		}
	}
}

// advertCounts turns one instance's vrrpd counters into metrics' form.
func advertCounts(c map[string]uint64) metrics.AdvertCounts {
	return metrics.AdvertCounts{
		Sent: c["adverts_sent"], Received: c["adverts_received"],
		PriorityZeroSent: c["priority_zero_sent"], PriorityZeroReceived: c["priority_zero_received"],
		Invalid: invalidCounts(c),
	}
}

// invalidCounts picks vrrpd's drop counters ("drop_<reason>").
func invalidCounts(c map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range c {
		if reason, ok := strings.CutPrefix(k, "drop_"); ok {
			out[reason] = v
		}
	}
	return out
}

// openKernel opens the real kernel. A model without virtual servers needs
// addresses only, so VRRP also runs on hosts without IPVS; but while lbx
// still owns services of an earlier model, IPVS is opened where there is
// one, so that they can be removed (without IPVS they cannot exist).
func openKernel(m *model.Model, owner *apply.OwnerRecord) (kernel.Kernel, error) {
	if len(m.VirtualServers) > 0 || m.Global.LVSSyncDaemon != nil {
		return kernel.OpenKernel(kernel.KernelOptions{})
	}
	if len(owner.Owned().Services) > 0 {
		k, err := kernel.OpenKernel(kernel.KernelOptions{})
		var unavailable *kernel.IPVSUnavailableError
		if !errors.As(err, &unavailable) {
			return k, err
		}
	}
	return kernel.OpenKernel(kernel.KernelOptions{AddressesOnly: true})
}

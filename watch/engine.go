package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/internal/footprint"
	"github.com/lbx-dev/lbx/internal/nlwatch"
	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/internal/scriptq"
	"github.com/lbx-dev/lbx/internal/sdnotify"
	"github.com/lbx-dev/lbx/internal/statusd"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/metrics"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
	"github.com/lbx-dev/lbx/vrrpd"
	"github.com/lbx-dev/lbx/vrrponly"
	"github.com/lbx-dev/lbx/watch/lvsrules"
)

// engine is the one writer to the kernel. Every fact change (a VRRP
// transition, a health transition), every resync tick, address
// notification and reload reaches it through a channel; it compiles the
// model with the current facts and reconciles, so there is one code path
// for every change and never two writers.
type engine struct {
	log *slog.Logger
	// resumed are the instances started as MASTER because they were in
	// the process before (Options.ResumeMasters) and still INIT: vrrpd's
	// reconcile before its start must not take their addresses away for
	// the moment until they are MASTER again. Reconcile only.
	resumed map[string]bool
	// scriptUser runs quorum and real server notify scripts (the
	// model's default script user; a reload may change it).
	scriptUser atomic.Pointer[script.User]
	k          kernel.Kernel
	// reopen opens a new kernel handle for the model (nil: never); lost
	// says why the one in e.k takes no more calls (ErrKernelLost after a
	// call timed out; ErrAddressesOnly once a reload added virtual
	// servers). Used by the loop only (and the stop, after it).
	reopen func(*model.Model) (kernel.Kernel, error)
	lost   error
	drains *apply.Drains // removed real servers being drained (loop only)
	// notes are the last network plan's notes of each kind of pass
	// (addresses only, whole: their plans see different objects, so each
	// is compared with its own kind), each logged once when it appears,
	// not on every resync (loop only).
	notes [2]map[string]bool
	// wholeRead: a whole reconcile has read the kernel (loop only).
	wholeRead bool
	// syncManaged: a model in force since start had lvs_sync_daemon, so
	// the kernel's sync daemons are lbx's to follow (and to stop once a
	// reload removes it, or at the stop). Loop only (and the stop, after).
	syncManaged bool
	syncMemory  apply.SyncDaemonMemory // loop only
	owner       *apply.OwnerRecord
	met         *metrics.Registry
	runner      Checker
	file        string
	node        string // of the model's nodes, read on reload
	started     time.Time
	version     string // lbx's, for the status
	resync      time.Duration
	// stopping ends at the daemon's stop (SIGTERM): a reconcile the stop
	// does not need is interrupted between two changes (stopOf). nil: never.
	stopping context.Context

	mu         sync.Mutex // guards the fields below; status snapshots read them
	m          *model.Model
	vrrp       map[string]string
	health     map[model.RealID]model.Health
	reasons    map[model.RealID]string
	quorumLost map[state.ServiceKey]bool
	declared   plan.Owned // everything the current model declares
	// claiming is what a reload in flight claimed and has not swapped in
	// yet (it unlocks e.mu between the two for the checker's update): a
	// reconcile must neither forget nor release it.
	claiming plan.Owned
	// routeDsts are the destinations of the model's routes, virtual ones
	// included (route notifications are filtered by them).
	routeDsts  map[netip.Prefix]bool
	last       *statusd.Reconcile
	reloadAt   time.Time
	reloadErr  string
	syncStatus *statusd.SyncDaemon // the sync daemon asked for, and why it does not run
	vrrpInfo   func() []statusd.Instance
	view       viewCache         // the model's daemon-owned part, for the status (its own lock)
	daemon     *vrrpd.Daemon     // nil in tests without VRRP
	vrrpSeen   map[string]string // states last given to metrics
	counters   map[string]uint64
	// healthScope holds the services whose real servers changed health
	// since the last reconcile: a trigHealth kick reconciles only their
	// real servers (apply.ReconcileReals). wholePending says a kick of
	// scopeWhole (reload, resubscribed, bgp...) may have been coalesced
	// into it.
	healthScope  map[state.ServiceKey]bool
	wholePending bool
	// missed are the triggers (bit 1<<trigger) whose kicks found the
	// wake-up slot taken; the loop kicks them again after its turn.
	missed uint32
	// healthGen counts health transitions and factsGen every other change
	// of what the kernel should hold (VRRP states, the model); applied*
	// are the counts the last successful reconciles covered: any
	// reconcile covers every pending health transition (its scope is all
	// of them), only a whole one covers the rest. A reconcile that
	// changes the kernel with nothing new since is repairing drift,
	// whatever woke it.
	healthGen, appliedHealthGen uint64
	factsGen, appliedGen        uint64
	// statusSent is the last STATUS= line given to systemd.
	statusSent string

	// ready is closed once vrrpd has started (its sockets open, the
	// addresses of instances that start as MASTER in the kernel), after
	// the start's table: readiness follows it.
	ready     chan struct{}
	readyOnce sync.Once
	// turned is signalled after every turn of the loop and every script
	// run, without blocking and coalesced (nobody reads it in the daemon):
	// a test waits on it for the engine's next state rather than sleeping.
	turned chan struct{}
	// turnsStarted and turnsEnded count the loop's turns: a test waits
	// for a turn that started after a point to end.
	turnsStarted, turnsEnded atomic.Uint64

	wake  chan trigger    // coalesced: reconcile soon, with why
	syncq chan chan error // reconcile now and answer (VRRP waits to GARP)
	hb    *sdnotify.Heartbeat
	// scripts runs real server notify_up/notify_down and quorum scripts
	// off the engine's paths (bounded, never blocking; see scriptq).
	scripts *scriptq.Queue
	// scriptsClosed is closed once the queue has had its budget at the
	// stop (Run only).
	scriptsClosed chan struct{}
	// scriptsPending counts the scripts queued and not yet run (one the
	// queue drops stays counted): tests wait for it to reach 0.
	scriptsPending atomic.Int64
	// bgp announces the model's VIPs (bgp.go); it does nothing without a
	// bgp section.
	bgp *bgpRunner
}

func newEngine(m *model.Model, file string, k kernel.Kernel, owner *apply.OwnerRecord, met *metrics.Registry, log *slog.Logger) *engine {
	e := &engine{
		log: log, k: k, owner: owner, met: met, file: file, started: time.Now(),
		m: m, vrrp: map[string]string{}, health: map[model.RealID]model.Health{}, reasons: map[model.RealID]string{},
		quorumLost: map[state.ServiceKey]bool{}, factsGen: 1,
		wake: make(chan trigger, 1), ready: make(chan struct{}), turned: make(chan struct{}, 1), syncq: make(chan chan error, 16), hb: &sdnotify.Heartbeat{},
		counters: map[string]uint64{}, healthScope: map[state.ServiceKey]bool{},
		drains: apply.NewDrains(nil),
	}
	e.scripts = scriptq.New(scriptq.Options{Run: e.runQueued, Log: log})
	e.resync = resyncOf(m)
	e.declared, e.routeDsts = declaredBy(m)
	return e
}

// resyncOf is the model's resync interval.
func resyncOf(m *model.Model) time.Duration {
	if m.Global.ResyncInterval != nil {
		return m.Global.ResyncInterval.Duration
	}
	return model.DefaultResyncInterval
}

// declaredBy lists the objects a model declares, VRRP addresses included:
// the watch owns them by declaration, so stale ones found while not master
// are removed. It also returns the destinations of the model's routes,
// static and virtual (route notifications are filtered by them): one
// compile for both.
func declaredBy(m *model.Model) (plan.Owned, map[netip.Prefix]bool) {
	o := plan.Owned{Services: map[state.ServiceKey]bool{}, Addresses: map[state.AddressKey]bool{}}
	d := model.Compile(m, model.Facts{})
	for k := range d.State.Services {
		o.Services[k] = true
	}
	for k := range d.State.Addresses {
		o.Addresses[k] = true
	}
	for _, a := range d.VRRPAddresses {
		o.Addresses[a.Key] = true
	}
	dsts := map[netip.Prefix]bool{}
	for k := range d.State.Routes {
		dsts[k.Dst] = true
	}
	for _, r := range slices.Concat(d.VRRPRoutes, d.BGPRoutes) {
		dsts[r.Key.Dst] = true
	}
	return o, dsts
}

// claimDeclared records a model's objects (declared) as lbx's before
// anything is created, so that removing one from the model later deletes
// it. Done at start and on reload, before the model is in force (a record
// that cannot be written refuses it) — never on the VRRP hot path, which
// would pay an fsync between a transition and its address.
func (e *engine) claimDeclared(declared plan.Owned) error {
	var cs []plan.Change
	for k := range declared.Services {
		cs = append(cs, plan.Change{Kind: plan.KindService, Action: plan.Create, Service: k})
	}
	for k := range declared.Addresses {
		a := state.Address{Key: k}
		cs = append(cs, plan.Change{Kind: plan.KindAddress, Action: plan.Create, AfterAddr: &a})
	}
	return e.owner.Claim(cs)
}

// releaseStaleVIPs deletes the model's VRRP addresses found on the
// interfaces at start, before anything else: no instance is MASTER yet,
// and a master killed with -9 left them there. The first reconcile would
// delete them too, but it makes the whole model first (seconds for
// thousands of addresses), while a peer is already master with the same
// address. Failures are logged: that reconcile tries again. The
// addresses of resumed instances (Options.ResumeMasters) stay.
func (e *engine) releaseStaleVIPs(ctx context.Context, resumed []string) {
	live, err := e.k.ReadNetwork(ctx)
	if err != nil {
		e.log.Warn("reading addresses for stale VRRP addresses", "err", err)
		return
	}
	var vips []state.Address
	for _, in := range e.m.VRRPInstances {
		if !slices.Contains(resumed, in.Name) { // MASTER in the process before
			vips = append(vips, in.HeldAddresses()...)
		}
	}
	stale := map[state.AddressKey]bool{}
	for _, a := range vips {
		stale[a.Key] = true
	}
	// A VIP may be its subnet's primary, with an operator's address behind.
	idx := state.IndexSecondaries(live.Addresses)
	for _, a := range vips {
		got, ok := live.Addresses[a.Key]
		if !ok {
			continue
		}
		if err := apply.DeleteAddress(ctx, e.k, got, idx, func(k state.AddressKey) bool { return stale[k] }); err != nil {
			e.log.Warn("removing a stale VRRP address", "address", a.Key.String(), "err", err)
			continue
		}
		e.log.Info("removed a stale VRRP address (no instance is master yet)", "address", a.Key.String())
	}
}

// owned is what a reconcile may change: what the record says lbx made,
// and what the model in force declares (declared, taken with it). Without
// services, for an addresses-only reconcile, which plans none: copying
// thousands of service keys is what that saves.
func (e *engine) owned(declared plan.Owned, services bool) plan.Owned {
	o := plan.Owned{Services: map[state.ServiceKey]bool{}, Addresses: e.owner.OwnedAddresses()}
	if services {
		o = e.owner.Owned()
		for k := range declared.Services {
			o.Services[k] = true
		}
	}
	for k := range declared.Addresses {
		o.Addresses[k] = true
	}
	return o
}

// kick asks for a reconcile soon; several kicks before it runs coalesce.
func (e *engine) kick(why trigger) {
	// Health and address notifications reconcile their part only; any
	// other kick asks for everything.
	if why.scope() == scopeWhole {
		e.mu.Lock()
		e.wholePending = true
		e.mu.Unlock()
	}
	select {
	case e.wake <- why:
	default:
		// The slot holds another trigger, and its turn may not cover
		// this one's scope (an address notification's reconciles no
		// real server): it is kicked again after that turn.
		e.mu.Lock()
		e.missed |= 1 << why
		e.mu.Unlock()
	}
}

// kickMissed kicks again the triggers whose kicks found the slot taken
// (kick), after a turn: one takes the slot, the others wait for the next.
func (e *engine) kickMissed() {
	e.mu.Lock()
	missed := e.missed
	e.missed = 0
	e.mu.Unlock()
	for t := trigger(0); missed != 0; t++ {
		if missed&(1<<t) != 0 {
			missed &^= 1 << t
			e.kick(t)
		}
	}
}

// Reconcile is vrrpd's Reconciler: record the states, then reconcile now
// and return only when the kernel has the addresses, so that the daemon's
// gratuitous ARP follows the address.
func (e *engine) Reconcile(ctx context.Context, states map[string]string) error {
	states = e.resumedAsMaster(states)
	e.mu.Lock()
	if !maps.Equal(e.vrrp, states) {
		e.factsGen++
	}
	e.vrrp = states
	e.mu.Unlock()
	e.suspendChecks()
	reply := make(chan error, 1)
	select {
	case e.syncq <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resumedAsMaster is states with the resumed instances still INIT taken
// for MASTER; an instance leaves e.resumed with its first other state.
func (e *engine) resumedAsMaster(states map[string]string) map[string]string {
	if len(e.resumed) == 0 {
		return states
	}
	out := maps.Clone(states)
	for name := range e.resumed {
		if out[name] == "INIT" {
			out[name] = "MASTER"
		} else {
			delete(e.resumed, name)
		}
	}
	return out
}

// onHealth applies the checkers' transitions (one batch) to the health
// held, applies the quorum rule and asks for a reconcile.
func (e *engine) onHealth(ts []check.Transition) {
	e.mu.Lock()
	e.healthGen++
	scripts := lvsrules.NotifyScripts(e.m, e.health, transitions(ts))
	for _, t := range ts {
		e.health[t.ID] = t.Health
		e.healthScope[t.ID.Service] = true
		e.reasons[t.ID] = t.Reason
		if t.Health.Up {
			e.log.Info("real server up", "real", t.ID.String())
		} else {
			e.log.Warn("real server down", "real", t.ID.String(), "reason", t.Reason)
		}
	}
	scripts = append(scripts, e.updateQuorumLocked()...)
	e.mu.Unlock()
	e.queueScripts(scripts)
	e.kick(trigHealth)
}

// transitions are the checkers' transitions as the rules take them.
func transitions(ts []check.Transition) []lvsrules.Transition {
	out := make([]lvsrules.Transition, len(ts))
	for i, t := range ts {
		out[i] = lvsrules.Transition{ID: t.ID, Health: t.Health}
	}
	return out
}

// omegaScripts are keepalived's omega for a stop that removes the
// services (lvsrules.OmegaScripts), with the health of this moment.
func (e *engine) omegaScripts() []lvsrules.Script {
	e.mu.Lock()
	defer e.mu.Unlock()
	return lvsrules.OmegaScripts(e.m, e.health, e.quorumLost)
}

// queueScripts hands scripts to the script queue and returns at once:
// neither the engine's callers (the checker's report, a reload) nor the
// reconcile loop ever wait for a script. One command of one kind runs one
// at a time, in order (a hanging one holds only its own later runs);
// what overflows the queue is dropped, counted and logged.
func (e *engine) queueScripts(scripts []lvsrules.Script) {
	for _, s := range scripts {
		e.scriptsPending.Add(1)
		e.scripts.Push(scriptq.Job{Key: s.Kind + " " + s.Cmd, Kind: s.Kind, Argvs: [][]string{{"/bin/sh", "-c", s.Cmd}}})
	}
}

// runQueued is the script queue's runner: one command, killed with its
// process group at scriptTimeout or when the stop budget is spent.
func (e *engine) runQueued(ctx context.Context, argv []string) {
	if out, err := script.Run(ctx, argv, script.Options{Timeout: scriptTimeout, User: e.scriptUser.Load()}); err != nil {
		e.log.Warn("script failed", "script", argv[len(argv)-1], "err", err, "output", strings.TrimSpace(out))
	}
	e.scriptsPending.Add(-1)
	e.signalTurn()
}

// runScripts runs scripts side by side and returns when all ended (each
// within timeout): omega at the stop, which must run whatever the queue
// holds, and is waited for.
func (e *engine) runScripts(scripts []lvsrules.Script, timeout time.Duration) {
	var wg sync.WaitGroup
	for _, s := range scripts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.runScript(s.Cmd, timeout)
		}()
	}
	wg.Wait()
}

// suspendChecks gives the runner the real servers ha_suspend pauses under
// the current model and VRRP states: at start (no instance is MASTER yet),
// on every VRRP change and after a reload (which may add ha_suspend or
// move a VIP).
func (e *engine) suspendChecks() {
	if e.runner == nil {
		return
	}
	// Under e.mu, so that of a reload and a VRRP change racing the later
	// set wins (lock order: e.mu, then the runner's).
	e.mu.Lock()
	defer e.mu.Unlock()
	e.runner.Suspend(lvsrules.SuspendedReals(e.m, e.vrrp))
}

// updateQuorumLocked applies keepalived's quorum rule (lvsrules.Quorum)
// to the health held now, logs the changes and returns the quorum
// scripts to run.
func (e *engine) updateQuorumLocked() []lvsrules.Script {
	lost, scripts, changes := lvsrules.Quorum(e.m, e.health, e.quorumLost)
	for _, c := range changes {
		e.log.Info("quorum changed", "service", c.Service.String(), "lost", c.Lost, "weight", c.Weight, "quorum", c.Quorum, "at_start", c.AtStart)
	}
	e.quorumLost = lost
	return scripts
}

// scriptTimeout bounds a notify or quorum script; stopScriptTimeout one
// run at a stop (omega), which must end well within systemd's
// TimeoutStopSec (15 s in examples/lbx.service; keepalived gives a
// script at shutdown 1 s); stopScriptBudget is what the queued scripts
// get from the stop on (vrrpd's notify scripts get as much, at the same
// time), after which those still running are killed.
const (
	scriptTimeout     = 30 * time.Second
	stopScriptTimeout = 5 * time.Second
	stopScriptBudget  = 3 * time.Second
)

// runScript runs a notify or quorum script (through /bin/sh -c, killed
// with its process group at the timeout) and logs a failure.
func (e *engine) runScript(cmdline string, timeout time.Duration) {
	if out, err := script.Shell(context.Background(), cmdline, script.Options{Timeout: timeout, User: e.scriptUser.Load()}); err != nil {
		e.log.Warn("script failed", "script", cmdline, "err", err, "output", strings.TrimSpace(out))
	}
}

// factsLocked copies the runtime facts for a compile. Called with e.mu held.
func (e *engine) factsLocked() model.Facts {
	f := model.Facts{VRRP: make(map[string]string, len(e.vrrp)), Health: make(map[model.RealID]model.Health, len(e.health)), QuorumLost: make(map[state.ServiceKey]bool, len(e.quorumLost))}
	for k, v := range e.vrrp {
		f.VRRP[k] = v
	}
	for k, v := range e.health {
		f.Health[k] = v
	}
	for k, v := range e.quorumLost {
		f.QuorumLost[k] = v
	}
	return f
}

// pass is one reconcile: what it works from, taken under e.mu in one go
// (the facts and the scope together, so that the scope's transitions are
// in the facts), and what it did.
type pass struct {
	why      trigger
	m        *model.Model
	f        model.Facts
	declared plan.Owned
	// hgen and gen are the counts of changes the facts cover (see
	// engine.healthGen); drifted: nothing new since the last reconcile
	// covered them, so any change it makes repairs drift.
	hgen, gen     uint64
	drifted       bool
	addressesOnly bool
	// services scopes a reconcile of real servers (nil: whole, unless
	// addressesOnly).
	services map[state.ServiceKey]bool

	p     *plan.Plan
	res   *apply.Result
	err   error
	whole bool // a whole reconcile ran
	// idle: a scoped pass with no service left, which touched nothing
	// (and so vouches for no transition applied).
	idle bool
}

// reconcile compiles and applies once. why says what triggered it; changes
// found on a resync or a notification are drift made behind lbx's back.
func (e *engine) reconcile(ctx context.Context, why trigger) error {
	ps := e.takePass(why)
	start := time.Now()
	e.applyPass(ctx, ps)
	rec, drift := e.reportPass(ps, start, time.Since(start))
	e.recordPass(ps, rec, drift)
	e.bgp.reconciled(ps.m, ps.err, ps.addressesOnly)
	if ps.err != nil && ps.p != nil && ps.res != nil && vrrpAddressesMade(ps.p, ps.res, vrrpAddresses(ps.m)) {
		return notVRRPError{ps.err}
	}
	return ps.err
}

// takePass takes a reconcile's facts and scope. What is read and planned
// depends on the trigger:
//   - a VRRP transition or an address notification: the addresses
//     (addressesOnly); a pending health scope or whole reconcile is left
//     for the loop's next turn, whose kick is queued;
//   - a health transition: its services' real servers; a drain poll: the
//     drained services' (and any pending health scope);
//   - anything else, or a kick for everything folded in: everything.
func (e *engine) takePass(why trigger) *pass {
	e.mu.Lock()
	defer e.mu.Unlock()
	ps := &pass{why: why, m: e.m, f: e.factsLocked(), declared: e.declared, hgen: e.healthGen, gen: e.factsGen}
	ps.drifted = ps.hgen == e.appliedHealthGen && ps.gen == e.appliedGen
	sc := e.scopeOf(why)
	ps.addressesOnly = sc == scopeAddresses
	if ps.addressesOnly {
		return ps
	}
	ps.services = e.healthScope
	if sc == scopeDrains {
		for _, k := range e.drains.Services() {
			ps.services[k] = true
		}
	}
	if sc == scopeWhole || e.wholePending {
		ps.services = nil
	}
	e.healthScope, e.wholePending = map[state.ServiceKey]bool{}, false
	return ps
}

// applyPass plans and applies ps in its scope: the addresses, the scoped
// real servers, or everything (also when a scoped reconcile finds it
// needs everything, apply.ErrNeedWhole).
func (e *engine) applyPass(ctx context.Context, ps *pass) {
	// A lost handle is replaced first; an addresses-only handle still
	// serves addresses, so a VRRP reconcile goes on with it while IPVS
	// waits for a handle that can be opened.
	var reopenErr error
	if e.lost != nil && !(ps.addressesOnly && errors.Is(e.lost, kernel.ErrAddressesOnly)) {
		reopenErr = e.reopenKernel(ps.m)
	}
	e.bgp.beforeApply(ctx, ps.m, &ps.f) // withdraw what this apply takes away, first
	popts := plan.Options{Owned: e.owned(ps.declared, !ps.addressesOnly), Unstamped: true}
	stop := e.stopOf(ps.why)
	ps.err = apply.ErrNeedWhole
	if reopenErr != nil {
		ps.err = reopenErr
	} else if ps.addressesOnly {
		ps.p, ps.res, ps.err = apply.ReconcileNetwork(ctx, e.k, model.CompileNetwork(ps.m, ps.f), popts, apply.Options{KeepGoing: true, OnRead: e.forgetAbsent(ps.declared),
			Stop: stop, AfterStop: isDelete})
	} else if len(ps.services) > 0 {
		keys := slices.Collect(maps.Keys(ps.services))
		ps.p, ps.res, ps.err = apply.ReconcileReals(ctx, e.k, model.CompileServices(ps.m, ps.f, ps.services), keys, popts, apply.Options{KeepGoing: true, Drains: e.drains, Stop: stop})
	} else if ps.services != nil {
		// A health or drain pass whose services an earlier pass took
		// (their kick came after that pass had read the scope) has
		// nothing left to do; taken for a whole one, it read and
		// planned everything, once per such race in a storm of
		// transitions.
		ps.err, ps.idle = nil, true
	}
	ps.whole = reopenErr == nil && !ps.addressesOnly && errors.Is(ps.err, apply.ErrNeedWhole)
	if ps.whole {
		var after func(plan.Change) bool
		if ps.why == trigVRRP {
			after = isDelete // vrrpd's first reconcile is a whole one
		}
		ps.p, ps.res, ps.err = apply.Reconcile(ctx, e.k, model.Compile(ps.m, ps.f), popts, apply.Options{KeepGoing: true, Drains: e.drains, OnRead: e.forgetAbsent(ps.declared),
			Stop: stop, AfterStop: after})
	}
	if errors.Is(ps.err, kernel.ErrKernelLost) || errors.Is(ps.err, kernel.ErrAddressesOnly) {
		e.lost = ps.err
	}
	if ps.p != nil && (ps.addressesOnly || ps.whole) {
		e.logNewNotes(ps.whole, ps.p.Notes)
	}
}

// reportPass logs what ps changed (as drift when nothing new asked for
// it), forgets in the ownership record what left the model, gives metrics
// the reconcile, and returns its status line and the drift by kind.
func (e *engine) reportPass(ps *pass, start time.Time, dur time.Duration) (*statusd.Reconcile, map[string]int) {
	rec := &statusd.Reconcile{Time: start, DurationSeconds: dur.Seconds(), Result: "noop"}
	drift := map[string]int{}
	if ps.res != nil {
		rec.KernelWrites = ps.res.KernelWrites
	}
	// A drain that ended: expected, not drift (Released also resets its
	// count, so it is read on every reconcile).
	drifted := e.drains.Released() == 0 && ps.drifted
	if p := ps.p; p != nil && !p.Empty() {
		rec.Result, rec.Changes = "changed", len(p.Changes)
		if drifted {
			for _, c := range p.Changes {
				drift[string(c.Kind)]++
			}
			e.log.Warn("repaired drift", "changes", len(p.Changes), "trigger", ps.why.String(), "result", summary(ps.res))
		} else {
			e.log.Info("applied", "changes", len(p.Changes), "trigger", ps.why.String(), "result", summary(ps.res), "took", dur)
		}
		e.releaseUndeclared(p, ps.res, ps.declared)
	}
	if ps.err != nil {
		rec.Result, rec.Error = "error", ps.err.Error()
	}
	e.met.Reconcile(dur, ps.err, rec.KernelWrites, drift)
	return rec, drift
}

// recordPass keeps ps's outcome for the status, readiness, the drift
// accounting and systemd's STATUS= line.
func (e *engine) recordPass(ps *pass, rec *statusd.Reconcile, drift map[string]int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.last = rec
	e.counters["reconciles"]++
	for _, n := range drift {
		e.counters["drift_repaired"] += uint64(n)
	}
	if ps.whole && ps.p != nil {
		e.wholeRead = true
	}
	if ps.err == nil && !ps.addressesOnly && !ps.idle {
		e.appliedHealthGen = ps.hgen
		if ps.whole {
			e.appliedGen = ps.gen
		}
	}
	// Sent under the lock, so that lines reach systemd in order.
	if line := statusLine(e.vrrp, e.health); line != e.statusSent {
		e.statusSent = line
		sdnotify.Status(line)
	}
}

// stopOf is what interrupts a reconcile for why between two changes: the
// daemon's stop, so that a SIGTERM during the reconcile of a reload (or
// of a resync) of a large model stops lbx within seconds. Not the stop's
// own reconcile (ipvs_on_stop: remove); a VRRP one, which releases the
// addresses as vrrpd shuts down, goes on with its deletes only (isDelete):
// its creates (a reload's new static addresses) wait for the next start.
func (e *engine) stopOf(why trigger) context.Context {
	if e.stopping == nil || why == trigStop {
		return nil
	}
	return e.stopping
}

// isDelete: a change that removes an object (releasing a VIP at a stop).
func isDelete(c plan.Change) bool { return c.Action == plan.Delete }

// logNewNotes warns of the plan notes the previous network plan of the
// same kind (whole or addresses only) did not have.
func (e *engine) logNewNotes(whole bool, notes []string) {
	kind := 0
	if whole {
		kind = 1
	}
	now := make(map[string]bool, len(notes))
	for _, n := range notes {
		if !e.notes[kind][n] {
			e.log.Warn("plan note", "note", n)
		}
		now[n] = true
	}
	e.notes[kind] = now
}

// scopeOf is the scope of a reconcile for why now: the trigger's, but an
// addresses-only one is whole until a whole reconcile has read the
// kernel (the first one, the start's table, makes the IPVS table).
// Loop only.
func (e *engine) scopeOf(why trigger) scope {
	if sc := why.scope(); sc != scopeAddresses || e.wholeRead {
		return sc
	}
	return scopeWhole
}

// reopenKernel replaces a kernel handle that takes no more calls by a new
// one for model m; the failing reconcile's retry gets here.
func (e *engine) reopenKernel(m *model.Model) error {
	if e.reopen == nil {
		return e.lost
	}
	k, err := e.reopen(m)
	if err != nil {
		return fmt.Errorf("opening a new kernel handle (the old one: %v): %w", e.lost, err)
	}
	e.log.Warn("kernel handle reopened", "because", e.lost.Error())
	old := e.k
	e.k, e.lost = k, nil
	old.Close()
	return nil
}

// notVRRPError is a reconcile that made every change of the VRRP
// instances' addresses but failed another (IPVS, a static address on an
// interface not there yet): the loop retries it, but for vrrpd it
// succeeded. vrrpd holds every instance's gratuitous ARP after a failed
// reconcile, so a failure elsewhere must not keep a new master's VIP
// unannounced.
type notVRRPError struct{ error }

func (e notVRRPError) Unwrap() error { return e.error }

// vrrpAddressesMade reports whether every change of p to one of vips (the
// VRRP instances' addresses) was made.
func vrrpAddressesMade(p *plan.Plan, res *apply.Result, vips map[state.AddressKey]bool) bool {
	for i, c := range p.Changes {
		if c.Kind != plan.KindAddress || res.Changes[i].Outcome == apply.Done {
			continue
		}
		for _, a := range []*state.Address{c.BeforeAddr, c.AfterAddr} {
			if a != nil && vips[a.Key] {
				return false
			}
		}
	}
	return true
}

// vrrpAddresses is every address of m's VRRP instances, excluded ones
// included, as the compile places them.
func vrrpAddresses(m *model.Model) map[state.AddressKey]bool {
	out := map[state.AddressKey]bool{}
	for _, a := range model.CompileNetwork(m, model.Facts{}).VRRPAddresses {
		out[a.Key] = true
	}
	return out
}

// vrrpReply is a reconcile's error as vrrpd sees it: nil once the VRRP
// instances' addresses are in place, whatever else failed (one service
// the kernel refuses, or a static address on an interface not there yet,
// must not keep a VIP off the interface or unannounced; keepalived's VRRP
// is a process of its own, which those errors do not touch).
func vrrpReply(err error) error {
	var other notVRRPError
	if errors.As(err, &other) {
		return nil
	}
	return err
}

// statusLine is the STATUS= that systemctl status shows: the VRRP
// instances that are MASTER here and the checked real servers that are
// up, or "running" when the model has neither.
func statusLine(vrrp map[string]string, health map[model.RealID]model.Health) string {
	var parts []string
	if len(vrrp) > 0 {
		parts = append(parts, vrrponly.StatusLine(vrrp))
	}
	if len(health) > 0 {
		n := 0
		for _, h := range health {
			if h.Up {
				n++
			}
		}
		parts = append(parts, fmt.Sprintf("%d/%d real servers up", n, len(health)))
	}
	if len(parts) == 0 {
		return "running"
	}
	return strings.Join(parts, "; ")
}

// forgetAbsent forgets the claims on objects a read found gone that the
// model in force does not declare (an instance removed by a reload while
// BACKUP held no address: its claim must not make an address someone adds
// later lbx's "drift"). Written only when something was forgotten, so a
// VRRP transition pays no fsync otherwise.
//
// declared is the model the reconcile compiled; a reload may have claimed
// or swapped in another since, whose new objects are claimed but not yet
// in the kernel: they are kept too (e.claiming, e.declared).
func (e *engine) forgetAbsent(declared plan.Owned) func(*state.State, bool) {
	return func(live *state.State, services bool) {
		e.mu.Lock()
		keep := unionOwned(unionOwned(declared, e.declared), e.claiming)
		n := e.owner.ForgetAbsent(live, services, keep)
		e.mu.Unlock()
		if n == 0 {
			return
		}
		if err := e.owner.Flush(); err != nil {
			e.log.Warn("ownership record", "err", err)
		}
	}
}

// unclaimed is what of declared the record (owned) does not hold yet.
func unclaimed(owned, declared plan.Owned) plan.Owned {
	out := plan.Owned{Services: map[state.ServiceKey]bool{}, Addresses: map[state.AddressKey]bool{}}
	for k := range declared.Services {
		if !owned.Services[k] {
			out.Services[k] = true
		}
	}
	for k := range declared.Addresses {
		if !owned.Addresses[k] {
			out.Addresses[k] = true
		}
	}
	return out
}

// unclaim takes back the claims of a refused reload (added), but for what
// the model in force declares. e.mu is held.
func (e *engine) unclaim(added plan.Owned) {
	for k := range e.declared.Services {
		delete(added.Services, k)
	}
	for k := range e.declared.Addresses {
		delete(added.Addresses, k)
	}
	if len(added.Services)+len(added.Addresses) == 0 {
		return
	}
	if err := e.owner.Record.Release(added); err != nil {
		e.log.Warn("ownership record: the refused reload's claims stay", "err", err)
	}
}

// unionOwned is what a or b holds.
func unionOwned(a, b plan.Owned) plan.Owned {
	u := plan.Owned{Services: maps.Clone(a.Services), Addresses: maps.Clone(a.Addresses)}
	if u.Services == nil {
		u.Services = map[state.ServiceKey]bool{}
	}
	if u.Addresses == nil {
		u.Addresses = map[state.AddressKey]bool{}
	}
	maps.Copy(u.Services, b.Services)
	maps.Copy(u.Addresses, b.Addresses)
	return u
}

// releaseUndeclared forgets, in the ownership record, objects deleted
// because they left the model (not VRRP addresses going with a backup),
// unless the model in force, or a reload's claim, declares them now.
func (e *engine) releaseUndeclared(p *plan.Plan, res *apply.Result, declared plan.Owned) {
	var gone []plan.Change
	for i, c := range p.Changes {
		if c.Action != plan.Delete || res == nil || i >= len(res.Changes) || res.Changes[i].Outcome != apply.Done {
			continue
		}
		switch {
		case c.Kind == plan.KindService && !declared.Services[c.Service]:
			gone = append(gone, c)
		case c.Kind == plan.KindAddress && !declared.Addresses[c.BeforeAddr.Key]:
			gone = append(gone, c)
		}
	}
	if len(gone) == 0 {
		return
	}
	// Under e.mu, against what a reload claimed since the plan was made.
	e.mu.Lock()
	defer e.mu.Unlock()
	now := unionOwned(e.declared, e.claiming)
	gone = slices.DeleteFunc(gone, func(c plan.Change) bool {
		if c.Kind == plan.KindService {
			return now.Services[c.Service]
		}
		return now.Addresses[c.BeforeAddr.Key]
	})
	if err := e.owner.Release(gone); err != nil {
		e.log.Warn("ownership record", "err", err)
	}
}

// loop runs the writer until ctx ends. A kernel error never stops it: it
// is logged and retried with backoff (100 ms doubling to 30 s).
func (e *engine) loop(ctx context.Context) {
	interval := e.resyncInterval()
	resync := time.NewTicker(interval)
	defer resync.Stop()
	var drainPoll <-chan time.Time
	rt := retrier{backoff: 100 * time.Millisecond}
	var pacer healthPacer
	var heldHealth <-chan time.Time // a health pass the pacer holds back
	for {
		var why trigger
		var replies []chan error
		select {
		case <-ctx.Done():
			return
		case r := <-e.syncq:
			why, replies = trigVRRP, []chan error{r}
		case why = <-e.wake:
			if why == trigHealth && !e.wholeKicked() {
				if heldHealth != nil {
					continue // the held pass will take this one's services too
				}
				if wait := pacer.wait(time.Now()); wait > 0 {
					heldHealth = time.After(wait)
					continue
				}
			}
		case <-heldHealth:
			heldHealth, why = nil, trigHealth
		case <-resync.C:
			why = trigResync
		case <-rt.retry:
			why = trigRetry
		case <-drainPoll:
			why = trigDrain
		}
		e.turnsStarted.Add(1)
		// The loop's context says when to stop taking work, not to abort
		// a reconcile: a cancelled kernel call is a kernel lost for good
		// (NetKernel), and the stop waits for this one to end.
		start := time.Now()
		onlyAddresses, err := e.turn(context.WithoutCancel(ctx), why, replies)
		if why == trigHealth {
			pacer.ran(start, time.Now())
		}
		// While real servers drain, their connections are read again
		// every second (the one-shot apply's drain poll).
		drainPoll = nil
		if e.drains.Len() > 0 {
			drainPoll = time.After(time.Second)
		}
		switch {
		case errors.Is(err, apply.ErrInterrupted):
			// Stopping: no retry (the next start reconciles anew).
			e.log.Info("reconcile interrupted: lbx watch is stopping", "trigger", why.String())
		case err != nil && ctx.Err() == nil:
			e.log.Error("reconcile failed; retrying", "err", err, "in", rt.backoff)
			rt.failed()
		case err == nil && !onlyAddresses:
			// An addresses-only reconcile (a VRRP one) that succeeds says
			// nothing of IPVS: it must not cancel the retry of a
			// reconcile that failed.
			rt.succeeded()
		}
		// A reload may have changed global.resync_interval.
		if d := e.resyncInterval(); d != interval {
			interval = d
			resync.Reset(d)
		}
		e.kickMissed()
		e.hb.Beat()
		e.turnsEnded.Add(1)
		e.signalTurn()
	}
}

// healthPacer spaces the health reconciles of a storm of transitions, as
// kube-proxy's minimum sync period spaces its syncs: a health pass starts
// no sooner after the last one ended than that one took (at most
// maxHealthSpacing), and the transitions of the wait all go in the pass
// that follows. A pass reads the real servers of every service it
// touches back from the kernel: in the bench VM at 5,000 checked servers,
// passes back to back after thousands of timeouts took lbx watch from
// idle to half a CPU (docs/performance.md, 5,000 checked real servers),
// where the spacing keeps health reconciles to half the time at most. A
// lone transition waits for nothing: the pass before it ended long ago.
// VRRP's reconciles and every other trigger are not held.
type healthPacer struct {
	next time.Time // a health pass may start from then
}

// maxHealthSpacing bounds the wait a health pass can get.
const maxHealthSpacing = time.Second

// wait is how long a health pass asked for at now waits (0: none).
func (p healthPacer) wait(now time.Time) time.Duration { return max(p.next.Sub(now), 0) }

// ran records a health pass that ran from start to end.
func (p *healthPacer) ran(start, end time.Time) {
	p.next = end.Add(min(end.Sub(start), maxHealthSpacing))
}

// wholeKicked says a kick for everything was folded into the wake taken
// (kick): that reconcile is not held.
func (e *engine) wholeKicked() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.wholePending
}

// retrier is the loop's retry of a failed turn, with backoff.
type retrier struct {
	retry   <-chan time.Time
	backoff time.Duration
}

func (r *retrier) failed() {
	r.retry = time.After(r.backoff)
	r.backoff = min(2*r.backoff, 30*time.Second)
}

func (r *retrier) succeeded() { r.retry, r.backoff = nil, 100*time.Millisecond }

// turn is one turn of the loop for why: the reconcile (answering the VRRP
// requests replies), the VRRP requests that arrived during it, and the
// sync daemons. It returns whether every reconcile was addresses-only,
// and the turn's error.
func (e *engine) turn(ctx context.Context, why trigger, replies []chan error) (bool, error) {
	onlyAddresses := e.scopeOf(why) == scopeAddresses
	err := e.reconcile(ctx, why)
	for _, r := range replies {
		r <- vrrpReply(err)
	}
	// A request that arrived during that reconcile recorded VRRP states
	// it may not have seen (Reconcile stores them, then enqueues): one
	// more pass for all of them, a cheap no-op when nothing changed.
	for late := e.pendingVRRP(); len(late) > 0; late = e.pendingVRRP() {
		onlyAddresses = onlyAddresses && e.scopeOf(trigVRRP) == scopeAddresses
		lateErr := e.reconcile(ctx, trigVRRP)
		for _, r := range late {
			r <- vrrpReply(lateErr)
		}
		if lateErr != nil {
			err = lateErr
		}
	}
	// The sync daemons follow the VRRP states once the addresses are
	// made and vrrpd has its answer (its gratuitous ARP does not wait
	// for them), as keepalived switches them after the VIPs.
	if why.followsVRRP() {
		if syncErr := e.syncDaemons(ctx); syncErr != nil {
			err = errors.Join(err, syncErr)
		}
	}
	return onlyAddresses, err
}

// pendingVRRP takes the VRRP requests waiting, without blocking.
func (e *engine) pendingVRRP() []chan error {
	var late []chan error
	for {
		select {
		case r := <-e.syncq:
			late = append(late, r)
		default:
			return late
		}
	}
}

// signalTurn tells a test waiting on e.turned that the engine moved on.
func (e *engine) signalTurn() {
	select {
	case e.turned <- struct{}{}:
	default:
	}
}

// syncDaemons makes the kernel's IPVS sync daemons what the model and
// the VRRP states ask for (model.CompileSyncDaemons): nothing when the
// model has no lvs_sync_daemon and never had since start, all stopped once
// it is removed. A daemon in a slot lbx follows that is not as asked (a
// foreign sync id, another interface) is replaced: keepalived only fails
// to start its own then. Loop only (and the stop, after it).
func (e *engine) syncDaemons(ctx context.Context) error {
	e.mu.Lock()
	m := e.m
	vrrp := maps.Clone(e.vrrp)
	e.mu.Unlock()
	if m.Global.LVSSyncDaemon != nil {
		e.syncManaged = true
	}
	if !e.syncManaged {
		return nil
	}
	want := model.CompileSyncDaemons(m, model.Facts{VRRP: vrrp})
	return e.applySyncDaemons(ctx, want)
}

// stopSyncDaemons stops the sync daemons lbx followed (at the stop, as
// keepalived's vrrp process does on its way out).
func (e *engine) stopSyncDaemons(ctx context.Context) {
	if !e.syncManaged {
		return
	}
	if e.lost != nil {
		if err := e.reopenKernel(e.currentModel()); err != nil {
			e.log.Error("stopping the IPVS sync daemons: no kernel handle", "err", err)
			return
		}
	}
	if err := e.applySyncDaemons(ctx, nil); err != nil {
		e.log.Error("stopping the IPVS sync daemons failed", "err", err)
	}
}

func (e *engine) applySyncDaemons(ctx context.Context, want []state.SyncDaemon) error {
	var res []apply.SyncDaemonResult
	err := e.lost
	if err == nil {
		res, err = apply.ReconcileSyncDaemons(ctx, e.k, want, &e.syncMemory)
	}
	for _, r := range res {
		if r.Err == nil {
			e.log.Info("IPVS sync daemon", "action", r.Step.Action, "role", r.Step.Daemon.Role, "interface", r.Step.Daemon.Interface, "sync_id", r.Step.Daemon.SyncID)
		}
	}
	if errors.Is(err, kernel.ErrKernelLost) || errors.Is(err, kernel.ErrAddressesOnly) {
		e.lost = err // the retry opens a handle with IPVS
	}
	var st *statusd.SyncDaemon
	if len(want) > 0 {
		st = &statusd.SyncDaemon{Role: string(want[0].Role), Interface: want[0].Interface, SyncID: want[0].SyncID}
		if err != nil {
			st.Error = err.Error()
		}
	} else if err == nil {
		e.syncManaged = false // all stopped: foreign daemons started later are not ours
	}
	e.mu.Lock()
	e.syncStatus = st
	e.mu.Unlock()
	return err
}

func (e *engine) resyncInterval() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resync
}

// watchNetlink asks for a reconcile when a netlink notification concerns
// an object of ours changed behind lbx's back (addresses, routes; IPVS has
// none, the periodic resync covers it), and a whole one after a broken
// subscription is made again (internal/nlwatch).
func watchNetlink[U any](ctx context.Context, e *engine, what string, subscribe func(chan U, chan struct{}, func(error)) error, concerns func(U) bool) {
	nlwatch.Follow(ctx, func(ch chan U, done chan struct{}) error {
		return subscribe(ch, done, func(err error) { e.log.Debug(what+" subscription", "err", err) })
	}, concerns, func() { e.kick(trigNetlink) }, func() { e.kick(trigResubscribed) }, func(err error) {
		e.log.Warn(what+" notifications unavailable; relying on resync", "err", err)
	})
}

// watchNotifications starts the address, route and link watchers.
func (e *engine) watchNotifications(ctx context.Context) {
	go watchNetlink(ctx, e, "link", func(ch chan netlink.LinkUpdate, done chan struct{}, cb func(error)) error {
		return netlink.LinkSubscribeWithOptions(ch, done, netlink.LinkSubscribeOptions{ErrorCallback: cb})
	}, linkCameUp())
	go watchNetlink(ctx, e, "address", func(ch chan netlink.AddrUpdate, done chan struct{}, cb func(error)) error {
		return netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{ErrorCallback: cb})
	}, e.concerns)
	go watchNetlink(ctx, e, "route", func(ch chan netlink.RouteUpdate, done chan struct{}, cb func(error)) error {
		return netlink.RouteSubscribeWithOptions(ch, done, netlink.RouteSubscribeOptions{ErrorCallback: cb})
	}, e.concernsRoute)
}

// linkCameUp returns the link watcher's test: a link that went up or got
// its carrier back. When a link goes down the kernel flushes the IPv4
// routes through it without a route notification, and nothing puts them
// back when it comes up: the reconcile this asks for does, at once
// rather than at the next resync (keepalived re-adds its routes on link
// up too). Called by the one watcher goroutine only.
func linkCameUp() func(netlink.LinkUpdate) bool {
	const upAndRunning = unix.IFF_UP | unix.IFF_RUNNING
	last := map[int32]uint32{}
	return func(u netlink.LinkUpdate) bool {
		if u.Header.Type == unix.RTM_DELLINK {
			delete(last, u.Index)
			return false
		}
		now := u.Flags & upAndRunning
		before, seen := last[u.Index]
		last[u.Index] = now
		return now&unix.IFF_UP != 0 && (!seen || now&^before != 0) // up, and new or a flag gained
	}
}

// concernsRoute reports whether a route notification is about a route of
// lbx's (its protocol) or one the model declares (another owner's route
// took its place).
func (e *engine) concernsRoute(u netlink.RouteUpdate) bool {
	if int(u.Protocol) == state.RouteProtoLBX {
		return true
	}
	if u.Dst == nil {
		return false
	}
	a, ok := netip.AddrFromSlice(u.Dst.IP)
	if !ok {
		return false
	}
	ones, _ := u.Dst.Mask.Size()
	dst := netip.PrefixFrom(a.Unmap(), ones)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.routeDsts[dst]
}

// concerns reports whether an address notification is about an address
// the model declares (the loop's own changes also arrive here; the
// reconcile they trigger is a cheap no-op).
func (e *engine) concerns(u netlink.AddrUpdate) bool {
	a, ok := netip.AddrFromSlice(u.LinkAddress.IP)
	if !ok {
		return false
	}
	a = a.Unmap()
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.declared.Addresses {
		if k.Addr == a {
			return true
		}
	}
	return false
}

// reload reads the model file again and applies it as a diff: the checkers
// keep the health of unchanged real servers, nothing is flushed, the next
// reconcile changes only what differs, and VRRP instances are reloaded as
// a diff too (vrrpd.PlanReload: unchanged ones are not touched, changed
// ones take their settings in place, replaced and removed ones resign with
// priority 0). An invalid file leaves the running model in force.
func (e *engine) reload(stop context.Context) error {
	sdnotify.Reloading()
	defer sdnotify.Ready()
	e.log.Info("reloading", "model", e.file)
	m, cfg, targets, err := e.loadForReload(stop)
	if stop.Err() != nil {
		// Stopping: the stop path must not wait for a load (a large
		// model takes tens of seconds), nor this reload undo the stop.
		e.log.Warn("reload abandoned: lbx watch is stopping", "model", e.file)
		return err
	}
	e.mu.Lock()
	e.reloadAt = time.Now()
	at := e.reloadAt
	var declared plan.Owned
	var dsts map[netip.Prefix]bool
	var added plan.Owned // what the claim adds to the record
	if err == nil {
		declared, dsts = declaredBy(m)
		added = unclaimed(e.owner.Owned(), declared)
		if err = e.claimDeclared(declared); err == nil {
			e.claiming = declared
		} else {
			added = plan.Owned{}
		}
	}
	e.mu.Unlock()
	// The checker takes the new targets only once the reload is sure to
	// go on: a refused reload must leave every real server of the model
	// in force checked (Update drops the targets it is not given).
	if err == nil && e.runner != nil {
		err = e.runner.Update(targets)
	}
	e.mu.Lock()
	e.claiming = plan.Owned{}
	if err != nil {
		// A refusal after the claim takes back what it added: the next
		// reconcile would take those objects for lbx's and delete them.
		e.unclaim(added)
		e.reloadErr = err.Error()
		e.mu.Unlock()
		e.met.Reload(false, at)
		e.log.Error("reload refused; the running model stays in force", "err", err)
		return err
	}
	// The scripts of what this reload removes, with the health it had.
	scripts := lvsrules.ReloadScripts(e.m, m, e.health, e.quorumLost)
	e.m = m
	e.scriptUser.Store(cfg.ScriptUser)
	e.factsGen++
	e.declared, e.routeDsts = declared, dsts
	e.resync = resyncOf(m)
	e.reloadErr = ""
	if e.runner != nil {
		e.health = e.runner.Health()
	}
	scripts = append(scripts, e.updateQuorumLocked()...)
	e.mu.Unlock()
	e.queueScripts(scripts)
	e.suspendChecks()
	// The model is in force before vrrpd reloads: the reconciles of the
	// VRRP reload (addresses of stopped instances released, of new masters
	// added) compile the new model.
	if e.daemon != nil {
		// Bounded, and abandoned at a stop: vrrpd no longer takes
		// reloads once it is stopping.
		ctx, cancel := context.WithTimeout(stop, time.Minute)
		err = e.daemon.Reload(ctx, cfg)
		cancel()
		if err != nil {
			e.mu.Lock()
			e.reloadErr = err.Error()
			e.mu.Unlock()
			e.log.Error("VRRP reload incomplete", "err", err)
		}
	}
	e.met.Retain(metricInstances(m), metricReals(m))
	if len(cfg.Instances) == 0 {
		// vrrpd reports tracked objects with its instances' changes, so
		// not when none is left: then nothing is tracked.
		exportTracked(e.met, nil)
	}
	e.met.Reload(err == nil, at)
	e.log.Info("reloaded", "model", e.file)
	e.kick(trigReload)
	footprint.Settle() // the old model and the new one's load are garbage now
	return err
}

// loadForReload reads, checks and compiles the model file for a reload in
// a goroutine of its own, and gives up waiting for it when stop ends: a
// SIGTERM during the load of a large model then stops the daemon at once
// (the goroutine's result is dropped, and it ends with the process).
// Unsafe scripts and duplicate VRIDs are refused before anything changes,
// as at start.
func (e *engine) loadForReload(stop context.Context) (*model.Model, *vrrpd.Config, []check.Target, error) {
	type loaded struct {
		m       *model.Model
		cfg     *vrrpd.Config
		targets []check.Target
		err     error
	}
	done := make(chan loaded, 1) // never blocks the loader once abandoned
	go func() {
		var l loaded
		l.m, l.err = model.LoadNode(e.file, e.node)
		if l.err == nil {
			l.cfg, l.targets, l.err = Preflight(l.m, e.log)
			l.m.Positions = model.Positions{} // as in Run: not kept by the daemon
		}
		done <- l
	}()
	select {
	case l := <-done:
		return l.m, l.cfg, l.targets, l.err
	case <-stop.Done():
		return nil, nil, nil, fmt.Errorf("reload abandoned: %w", context.Cause(stop))
	}
}

func metricInstances(m *model.Model) []metrics.VRRP {
	var out []metrics.VRRP
	for _, in := range m.VRRPInstances {
		out = append(out, metrics.VRRP{Name: in.Name, Interface: in.Interface, VRID: in.VirtualRouterID})
	}
	return out
}

func metricReals(m *model.Model) []metrics.Real {
	var out []metrics.Real
	for _, vs := range m.VirtualServers {
		for _, key := range m.ServiceKeys(vs) {
			for _, rs := range vs.RealServers {
				out = append(out, metrics.Real{Service: key, Real: rs.Key(vs)})
			}
		}
	}
	return out
}

// status builds the document `lbx status` prints, the daemon model with it.
func (e *engine) status() statusd.Status {
	return e.statusFor(statusd.Request{DaemonModel: true})
}

// statusFor builds the status a client asked for: the daemon model only
// when it asks (lbx plan and apply), since after a reload its first build
// makes every check's view again.
func (e *engine) statusFor(r statusd.Request) statusd.Status {
	st, snap := e.statusLocked()
	// Outside e.mu, which VRRP's reconciles wait for: the checker's
	// figures are a round trip to lbx-check (up to its timeout when it is
	// slow), the pool's weights a compile of the whole model, and the
	// view of a reloaded model builds every check again (0.1–0.25 s at
	// 10,000 checked real servers).
	st.RealServers = snap.realServers()
	if r.DaemonModel {
		st.DaemonModel = e.view.of(snap.m)
	}
	return st
}

// statusSnapshot is what the status reads under e.mu for the part built
// outside it: the model in force, its facts, the checker and the reasons
// of the real servers' last transitions.
type statusSnapshot struct {
	m       *model.Model
	f       model.Facts
	runner  Checker
	reasons map[model.RealID]string
}

// realServers is every checked real server's status: the checker's
// figures and the weight the compile gives it in the pool (0 when down
// and inhibited, absent when out: the one rule, not a copy of it).
func (s statusSnapshot) realServers() []statusd.Real {
	if s.runner == nil {
		return nil
	}
	stats := s.runner.Stats()
	if len(stats) == 0 {
		return nil
	}
	pool := model.Compile(s.m, s.f).State
	var out []statusd.Real
	for _, t := range stats {
		last, latency := t.LastCheck()
		for _, id := range t.IDs() {
			r := statusd.Real{Service: id.Service.String(), Real: id.Real.String(), Up: t.Up, LastError: s.reasons[t.ID],
				LastCheck: last, LatencySeconds: latency.Seconds()}
			if svc := pool.Services[id.Service]; svc != nil {
				r.Weight = svc.Reals[id.Real].Weight
			}
			out = append(out, r)
		}
	}
	return out
}

// statusLocked is the status but its real servers and the daemon-owned
// view, and what they are built from.
func (e *engine) statusLocked() (statusd.Status, statusSnapshot) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := statusd.Status{
		Daemon:        statusd.Daemon{PID: os.Getpid(), Version: e.version, Process: "lbx", StartTime: e.started, ModelFile: e.file, Node: e.node, LastReload: e.reloadAt, LastReloadError: e.reloadErr},
		LastReconcile: e.last,
		Counters:      map[string]uint64{},
		SyncDaemon:    e.syncStatus,
	}
	for k, v := range e.counters {
		st.Counters[k] = v
	}
	if e.vrrpInfo != nil {
		st.VRRP = e.vrrpInfo()
	}
	st.BGP = e.bgp.status()
	snap := statusSnapshot{m: e.m, runner: e.runner}
	if e.runner != nil {
		snap.f, snap.reasons = e.factsLocked(), maps.Clone(e.reasons)
	}
	return st, snap
}

// AbsPath makes a model path comparable between `lbx watch -f` and
// `lbx apply -f`.
func AbsPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// Outcome of one change.
type Outcome string

const (
	Done    Outcome = "done"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped" // not attempted because an earlier change failed
)

// ChangeResult is what happened to one change.
type ChangeResult struct {
	Address string      `json:"address"`
	Action  plan.Action `json:"action"`
	Outcome Outcome     `json:"outcome"`
	Error   string      `json:"error,omitempty"`
}

// Result is the machine-readable outcome of an apply (`lbx apply -o json`).
type Result struct {
	Changed      bool           `json:"changed"`
	Added        int            `json:"added"`
	Updated      int            `json:"updated"`
	Deleted      int            `json:"deleted"`
	KernelWrites int            `json:"kernel_writes"`
	Changes      []ChangeResult `json:"changes"`
	Error        string         `json:"error,omitempty"`
}

// Options tune execution.
type Options struct {
	// Owner, if set, records what lbx creates and forgets what it deletes.
	Owner *OwnerRecord
	// Now and Sleep drive drain waiting; nil means the real clock.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
	// DrainPoll is how often a draining server's connections are read.
	DrainPoll time.Duration
	// Drains, if set, drains removed real servers across reconciles
	// instead of waiting inline (lbx watch).
	Drains *Drains
	// Progress, if set, hears each change, batch and drain wait begin
	// and end (lbx apply tells a person at a terminal what is still
	// running).
	Progress Progress
	// KeepGoing: a failed change does not stop the others, as in
	// Terraform, where only what depends on a failed resource waits (lbx
	// watch: one service the kernel refuses must not keep a VRRP address
	// off the interface). The real servers of a service whose own change
	// failed are not attempted. Without it the first failure stops the
	// apply (the one-shot `lbx apply`, whose operator reads the report).
	KeepGoing bool
	// OnRead, if set, hears what Reconcile and ReconcileNetwork read,
	// before they plan: services says the read covered IPVS (an
	// addresses-only read, or a kernel without IPVS, does not). lbx watch
	// forgets there the claims on objects that are gone
	// (OwnerRecord.ForgetAbsent).
	OnRead func(live *state.State, services bool)
	// Stop, if set, is checked between changes: once it ends, no further
	// change starts but those AfterStop keeps (nil: none), the rest is
	// left Skipped and the error wraps ErrInterrupted. The change under
	// way finishes (ctx still bounds each kernel call; a kernel call
	// cancelled half-way would leave the handle unusable). lbx watch stops
	// a reload's reconcile so at SIGTERM, and its VRRP reconciles keep
	// only the deletes that release addresses; the run after the
	// interruption converges.
	Stop      context.Context
	AfterStop func(plan.Change) bool
}

// ErrInterrupted is the error of an apply that Options.Stop interrupted
// between two changes.
var ErrInterrupted = errors.New("interrupted between two changes (stopping)")

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	if o.DrainPoll == 0 {
		o.DrainPoll = time.Second
	}
	if o.Progress == nil {
		o.Progress = noProgress{}
	}
}

// PartialError reports an apply that did not make every change: the first
// failure, how many more failed (with KeepGoing), and how many changes
// were made and not attempted.
type PartialError struct {
	Failed  string
	Err     error
	More    int
	Done    int
	Pending int
}

func (e *PartialError) Error() string {
	more := ""
	if e.More > 0 {
		more = fmt.Sprintf(", %d more failed", e.More)
	}
	return fmt.Sprintf("%s failed: %v (%d change(s) done%s, %d not attempted; run apply again to converge)", e.Failed, e.Err, e.Done, more, e.Pending)
}

func (e *PartialError) Unwrap() error { return e.Err }

// Execute carries out a plan's changes in order. It stops at the first
// failure, reports what was done and what was not, and leaves a state from
// which running the plan again converges: creates of existing objects become
// updates, deletes of missing objects succeed.
func Execute(ctx context.Context, k kernel.Kernel, p *plan.Plan, opts Options) (*Result, error) {
	opts.defaults()
	e := newExecution(k, p, opts)
	if opts.Owner != nil {
		// Write-ahead: claim what we are about to create, so that a crash
		// in the middle leaves no object lbx made but does not own.
		if err := opts.Owner.Claim(p.Changes); err != nil {
			e.res.Error = err.Error()
			return e.res, err
		}
	}
	for i := 0; i < len(p.Changes); {
		e.release() // the previous step's
		next, stop := e.step(ctx, i)
		if stop {
			break
		}
		i = next
	}
	return e.finish()
}

// execution is one Execute's progress through its plan: the outcome of
// each change so far, the first failure, and the deletes done whose
// claims are still to be released.
type execution struct {
	k             kernel.Kernel
	counter       *countingKernel
	p             *plan.Plan
	opts          Options
	res           *Result
	first         *PartialError
	failures      int
	done          int
	failedService map[state.ServiceKey]bool
	deleted       []plan.Change // done since the last release
	releaseErr    error
	stopped       error // why the changes left were not attempted
}

func newExecution(k kernel.Kernel, p *plan.Plan, opts Options) *execution {
	res := &Result{Changes: make([]ChangeResult, len(p.Changes))}
	for i, c := range p.Changes {
		res.Changes[i] = ChangeResult{Address: c.Address, Action: c.Action, Outcome: Skipped}
	}
	return &execution{k: k, counter: &countingKernel{Kernel: k}, p: p, opts: opts, res: res, failedService: map[state.ServiceKey]bool{}}
}

// step carries out the change at i, with the ones that go with it (a
// group of drained deletes, a batch of IPVS writes), and returns the index
// of the next change and whether to stop.
func (e *execution) step(ctx context.Context, i int) (next int, stop bool) {
	c := e.p.Changes[i]
	if halt := e.opts.Stop; halt != nil && halt.Err() != nil && (e.opts.AfterStop == nil || !e.opts.AfterStop(c)) {
		e.stopped = fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(halt))
		return i + 1, false // left Skipped
	}
	if c.Kind == plan.KindReal && e.failedService[c.Service] {
		return i + 1, false // its service failed: left Skipped
	}
	if isDrainedDelete(c) {
		return e.drainGroup(ctx, i)
	}
	if b, ok := e.k.(kernel.IPVSBatcher); ok && isBatchable(c) {
		return e.batch(ctx, b, i)
	}
	return i + 1, e.one(ctx, i)
}

func isDrainedDelete(c plan.Change) bool {
	return c.Kind == plan.KindReal && c.Action == plan.Delete && c.DrainSeconds > 0
}

// drainGroup drains every consecutive drained delete from i together, so
// that they wait in parallel rather than one after another. After a failed
// drain the rest of its group is left Skipped: the next reconcile drains
// them again.
func (e *execution) drainGroup(ctx context.Context, i int) (next int, stop bool) {
	j := i
	for j < len(e.p.Changes) && isDrainedDelete(e.p.Changes[j]) {
		j++
	}
	failedAt, err := drain(ctx, e.counter, e.p.Changes[i:j], e.opts)
	for x := i; x < j; x++ {
		if failedAt >= 0 && x-i >= failedAt {
			break
		}
		e.succeed(x)
	}
	return j, err != nil && e.fail(i+failedAt, err)
}

// batch sends the consecutive batchable changes from i in one IPVS batch.
func (e *execution) batch(ctx context.Context, b kernel.IPVSBatcher, i int) (next int, stop bool) {
	j := i
	for j < len(e.p.Changes) && isBatchable(e.p.Changes[j]) {
		j++
	}
	step := batchStep(e.p.Changes[i:j])
	e.opts.Progress.Begin(step)
	errs := executeBatch(ctx, b, e.counter, e.p.Changes[i:j])
	e.opts.Progress.End(step)
	for x, err := range errs {
		if c := e.p.Changes[i+x]; err != nil && c.Kind == plan.KindReal && e.failedService[c.Service] {
			continue // sent in the same batch as its failed service: left Skipped
		}
		if err != nil {
			stop = e.fail(i+x, err) || stop
		} else {
			e.succeed(i + x)
		}
	}
	return j, stop
}

// one carries out the change at i alone; it reports whether to stop.
func (e *execution) one(ctx context.Context, i int) (stop bool) {
	c := e.p.Changes[i]
	e.opts.Progress.Begin(stepOf(c))
	err := executeOne(ctx, e.counter, c)
	e.opts.Progress.End(stepOf(c))
	if err != nil {
		return e.fail(i, err)
	}
	e.succeed(i)
	return false
}

// fail records change x's failure; it reports whether to stop.
func (e *execution) fail(x int, err error) bool {
	c := e.p.Changes[x]
	e.res.Changes[x].Outcome, e.res.Changes[x].Error = Failed, err.Error()
	e.failures++
	if e.first == nil {
		e.first = &PartialError{Failed: c.Address, Err: err}
	}
	if c.Kind == plan.KindService {
		e.failedService[c.Service] = true
	}
	return !e.opts.KeepGoing
}

func (e *execution) succeed(x int) {
	c := e.p.Changes[x]
	e.res.Changes[x].Outcome = Done
	e.done++
	e.res.count(c.Action)
	if c.Action == plan.Delete {
		e.deleted = append(e.deleted, c)
	}
}

// release forgets the claims on the objects deleted since the last call.
// Deletes done are released step by step, not at the end: after a kill -9
// part-way, the claim on an object already deleted would stay, and an
// object someone makes later with its key be taken for lbx's.
func (e *execution) release() {
	if e.opts.Owner != nil && len(e.deleted) > 0 {
		if err := e.opts.Owner.Release(e.deleted); err != nil && e.releaseErr == nil {
			e.releaseErr = err
		}
	}
	e.deleted = e.deleted[:0]
}

// finish releases the last step's deletes and returns the result with the
// error that sums it up: the first failure, an interruption, or a claim
// that could not be released.
func (e *execution) finish() (*Result, error) {
	var firstErr error
	pending := len(e.p.Changes) - e.done - e.failures
	if e.first != nil {
		e.first.More, e.first.Done, e.first.Pending = e.failures-1, e.done, pending
		firstErr = e.first
	}
	if e.stopped != nil {
		firstErr = errors.Join(firstErr, fmt.Errorf("%w (%d change(s) done, %d not attempted; run apply again to converge)",
			e.stopped, e.done, pending))
	}
	e.res.KernelWrites = e.counter.writes
	e.res.Changed = e.done > 0
	e.release()
	if e.releaseErr != nil && firstErr == nil {
		firstErr = e.releaseErr
	}
	if firstErr != nil {
		e.res.Error = firstErr.Error()
	}
	return e.res, firstErr
}

func (r *Result) count(a plan.Action) {
	switch a {
	case plan.Create:
		r.Added++
	case plan.Update:
		r.Updated++
	case plan.Delete:
		r.Deleted++
	case plan.Replace:
		r.Added++
		r.Deleted++
	}
}

func executeOne(ctx context.Context, k kernel.Kernel, c plan.Change) error {
	if c.Kind == plan.KindService || c.Kind == plan.KindReal {
		return settleIPVS(ctx, k, c, kernel.WriteIPVSChange(ctx, k, c))
	}
	if c.Kind == plan.KindAddress {
		switch c.Action {
		case plan.Create:
			return ignoreExists(k.AddAddress(ctx, *c.AfterAddr))
		case plan.Delete:
			return ignoreNotFound(deleteAddress(ctx, k, c))
		case plan.Replace:
			if err := ignoreNotFound(deleteAddress(ctx, k, c)); err != nil {
				return err
			}
			return k.AddAddress(ctx, *c.AfterAddr)
		}
	}
	if c.Kind == plan.KindSysctl {
		return writeSysctl(ctx, k, c)
	}
	if c.Kind == plan.KindRoute {
		switch c.Action {
		case plan.Create:
			// Exclusive: a route that took the key since the plan, or a
			// routing daemon's (never read), is not taken over unseen.
			err := k.AddRoute(ctx, *c.AfterRoute)
			if errors.Is(err, kernel.ErrExists) {
				return fmt.Errorf("%s: another route holds its table, destination and metric (made since the plan, or a routing daemon's, which lbx does not read or replace): %w; plan again, or give the route another metric", c.Address, err)
			}
			return err
		case plan.Update:
			return k.ReplaceRoute(ctx, *c.AfterRoute)
		case plan.Delete:
			return ignoreNotFound(k.DeleteRoute(ctx, *c.BeforeRoute))
		}
	}
	return fmt.Errorf("%s: cannot %s a %s", c.Address, c.Action, c.Kind)
}

// settleIPVS gives an IPVS write's error the meaning that makes a re-run
// converge: a create that meets an existing object becomes an update (to
// the planned settings), a delete of a missing object is done.
func settleIPVS(ctx context.Context, k kernel.Kernel, c plan.Change, err error) error {
	switch {
	case errors.Is(err, kernel.ErrExists) && c.Action == plan.Create:
		u := c
		u.Action = plan.Update
		return kernel.WriteIPVSChange(ctx, k, u)
	case errors.Is(err, kernel.ErrNotFound) && c.Action == plan.Delete:
		return nil
	}
	return err
}

// isBatchable: IPVS service and real-server changes, except drains (which
// wait between their writes).
func isBatchable(c plan.Change) bool {
	return (c.Kind == plan.KindService || c.Kind == plan.KindReal) && c.DrainSeconds == 0
}

// executeBatch sends a run of IPVS changes in one go, then settles each
// error as executeOne does.
func executeBatch(ctx context.Context, b kernel.IPVSBatcher, k *countingKernel, cs []plan.Change) []error {
	errs := b.WriteIPVS(ctx, cs)
	k.writes += len(cs)
	for i, c := range cs {
		errs[i] = settleIPVS(ctx, k, c, errs[i])
	}
	return errs
}

func ignoreNotFound(err error) error {
	if errors.Is(err, kernel.ErrNotFound) {
		return nil
	}
	return err
}

func ignoreExists(err error) error {
	if errors.Is(err, kernel.ErrExists) {
		return nil
	}
	return err
}

// drain sets each real server's weight to 0 (new connections go elsewhere,
// established ones continue), waits until each has no connections or its
// drain time passed, then deletes it — kube-proxy's graceful termination.
// It returns the index of the change that failed, or -1.
func drain(ctx context.Context, k kernel.Kernel, cs []plan.Change, opts Options) (int, error) {
	deadline := make([]time.Time, len(cs))
	pending := make([]bool, len(cs))
	defer func() {
		for i, c := range cs {
			if pending[i] {
				opts.Progress.End(drainStep(c))
			}
		}
	}()
	for i, c := range cs {
		r := *c.BeforeReal
		r.Weight = 0
		if err := k.UpdateReal(ctx, c.Service, r); err != nil {
			if errors.Is(err, kernel.ErrNotFound) {
				deadline[i] = time.Time{} // already gone
				continue
			}
			return i, err
		}
		deadline[i] = opts.Now().Add(time.Duration(c.DrainSeconds) * time.Second)
		slog.Info("draining real server", "real", c.Address, "timeout_s", c.DrainSeconds)
		pending[i] = true
		opts.Progress.Begin(drainStep(c))
	}
	for {
		left := 0
		for i, c := range cs {
			if !pending[i] {
				continue
			}
			svc, err := k.ReadService(ctx, c.Service)
			idle := errors.Is(err, kernel.ErrNotFound)
			if err == nil {
				r, ok := svc.Reals[c.BeforeReal.Key]
				idle = !ok || r.Counters.ActiveConns+r.Counters.InactiveConns == 0
			} else if !idle {
				return i, err
			}
			if idle || !opts.Now().Before(deadline[i]) {
				if err := ignoreNotFound(k.DeleteReal(ctx, c.Service, c.BeforeReal.Key)); err != nil {
					return i, err
				}
				pending[i] = false
				opts.Progress.End(drainStep(c))
				continue
			}
			left++
		}
		if left == 0 {
			return -1, nil
		}
		if err := opts.Sleep(ctx, opts.DrainPoll); err != nil {
			for i := range cs {
				if pending[i] {
					return i, fmt.Errorf("interrupted while draining: %w", err)
				}
			}
		}
	}
}

// countingKernel counts writes, for the result's kernel_writes.
type countingKernel struct {
	kernel.Kernel
	writes int
}

func (c *countingKernel) CreateService(ctx context.Context, s *state.Service) error {
	c.writes++
	return c.Kernel.CreateService(ctx, s)
}
func (c *countingKernel) UpdateService(ctx context.Context, s *state.Service) error {
	c.writes++
	return c.Kernel.UpdateService(ctx, s)
}
func (c *countingKernel) DeleteService(ctx context.Context, k state.ServiceKey) error {
	c.writes++
	return c.Kernel.DeleteService(ctx, k)
}
func (c *countingKernel) CreateReal(ctx context.Context, k state.ServiceKey, r state.Real) error {
	c.writes++
	return c.Kernel.CreateReal(ctx, k, r)
}
func (c *countingKernel) UpdateReal(ctx context.Context, k state.ServiceKey, r state.Real) error {
	c.writes++
	return c.Kernel.UpdateReal(ctx, k, r)
}
func (c *countingKernel) DeleteReal(ctx context.Context, k state.ServiceKey, r state.RealKey) error {
	c.writes++
	return c.Kernel.DeleteReal(ctx, k, r)
}
func (c *countingKernel) AddAddress(ctx context.Context, a state.Address) error {
	c.writes++
	return c.Kernel.AddAddress(ctx, a)
}
func (c *countingKernel) DeleteAddress(ctx context.Context, a state.Address) error {
	c.writes++
	return c.Kernel.DeleteAddress(ctx, a)
}

// DeleteAddressPromoting counts the delete and passes it on.
func (c *countingKernel) DeleteAddressPromoting(ctx context.Context, a state.Address) error {
	pk, ok := c.Kernel.(kernel.AddressPromoter)
	if !ok {
		return errors.New("this kernel handle cannot set promote_secondaries")
	}
	c.writes++
	return pk.DeleteAddressPromoting(ctx, a)
}
func (c *countingKernel) AddRoute(ctx context.Context, r state.Route) error {
	c.writes++
	return c.Kernel.AddRoute(ctx, r)
}
func (c *countingKernel) ReplaceRoute(ctx context.Context, r state.Route) error {
	c.writes++
	return c.Kernel.ReplaceRoute(ctx, r)
}
func (c *countingKernel) DeleteRoute(ctx context.Context, r state.Route) error {
	c.writes++
	return c.Kernel.DeleteRoute(ctx, r)
}

// Reconcile brings the kernel to a compiled model: one read, one diff, one
// execution. It is the single path used by `lbx apply` and by the watch
// loop on every fact change.
func Reconcile(ctx context.Context, k kernel.Kernel, d *model.Desired, popts plan.Options, opts Options) (*plan.Plan, *Result, error) {
	live, err := k.Read(ctx)
	if err != nil {
		return nil, nil, err
	}
	if opts.OnRead != nil {
		opts.OnRead(live, kernel.ReadsIPVS(k))
	}
	return planAndExecute(ctx, k, d, live, true, popts, opts)
}

// planAndExecute plans live to d and makes the changes: the common tail of
// Reconcile and ReconcileReals (whole: d and live have every service).
func planAndExecute(ctx context.Context, k kernel.Kernel, d *model.Desired, live *state.State, whole bool, popts plan.Options, opts Options) (*plan.Plan, *Result, error) {
	if opts.Owner != nil {
		popts.Owned = opts.Owner.Owned()
	}
	if opts.Drains != nil {
		opts.Drains.hold(d, live, whole)
	}
	p := plan.Diff(d, live, popts)
	if opts.Drains != nil {
		opts.Drains.unblock(p)
	}
	if p.Empty() {
		return p, &Result{Changes: []ChangeResult{}}, nil
	}
	res, err := Execute(ctx, k, p, opts)
	return p, res, err
}

// ReconcileNetwork is Reconcile limited to addresses and routes: it reads
// only those (no IPVS dump) and plans only their changes; d needs to hold
// only them (model.CompileNetwork), and IPVS is not touched. lbx watch
// uses it for a VRRP transition, which changes only addresses and routes: with
// 1,000 services, the whole dump, compile and plan took the transition's
// time to the kernel from milliseconds to most of a second in the test
// VM. IPVS drift is left to the next whole reconcile (the resync).
func ReconcileNetwork(ctx context.Context, k kernel.Kernel, d *model.Desired, popts plan.Options, opts Options) (*plan.Plan, *Result, error) {
	live, err := k.ReadNetwork(ctx)
	if err != nil {
		return nil, nil, err
	}
	if opts.OnRead != nil {
		opts.OnRead(live, false)
	}
	d = &model.Desired{State: &state.State{Services: map[state.ServiceKey]*state.Service{}, Addresses: d.State.Addresses, Routes: d.State.Routes},
		VRRPAddresses: d.VRRPAddresses, VRRPRoutes: d.VRRPRoutes}
	opts.Drains = nil // no real server changes here: drains are left as they are
	return planAndExecute(ctx, k, d, live, false, popts, opts)
}

// ErrNeedWhole says that ReconcileReals found a service missing from the
// model or the kernel and changed nothing: reconcile everything instead.
var ErrNeedWhole = errors.New("a service is missing: reconcile everything")

// ReconcileReals is Reconcile limited to the real servers of the services
// keys: it reads only their destinations (one dump a service, instead of
// the whole table and the addresses) and plans only their changes; d needs
// to hold only those services (model.CompileServices). The watch loop uses
// it after a health transition, which changes real servers (presence,
// weight, sorry server) and nothing else; its periodic resync still
// reconciles everything, so drift elsewhere is repaired there. When a
// service has left the model or the kernel it returns ErrNeedWhole.
func ReconcileReals(ctx context.Context, k kernel.Kernel, d *model.Desired, keys []state.ServiceKey, popts plan.Options, opts Options) (*plan.Plan, *Result, error) {
	live, scoped := state.New(), state.New()
	for _, key := range keys {
		want, ok := d.State.Services[key]
		if !ok {
			return nil, nil, ErrNeedWhole
		}
		got, err := k.ReadService(ctx, key)
		switch {
		case errors.Is(err, kernel.ErrNotFound):
			return nil, nil, ErrNeedWhole
		case err != nil:
			return nil, nil, err
		}
		// The service's own settings do not depend on health: taken as
		// the model has them, so that only real servers differ.
		svc := want.Clone()
		svc.Reals = got.Reals
		live.Services[key], scoped.Services[key] = svc, want
	}
	return planAndExecute(ctx, k, &model.Desired{State: scoped, Drain: d.Drain}, live, false, popts, opts)
}

// Package ops holds the operations behind lbx's commands — load the model,
// read the live state, plan, apply, export — so that cmd/lbx stays cobra
// wiring and every command shares one code path. It sits under
// cmd/lbx/internal so that only the commands import it (the compiler
// keeps it so): the packages below (apply, kernel, watch) never reach up.
package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// Target says which kernel (or recorded state) a command works on.
type Target struct {
	Netns    string
	StateDir string // ownership record directory
	// RunDir holds the one-writer lock and the daemon's status socket
	// (paths.RunDir); tests give their own so the host's is untouched.
	RunDir string
	// Live, if set, is an exported model used as the live state instead
	// of the kernel (plan in CI without IPVS or root).
	Live string
	// Node is --node: a running lbx watch that runs another node's view
	// refuses to be handed the file (DelegateToWatch).
	Node string
	// OpenKernel overrides the kernel (tests).
	OpenKernel func() (kernel.Kernel, error)
	// addressesOnly opens the kernel without IPVS (readLiveFor).
	addressesOnly bool
	// prefetched is the read Prefetch began, nil without one.
	prefetched *prefetchedRead
}

// prefetchedRead is a read of the live state begun before the model was
// loaded (Prefetch).
type prefetchedRead struct {
	done chan struct{}
	live *state.State
	k    kernel.Kernel
	err  error
}

// Prefetch begins the read of the live state that Plan makes, so that it
// overlaps the model's load: the read does not depend on the model, and
// at 2,000 services each took about a third of a no-op plan, one after the
// other. For a command that takes no lock (lbx plan): an apply reads under
// the one-writer lock. If the load fails, the read's sockets close with
// the process.
func (t *Target) Prefetch(ctx context.Context) {
	p := &prefetchedRead{done: make(chan struct{})}
	read := *t
	go func() {
		defer close(p.done)
		p.live, p.k, p.err = read.ReadLive(ctx)
	}()
	t.prefetched = p
}

// firstRead is the read Prefetch began, or ReadLive.
func (t Target) firstRead(ctx context.Context) (*state.State, kernel.Kernel, error) {
	if p := t.prefetched; p != nil {
		<-p.done
		return p.live, p.k, p.err
	}
	return t.ReadLive(ctx)
}

// LoadModel reads and validates a model file. Errors come back as one
// cli error (exit 1) whose text lists every problem.
func LoadModel(path string) (*model.Model, error) {
	m, err := model.LoadFile(path)
	if err != nil {
		return nil, cli.Exit(cli.ExitError1, err)
	}
	return m, nil
}

func (t Target) kernel() (kernel.Kernel, error) {
	if t.OpenKernel != nil {
		return t.OpenKernel()
	}
	return kernel.OpenKernel(kernel.KernelOptions{Netns: t.Netns, AddressesOnly: t.addressesOnly})
}

func (t Target) owner() (*apply.OwnerRecord, error) {
	if t.Live != "" {
		return apply.NewMemoryOwnerRecord(), nil
	}
	dir := t.StateDir
	if dir == "" {
		dir = paths.StateDir
	}
	id, err := paths.NetnsID(t.Netns)
	if err != nil {
		return nil, err
	}
	if t.Netns != "" && id != "" {
		// The record of --netns NAME used to be named after NAME,
		// which `ip netns exec NAME lbx watch` did not find: carried over.
		legacy := filepath.Join(dir, "owned-netns-"+t.Netns+".json")
		if _, err := os.Stat(apply.OwnerRecordPath(dir, id)); os.IsNotExist(err) {
			os.Rename(legacy, apply.OwnerRecordPath(dir, id))
		}
	}
	return apply.OpenOwnerRecord(dir, id)
}

// ReadLive returns the live state: from the kernel, or from an exported
// model when Target.Live is set.
func (t Target) ReadLive(ctx context.Context) (*state.State, kernel.Kernel, error) {
	if t.Live != "" {
		m, err := model.LoadFile(t.Live)
		if err != nil {
			return nil, nil, cli.Exit(cli.ExitError1, fmt.Errorf("--live: %w", err))
		}
		return model.Compile(m, model.Facts{}).State, nil, nil
	}
	k, err := t.kernel()
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	st, err := k.Read(ctx)
	if err != nil {
		k.Close()
		return nil, nil, err
	}
	slog.Debug("read live state", "services", len(st.Services), "addresses", len(st.Addresses), "took", time.Since(start))
	return st, k, nil
}

// Plan compiles the model and diffs it against the live state. The kernel,
// if one was opened, is returned open for a following apply.
func Plan(ctx context.Context, m *model.Model, t Target, prune bool) (*plan.Plan, kernel.Kernel, *apply.OwnerRecord, error) {
	owner, err := t.owner()
	if err != nil {
		return nil, nil, nil, err
	}
	d := model.Compile(m, model.Facts{})
	live, k, note, err := t.readLiveFor(ctx, len(d.State.Services) > 0 || len(d.State.Sysctls) > 0, owner.Owned())
	if err != nil {
		return nil, nil, nil, err
	}
	// Claims on objects that are gone are dropped before planning (in
	// memory: apply writes the record, plan does not).
	owner.ForgetAbsent(live, k == nil || kernel.ReadsIPVS(k), apply.Declared(d))
	p := plan.Diff(d, live, plan.Options{Prune: prune, Owned: owner.Owned()})
	if note != "" {
		p.Notes = append(p.Notes, note)
	}
	return p, k, owner, nil
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	LockTimeout time.Duration
}

// Lock takes the one-writer lock for the target.
func Lock(ctx context.Context, t Target, timeout time.Duration) (*apply.Lock, error) {
	path, err := paths.Lock(t.RunDir, t.Netns)
	if err != nil {
		return nil, err
	}
	l, err := apply.AcquireLock(ctx, path, timeout)
	var held *apply.LockHeldError
	if errors.As(err, &held) {
		return nil, cli.Exit(cli.ExitLocked, err)
	}
	return l, err
}

// Execute runs a plan and maps a part-way failure to its exit code;
// progress (nil: none) hears its steps.
func Execute(ctx context.Context, k kernel.Kernel, p *plan.Plan, owner *apply.OwnerRecord, progress apply.Progress) (*apply.Result, error) {
	res, err := apply.Execute(ctx, k, p, apply.Options{Owner: owner, Progress: progress})
	var partial *apply.PartialError
	if errors.As(err, &partial) {
		return res, cli.Exit(cli.ExitPartial, err)
	}
	return res, err
}

// StaleError is returned when a saved plan no longer matches the kernel.
type StaleError struct{ File string }

func (e *StaleError) Error() string {
	return fmt.Sprintf("saved plan %s is stale: the live state changed since it was made; run `lbx plan --out` again", e.File)
}

// ApplySaved applies a saved plan after checking its fingerprint against
// the live state, under the lock.
func ApplySaved(ctx context.Context, path string, t Target, lockTimeout time.Duration, progress apply.Progress) (*apply.Result, error) {
	f, err := plan.Load(path)
	if err != nil {
		return nil, cli.Exit(cli.ExitError1, err)
	}
	if t.Netns == "" {
		t.Netns = f.Netns
	}
	lock, err := Lock(ctx, t, lockTimeout)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	owner, err := t.owner()
	if err != nil {
		return nil, err
	}
	live, k, _, err := t.readLiveFor(ctx, planNeedsIPVS(f.Plan), owner.Owned())
	if err != nil {
		return nil, err
	}
	defer k.Close()
	owner.ForgetAbsent(live, kernel.ReadsIPVS(k), plan.Owned{}) // the plan's creates are claimed again
	if plan.Fingerprint(live, f.Plan.Scope) != f.Plan.Fingerprint {
		return nil, cli.Exit(cli.ExitStale, &StaleError{File: path})
	}
	return Execute(ctx, k, f.Plan, owner, progress)
}

// ExportAddresses picks the addresses an export shows: global-scope
// addresses (link-local and host addresses are the kernel's own).
func ExportAddresses(st *state.State) []state.Address {
	var out []state.Address
	for _, k := range st.AddressKeys() {
		a := st.Addresses[k]
		if a.Scope != "global" || k.Addr.IsLinkLocalUnicast() || k.Addr.IsLoopback() {
			continue
		}
		out = append(out, a)
	}
	return out
}

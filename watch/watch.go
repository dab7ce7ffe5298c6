// Package watch is lbx's resident loop (`lbx watch`): it runs the VRRP
// virtual routers of a model and re-applies the model, through the one
// plan/apply path, on every fact change. Today the facts are VRRP states;
// health facts from the checkers come in at the Facts seam below.
package watch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
	"github.com/lbx-dev/lbx/vrrpd"
)

// Options configure the loop.
type Options struct {
	Model    *model.Model
	StateDir string // ownership record directory
	// StatsFile receives VRRP counters as JSON (drops by reason, adverts).
	StatsFile string
	Log       *slog.Logger
	// OpenKernel overrides the kernel (tests).
	OpenKernel func() (apply.Kernel, error)
}

// facts is the loop's knowledge of the world, compiled with the model on
// every change. Health facts (the checkers' engine) are added here.
type facts struct {
	mu   sync.Mutex
	vrrp map[string]string
	// health map[model.RealID]model.Health — seam for the health checker.
}

func (f *facts) snapshot() model.Facts {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := make(map[string]string, len(f.vrrp))
	for k, s := range f.vrrp {
		v[k] = s
	}
	return model.Facts{VRRP: v}
}

// reconciler is vrrpd's Reconciler: desired state = model + facts, brought
// to the kernel by apply.Reconcile.
type reconciler struct {
	m     *model.Model
	k     apply.Kernel
	owned plan.Owned
	facts *facts
	log   *slog.Logger
}

func (r *reconciler) Reconcile(ctx context.Context, states map[string]string) error {
	r.facts.mu.Lock()
	r.facts.vrrp = states
	r.facts.mu.Unlock()
	start := time.Now()
	d := model.Compile(r.m, r.facts.snapshot())
	// No Owner record on this path: it fsyncs on every claim, which would
	// sit between a VRRP transition and its address. Ownership is given
	// explicitly instead (see vrrpOwned).
	p, res, err := apply.Reconcile(ctx, r.k, d, plan.Options{Owned: r.owned}, apply.Options{})
	if err != nil {
		return err
	}
	if p != nil && !p.Empty() {
		r.log.Info("applied", "changes", len(p.Changes), "result", summary(res), "took", time.Since(start))
	}
	return nil
}

func summary(res *apply.Result) string {
	if res == nil {
		return ""
	}
	s := ""
	for _, c := range res.Changes {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%v %s", c.Outcome, c.Address)
	}
	return s
}

// Run runs until ctx is cancelled (SIGTERM/SIGINT in `lbx watch`), then
// stops cleanly: priority 0 adverts, addresses released.
func Run(ctx context.Context, o Options) error {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	cfg, err := vrrpd.FromModel(o.Model)
	if err != nil {
		return err
	}
	open := o.OpenKernel
	if open == nil {
		open = func() (apply.Kernel, error) { return openKernel(o.Model) }
	}
	k, err := open()
	if err != nil {
		return err
	}
	defer k.Close()
	dir := o.StateDir
	if dir == "" {
		dir = "/var/lib/lbx"
	}
	owner, err := apply.OpenOwnerRecord(dir, "")
	if err != nil {
		return err
	}
	r := &reconciler{m: o.Model, k: k, owned: vrrpOwned(o.Model, owner.Owned()), facts: &facts{}, log: log}
	d, err := vrrpd.New(cfg, vrrpd.Options{Reconciler: r, Log: log, StatsFile: o.StatsFile})
	if err != nil {
		return err
	}
	log.Info("lbx watch started", "instances", len(cfg.Instances), "model", o.Model.File)
	err = d.Run(ctx)
	log.Info("lbx watch stopped")
	return err
}

// vrrpOwned is what the loop may delete: what the ownership record holds
// plus every VRRP address of the model — those are ours by declaration, so
// a stale one found while not master (a crash, a kill -9) is removed.
func vrrpOwned(m *model.Model, rec plan.Owned) plan.Owned {
	o := plan.Owned{Services: rec.Services, Addresses: map[state.AddressKey]bool{}}
	for k := range rec.Addresses {
		o.Addresses[k] = true
	}
	for _, a := range model.Compile(m, model.Facts{}).VRRPAddresses {
		o.Addresses[a.Key] = true
	}
	return o
}

// openKernel opens the real kernel. A model with no virtual servers needs
// addresses only, so VRRP also runs on hosts without IPVS.
func openKernel(m *model.Model) (apply.Kernel, error) {
	return apply.OpenKernel(apply.KernelOptions{AddressesOnly: len(m.VirtualServers) == 0})
}

package vrrpd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/vrrpd/fsm"
)

// reload applies a new configuration as a diff; see Reload. Phases: stop
// what goes (one reconcile releases its addresses), then change and add,
// then one reconcile for what the new masters own.
func (d *Daemon) reload(ctx context.Context, cfg *Config) error {
	plan := PlanReload(d.cfg, cfg)
	now := d.clk.Now()
	newCfg := map[string]*Instance{}
	for _, c := range cfg.Instances {
		newCfg[c.FSM.Name] = c
	}
	for _, ch := range plan.Instances {
		if ch.Action != Keep {
			d.log.Info("vrrp reload", "instance", ch.Name, "action", ch.Action, "changes", strings.Join(ch.Why, "; "))
		}
	}
	// 1. Removed and replaced instances stop as at shutdown.
	d.stopGone(ctx, now, plan, newCfg)
	// 2. Scripts' assumed states, and link tracking.
	for name, a := range plan.Scripts {
		switch a {
		case Remove:
			d.stopWatcher(watcher{script: name})
			delete(d.known, scriptKey(name))
		case Add, Replace:
			d.known[scriptKey(name)] = cfg.Scripts[name].assumedUp()
		}
	}
	d.cfg = cfg
	d.scriptUser.Store(cfg.ScriptUser)
	d.promote.set(cfg.Instances, d.log) // before the new instances add addresses
	if plan.LinksChanged {
		d.startLinks()
	}
	// 3. Build the new instances (not started), then the groups over the
	// running and new machines.
	added, err := d.buildAdded(now, plan, newCfg)
	// 4. In-place changes; changed scripts start afresh and their new
	// state reaches every instance tracking them.
	for _, ch := range plan.Instances {
		if ch.Action == Update {
			d.update(ctx, now, d.byName[ch.Name], newCfg[ch.Name])
		}
	}
	for name, a := range plan.Scripts {
		if a == Add || a == Replace {
			d.startScript(cfg.Scripts[name])
			key := scriptKey(name)
			for _, in := range d.insts {
				d.apply(ctx, in, in.m.SetTrack(now, key, d.known[key]))
			}
		}
	}
	// 5. New instances start as at boot.
	for _, in := range added {
		d.apply(ctx, in, in.m.Start(now))
	}
	// 6. Sync groups that changed, or that have a member just built, are
	// brought into step.
	d.resyncGroups(ctx, now, groupsToResync(plan, d.cfg))
	d.dirty = d.dirty || plan.Changed()
	d.settle(ctx)
	return err
}

// groupsToResync is the sync groups a reload brings into step: those it
// added or changed, and those with a member it added or replaced. A new
// member starts as at boot, which moves none of the others: a replaced
// member that was FAULT held them in FAULT, and its replacement alone
// would not lift that; one built only by a later reload (its link would
// not open before) would not follow a master of its group.
func groupsToResync(plan ReloadPlan, cfg *Config) []string {
	names := slices.Clone(plan.Groups)
	for _, ch := range plan.Instances {
		if ch.Action != Add && ch.Action != Replace {
			continue
		}
		for _, g := range cfg.Groups {
			if slices.Contains(g.Members, ch.Name) && !slices.Contains(names, g.Name) {
				names = append(names, g.Name)
			}
		}
	}
	return names
}

// stopGone stops the removed and replaced instances as at shutdown
// (priority 0, notify_stop), releases their addresses in one reconcile and
// closes what they alone used.
func (d *Daemon) stopGone(ctx context.Context, now time.Time, plan ReloadPlan, newCfg map[string]*Instance) {
	var gone []*inst
	for _, ch := range plan.Instances {
		if ch.Action == Remove || ch.Action == Replace {
			in := d.byName[ch.Name]
			d.apply(ctx, in, in.m.Shutdown(now))
			gone = append(gone, in)
		}
	}
	if len(gone) == 0 {
		return
	}
	d.dirty = true
	d.settle(ctx)
	for _, in := range gone {
		d.dropInst(in)
		if c := newCfg[in.cfg.FSM.Name]; c == nil || keyOf(c) != in.key {
			d.Counters.forget(in.key)
		}
	}
}

// buildAdded builds the added and replaced instances of d.cfg (not
// started), puts d.insts in the configuration's order and rebuilds the
// groups. The error names the instances that could not be built, which
// d.cfg then leaves out.
func (d *Daemon) buildAdded(now time.Time, plan ReloadPlan, newCfg map[string]*Instance) ([]*inst, error) {
	var errs []error
	var added []*inst
	for _, ch := range plan.Instances {
		if ch.Action == Add || ch.Action == Replace {
			in, err := d.newInst(newCfg[ch.Name], now)
			if err != nil {
				d.log.Error("vrrp reload: instance not started", "instance", ch.Name, "err", err)
				errs = append(errs, err)
				continue
			}
			added = append(added, in)
		}
	}
	var insts []*inst
	var built []*Instance
	for _, c := range d.cfg.Instances {
		if in := d.byName[c.FSM.Name]; in != nil {
			insts, built = append(insts, in), append(built, c)
		}
	}
	if len(errs) > 0 {
		// What could not be built is left out of the configuration the
		// daemon holds: a later reload then has nothing running to stop
		// or change under its name, and one that still has it builds it
		// again (its link may open by then).
		run := *d.cfg
		run.Instances = built
		d.cfg = &run
	}
	d.insts = insts
	d.rebuildGroups()
	return added, errors.Join(errs...)
}

// update gives a running instance its new settings without a re-election.
func (d *Daemon) update(ctx context.Context, now time.Time, in *inst, c *Instance) {
	old := in.cfg
	in.cfg = c
	src, err := d.sourceOf(c, in.link)
	if tracksSource(c) && !d.sourceUnread(c.Interface, err) {
		d.known[sourceKey(c.Interface, c.V6)] = err == nil // Reconfigure reads it
	}
	if err != nil {
		d.log.Warn("vrrp reload: keeping the old source address", "instance", c.FSM.Name, "err", err)
		src = in.src
	}
	restartGARP := old.GarpDelay != c.GarpDelay || old.GarpRepeat != c.GarpRepeat ||
		old.GarpRefresh != c.GarpRefresh || old.GarpRefreshRepeat != c.GarpRefreshRepeat
	if src != in.src {
		if err := d.setSource(in, src); err == nil {
			restartGARP = true
		} else {
			d.log.Warn("vrrp reload: keeping the old source address", "instance", c.FSM.Name, "err", err)
		}
	}
	fc := c.FSM
	fc.Primary = in.src
	d.apply(ctx, in, in.m.Reconfigure(now, fc, d.known))
	if in.m.State() != fsm.Master {
		return
	}
	addrsChanged := !slices.Equal(old.Addrs, c.Addrs) || !slices.Equal(old.Excluded, c.Excluded)
	switch {
	case addrsChanged:
		// New addresses are announced once they are on the interface.
		d.dirty, in.pending = true, true
	case restartGARP:
		// Only the periodic refresh: the master's addresses were
		// announced when it became master.
		d.startGARP(in, now, false)
	}
}

// resyncGroups brings the members of the named (new or changed) groups
// into step, as if the group had just formed: a forced FAULT holds only
// while a member has a fault of its own; otherwise the members follow a
// member that is MASTER, so that the addresses stay where traffic goes.
// Instances in no group lose a fault a group had forced on them.
func (d *Daemon) resyncGroups(ctx context.Context, now time.Time, names []string) {
	for _, in := range d.insts {
		if d.groupOf[in.m] == nil {
			d.apply(ctx, in, in.m.ForceFault(now, ""))
		}
	}
	for _, g := range d.groups {
		if !slices.Contains(names, g.Name) {
			continue
		}
		var faulty *fsm.Machine
		for _, m := range g.Members {
			if m.OwnFault() {
				faulty = m
				break
			}
		}
		for _, m := range g.Members {
			reason := ""
			if faulty != nil && m != faulty && !m.OwnFault() {
				reason = fmt.Sprintf("sync group %s: %s is FAULT", g.Name, faulty.Config().Name)
			}
			if faulty == nil || reason != "" {
				d.apply(ctx, d.byName[m.Config().Name], m.ForceFault(now, reason))
			}
		}
		if faulty != nil {
			continue
		}
		for _, m := range g.Members {
			if m.State() == fsm.Master {
				for fm, fe := range g.Follow(now, m, fsm.Transition{From: fsm.Backup, To: fsm.Master}) {
					d.apply(ctx, d.byName[fm.Config().Name], fe)
				}
				break
			}
		}
	}
}

package vrrpd

import (
	"fmt"
	"reflect"
	"slices"
	"sort"

	"github.com/lbx-dev/lbx/vrrpd/fsm"
)

// Action is what a reload does to one instance or script.
type Action string

const (
	// Keep: nothing changed; the running instance is not touched (state,
	// timers, sockets, GARP schedule all stay).
	Keep Action = "keep"
	// Update: settings changed that the running instance can take in
	// place (fsm.Machine.Reconfigure); no re-election.
	Update Action = "update"
	// Replace: the identity changed (VRID, interface, family, version):
	// the old instance stops as at shutdown (priority 0, addresses
	// released), then the new one starts as at boot.
	Replace Action = "replace"
	Add     Action = "add"
	Remove  Action = "remove"
)

// InstanceChange is the decision for one instance name.
type InstanceChange struct {
	Name   string
	Action Action
	// Why lists what differs, for the log (e.g. "priority 150 -> 50").
	Why []string
}

// ReloadPlan is what a reload does, computed from the running and the new
// configuration only (no state, no I/O).
type ReloadPlan struct {
	Instances []InstanceChange // sorted by name
	// Scripts: Add, Remove, Replace (restarted with a fresh state, as at
	// boot) or Keep (the runner and its rise/fall state go on).
	Scripts map[string]Action
	// Groups lists sync groups added or changed (members or notify): their
	// members are brought back into step after the reload.
	Groups []string
	// LinksChanged: the set of tracked interfaces differs (the link
	// watcher is restarted; it reports every link's state again).
	LinksChanged bool
}

// Changed reports whether the plan does anything.
func (p ReloadPlan) Changed() bool {
	for _, c := range p.Instances {
		if c.Action != Keep {
			return true
		}
	}
	for _, a := range p.Scripts {
		if a != Keep {
			return true
		}
	}
	return len(p.Groups) > 0 || p.LinksChanged
}

// Decide says what a reload does with an instance present in both the
// running (old) and the new configuration. The identity of a virtual
// router on the wire is its interface, address family, VRID and protocol
// version: a change of any of them is another router, so the old one must
// resign (priority 0) and the new one be elected from scratch. Everything
// else is a setting of the running router.
func Decide(old, new *Instance) (Action, []string) {
	var why []string
	diff := func(name string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			why = append(why, fmt.Sprintf("%s %v -> %v", name, a, b))
		}
	}
	diff("interface", old.Interface, new.Interface)
	diff("virtual_router_id", old.FSM.VRID, new.FSM.VRID)
	diff("ipv6", old.V6, new.V6)
	diff("version", old.FSM.Version, new.FSM.Version)
	if len(why) > 0 {
		return Replace, why
	}
	diff("priority", old.FSM.Priority, new.FSM.Priority)
	diff("advert_int", old.FSM.AdvertInt, new.FSM.AdvertInt)
	diff("preempt", old.FSM.Preempt, new.FSM.Preempt)
	diff("preempt_delay", old.FSM.PreemptDelay, new.FSM.PreemptDelay)
	diff("initial state MASTER", old.FSM.InitialMaster, new.FSM.InitialMaster)
	diff("tracks", tracksString(old.FSM.Tracks), tracksString(new.FSM.Tracks))
	diff("virtual_addresses", old.Addrs, new.Addrs)
	diff("virtual_addresses_excluded", old.Excluded, new.Excluded)
	diff("unicast_src_ip", old.UnicastSrc, new.UnicastSrc)
	diff("unicast_peers", old.UnicastPeers, new.UnicastPeers)
	diff("mcast_src_ip", old.McastSrc, new.McastSrc)
	if old.AuthPass != new.AuthPass {
		why = append(why, "authentication changed") // never log the password
	}
	diff("notify", old.Notify, new.Notify)
	diff("sync group", old.Group, new.Group)
	diff("garp_master_delay", old.GarpDelay, new.GarpDelay)
	diff("garp_master_repeat", old.GarpRepeat, new.GarpRepeat)
	diff("garp_master_refresh", old.GarpRefresh, new.GarpRefresh)
	diff("garp_master_refresh_repeat", old.GarpRefreshRepeat, new.GarpRefreshRepeat)
	diff("promote_secondaries", old.PromoteSecondaries, new.PromoteSecondaries)
	// Anything this list misses still counts as a change, never as Keep.
	if len(why) == 0 && !reflect.DeepEqual(old, new) {
		why = append(why, "settings changed")
	}
	if len(why) == 0 {
		return Keep, nil
	}
	return Update, why
}

func tracksString(ts []fsm.Track) string {
	s := make([]string, 0, len(ts))
	for _, t := range ts {
		s = append(s, fmt.Sprintf("%s:%d", t.Key, t.Weight))
	}
	return fmt.Sprint(s)
}

// PlanReload decides, for every instance, script and sync group, what a
// reload from old to new does.
func PlanReload(old, new *Config) ReloadPlan {
	p := ReloadPlan{Scripts: map[string]Action{}}
	olds := map[string]*Instance{}
	for _, in := range old.Instances {
		olds[in.FSM.Name] = in
	}
	seen := map[string]bool{}
	for _, in := range new.Instances {
		name := in.FSM.Name
		seen[name] = true
		o := olds[name]
		if o == nil {
			p.Instances = append(p.Instances, InstanceChange{Name: name, Action: Add})
			continue
		}
		a, why := Decide(o, in)
		p.Instances = append(p.Instances, InstanceChange{Name: name, Action: a, Why: why})
	}
	for name := range olds {
		if !seen[name] {
			p.Instances = append(p.Instances, InstanceChange{Name: name, Action: Remove})
		}
	}
	sort.Slice(p.Instances, func(i, j int) bool { return p.Instances[i].Name < p.Instances[j].Name })
	for name, s := range new.Scripts {
		switch o := old.Scripts[name]; {
		case o == nil:
			p.Scripts[name] = Add
		case reflect.DeepEqual(o, s):
			p.Scripts[name] = Keep
		default:
			p.Scripts[name] = Replace
		}
	}
	for name := range old.Scripts {
		if new.Scripts[name] == nil {
			p.Scripts[name] = Remove
		}
	}
	oldGroups := map[string]string{}
	for _, g := range old.Groups {
		oldGroups[g.Name] = fmt.Sprintf("%+v", *g)
	}
	for _, g := range new.Groups {
		if oldGroups[g.Name] != fmt.Sprintf("%+v", *g) {
			p.Groups = append(p.Groups, g.Name)
		}
	}
	sort.Strings(p.Groups)
	a, b := slices.Clone(old.Links), slices.Clone(new.Links)
	slices.Sort(a)
	slices.Sort(b)
	p.LinksChanged = !slices.Equal(a, b)
	return p
}

package vrrponly

import (
	"cmp"
	"slices"

	"github.com/lbx-dev/lbx/state"
)

// The address rules of lbx watch, for VRRP's addresses alone: a model's
// VRRP addresses are lbx's by declaration (claimed when the model comes
// into force), a MASTER instance's are on their links, every other one
// it may delete is not; an address lbx recorded as its own that the model
// no longer declares is deleted and forgotten. Pure: the caller reads the
// kernel and carries the plan out.

// declared is every address the spec's instances hold while MASTER.
func (s *Spec) declared() map[state.AddressKey]bool {
	out := map[state.AddressKey]bool{}
	for _, as := range s.Addresses {
		for _, a := range as {
			out[a.Key] = true
		}
	}
	return out
}

// desired fills out (emptied first, made if nil: a reconcile reuses its
// map) with the addresses of the instances MASTER in states. Two
// instances declaring one address: the later in the configuration's order
// gives its settings, as the compile's map does.
func (s *Spec) desired(states map[string]string, out map[state.AddressKey]state.Address) map[state.AddressKey]state.Address {
	if out == nil {
		out = make(map[state.AddressKey]state.Address, len(s.Config.Instances))
	}
	clear(out)
	for _, in := range s.Config.Instances {
		if states[in.FSM.Name] != "MASTER" {
			continue
		}
		for _, a := range s.Addresses[in.FSM.Name] {
			out[a.Key] = a
		}
	}
	return out
}

// deletion is an address to delete; keeps says its subnet's secondaries
// must stay (a delete with promote_secondaries set).
type deletion struct {
	addr  state.Address
	keeps bool
}

// addrPlan is what brings the links to the desired addresses, deletes
// first (a replaced address is deleted, then added).
type addrPlan struct {
	dels []deletion
	adds []state.Address
}

func (p addrPlan) empty() bool { return len(p.dels)+len(p.adds) == 0 }

// planAddresses compares live with desired. may says which addresses lbx
// may delete (owned or declared); an address desired and live with other
// settings (prefix length, label, scope) is replaced.
func planAddresses(desired map[state.AddressKey]state.Address, may func(state.AddressKey) bool, live map[state.AddressKey]state.Address) addrPlan {
	var p addrPlan
	going := map[state.AddressKey]bool{}
	for k, want := range desired {
		got, ok := live[k]
		switch {
		case !ok:
			p.adds = append(p.adds, want)
		case !sameSettings(got, want):
			p.adds = append(p.adds, want)
			going[k] = true
		}
	}
	for k := range live {
		if _, ok := desired[k]; !ok && may(k) {
			going[k] = true
		}
	}
	idx := state.IndexSecondaries(live)
	for k := range going {
		del := live[k]
		p.dels = append(p.dels, deletion{addr: del, keeps: len(idx.TakenDown(del, func(k state.AddressKey) bool { return going[k] })) > 0})
	}
	slices.SortFunc(p.adds, func(a, b state.Address) int { return compareKeys(a.Key, b.Key) })
	slices.SortFunc(p.dels, func(a, b deletion) int { return compareKeys(a.addr.Key, b.addr.Key) })
	return p
}

// sameSettings says whether a live address is as wanted. The kernel
// reports the default scope as "global" and the default label as none.
func sameSettings(got, want state.Address) bool {
	scope := func(s string) string { return cmp.Or(s, "global") }
	return got.Bits == want.Bits && got.Label == want.Label && scope(got.Scope) == scope(want.Scope)
}

func compareKeys(a, b state.AddressKey) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

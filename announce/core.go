// Package announce decides which prefixes (VIPs) a director announces to
// its routers, and when. It is a pure state machine in the style of
// etcd's raft: the caller gives it the facts (is the VIP on its interface,
// are the services in IPVS, how many real servers are healthy, what state
// each VRRP instance is in) and the time; it answers with the prefixes to
// announce, what changed and why, and when to ask again (a hold-down
// ending). It does no I/O, starts no goroutine and reads no clock, so its
// tests run on a fake clock.
package announce

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/lbx-dev/lbx/model"
)

// Spec is one announcement as the core needs it (from the model's
// bgp.announcements).
type Spec struct {
	Prefix    netip.Prefix
	Interface string
	// Services name the virtual servers whose healthy real servers count;
	// MinHealthy of them are needed (0: no health condition).
	Services   []string
	MinHealthy int
	// VRRPInstance, if set, must be MASTER.
	VRRPInstance string
	// WithdrawAfter and AnnounceAfter are the hold-downs.
	WithdrawAfter, AnnounceAfter time.Duration
	// Communities and MED are path attributes, for the announcer.
	Communities []uint32
	MED         *uint32
}

// SpecsOf turns a valid model's announcements into Specs.
func SpecsOf(m *model.Model) []Spec {
	if m.BGP == nil {
		return nil
	}
	var out []Spec
	for _, a := range m.BGP.Announcements {
		if a == nil {
			continue
		}
		s := Spec{Prefix: a.Prefix.Prefix.Masked(), Interface: a.IfaceOf(), MED: a.MED}
		if c := a.When; c != nil {
			s.Services, s.MinHealthy, s.VRRPInstance = c.VirtualServers, c.MinHealthyOf(), c.VRRPInstance
		}
		if a.WithdrawAfter != nil {
			s.WithdrawAfter = a.WithdrawAfter.Duration
		}
		if a.AnnounceAfter != nil {
			s.AnnounceAfter = a.AnnounceAfter.Duration
		}
		for _, c := range a.Communities {
			if v, err := model.ParseCommunity(c); err == nil {
				s.Communities = append(s.Communities, v)
			}
		}
		out = append(out, s)
	}
	return out
}

// Facts are what the core decides on, taken together at one moment.
type Facts struct {
	Now time.Time
	// OnInterface says which prefixes' addresses are on their interface.
	OnInterface map[netip.Prefix]bool
	// InIPVS says which virtual servers (by name) are in the kernel.
	InIPVS map[string]bool
	// Healthy is the number of healthy real servers per virtual server.
	Healthy map[string]int
	// VRRP is each instance's state.
	VRRP map[string]string
	// Stopping withdraws everything at once (the daemon is stopping).
	Stopping bool
}

// Withdrawal reasons (also the label of the withdrawals metric).
const (
	ReasonNotReady  = "not_ready" // the VIP is not on its interface or a service is not in IPVS: at once
	ReasonUnhealthy = "unhealthy" // fewer healthy real servers than needed: after the hold-down
	ReasonVRRP      = "vrrp"      // the VRRP instance is not MASTER: after the hold-down
	ReasonRemoved   = "removed"   // a reload removed the announcement: at once
	ReasonStopping  = "stopping"  // lbx watch stops: at once
)

// Status is one prefix's state, for `lbx status`.
type Status struct {
	Prefix    netip.Prefix
	Announced bool
	// Reason says why the prefix is (not) announced, in words.
	Reason string
	// Since is when Announced last changed (zero: never announced).
	Since time.Time
	// PendingUntil, if set, is when a hold-down ends and the prefix
	// changes unless the facts do first.
	PendingUntil time.Time
}

// Change is an announce or a withdraw decided by one Step.
type Change struct {
	Prefix   netip.Prefix
	Announce bool
	// Why is a Reason* constant for a withdraw, "condition met" for an
	// announce.
	Why    string
	Detail string
}

// Result is one Step's answer.
type Result struct {
	// Announced are the specs to announce now, in the order of the model.
	Announced []Spec
	Changes   []Change
	Status    []Status
	// Next is when to Step again though no fact changed (zero: no
	// hold-down running).
	Next time.Time
}

type prefixState struct {
	announced bool
	since     time.Time
	// pending is when the condition first differed from announced (zero:
	// it does not); everWithdrawn makes the announce hold-down a
	// re-announce's only: the first announcement waits for nothing.
	pending       time.Time
	everWithdrawn bool
}

// Core is the decision state across Steps. Not safe for concurrent use.
type Core struct {
	specs []Spec
	st    map[netip.Prefix]*prefixState
	// removed are prefixes a SetSpecs dropped while announced, to
	// withdraw (reason removed) at the next Step.
	removed []netip.Prefix
}

// New starts with nothing announced.
func New(specs []Spec) *Core {
	c := &Core{st: map[netip.Prefix]*prefixState{}}
	c.SetSpecs(specs)
	return c
}

// SetSpecs replaces the announcements (a reload). A prefix kept keeps its
// state and hold-downs; one dropped is withdrawn at the next Step.
func (c *Core) SetSpecs(specs []Spec) {
	keep := map[netip.Prefix]bool{}
	for _, s := range specs {
		keep[s.Prefix] = true
		if c.st[s.Prefix] == nil {
			c.st[s.Prefix] = &prefixState{}
		}
	}
	for p, st := range c.st {
		if !keep[p] {
			if st.announced {
				c.removed = append(c.removed, p)
			}
			delete(c.st, p)
		}
	}
	c.specs = slices.Clone(specs)
}

// Step decides at f.Now.
func (c *Core) Step(f Facts) Result {
	var r Result
	for _, p := range c.removed {
		r.Changes = append(r.Changes, Change{Prefix: p, Why: ReasonRemoved, Detail: "no longer in the model"})
	}
	c.removed = nil
	for _, s := range c.specs {
		st := c.st[s.Prefix]
		ok, why, detail := evaluate(s, f)
		if ch, changed := st.advance(s, f.Now, ok, why, detail); changed {
			r.Changes = append(r.Changes, ch)
		}
		if st.announced {
			r.Announced = append(r.Announced, s)
		}
		status := Status{Prefix: s.Prefix, Announced: st.announced, Since: st.since, Reason: detail}
		if !st.pending.IsZero() {
			status.PendingUntil = st.pending.Add(st.hold(s))
			status.Reason = fmt.Sprintf("%s; %s at %s unless it changes", detail, map[bool]string{true: "withdraw", false: "announce"}[st.announced],
				status.PendingUntil.Format(time.RFC3339Nano))
			if r.Next.IsZero() || status.PendingUntil.Before(r.Next) {
				r.Next = status.PendingUntil
			}
		}
		r.Status = append(r.Status, status)
	}
	return r
}

// evaluate says whether s may be announced under f and why (not). why is
// a withdrawal reason; detail words it for people.
func evaluate(s Spec, f Facts) (ok bool, why, detail string) {
	if f.Stopping {
		return false, ReasonStopping, "lbx watch is stopping"
	}
	if !f.OnInterface[s.Prefix] {
		return false, ReasonNotReady, fmt.Sprintf("%s is not on %s", s.Prefix.Addr(), s.Interface)
	}
	healthy := 0
	for _, name := range s.Services {
		if !f.InIPVS[name] {
			return false, ReasonNotReady, fmt.Sprintf("virtual server %q is not in IPVS", name)
		}
		healthy += f.Healthy[name]
	}
	if healthy < s.MinHealthy {
		return false, ReasonUnhealthy, fmt.Sprintf("%d healthy real server(s), %d needed", healthy, s.MinHealthy)
	}
	if s.VRRPInstance != "" && f.VRRP[s.VRRPInstance] != "MASTER" {
		state := f.VRRP[s.VRRPInstance]
		if state == "" {
			state = "not running"
		}
		return false, ReasonVRRP, fmt.Sprintf("VRRP instance %s is %s, not MASTER", s.VRRPInstance, state)
	}
	if len(s.Services) > 0 {
		return true, "", fmt.Sprintf("%d healthy real server(s), %d needed", healthy, s.MinHealthy)
	}
	return true, "", fmt.Sprintf("%s is on %s", s.Prefix.Addr(), s.Interface)
}

// hold is the hold-down of the change pending.
func (st *prefixState) hold(s Spec) time.Duration {
	if st.announced {
		return s.WithdrawAfter
	}
	if st.everWithdrawn {
		return s.AnnounceAfter
	}
	return 0
}

// advance moves one prefix's state: a change of the condition starts the
// hold-down, its end (still changed) flips the prefix; reasons that must
// not wait (not ready, stopping) flip it at once.
func (st *prefixState) advance(s Spec, now time.Time, ok bool, why, detail string) (Change, bool) {
	if ok == st.announced {
		st.pending = time.Time{}
		return Change{}, false
	}
	if st.pending.IsZero() {
		st.pending = now
	}
	urgent := why == ReasonNotReady || why == ReasonStopping
	if !urgent && now.Sub(st.pending) < st.hold(s) {
		return Change{}, false
	}
	st.announced, st.since, st.pending = ok, now, time.Time{}
	if !ok {
		st.everWithdrawn = true
		return Change{Prefix: s.Prefix, Why: why, Detail: detail}, true
	}
	return Change{Prefix: s.Prefix, Announce: true, Why: "condition met", Detail: detail}, true
}

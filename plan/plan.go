// Package plan diffs a desired state against the live state and returns an
// ordered list of changes, Terraform-style. It is pure: no kernel access, no
// clock; the same inputs always give the same plan.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/ownership"
	"github.com/lbx-dev/lbx/state"
)

// Action is what a change does to one object.
type Action string

const (
	Create  Action = "create"
	Update  Action = "update"  // in place
	Delete  Action = "delete"  // drained first when DrainSeconds > 0
	Replace Action = "replace" // delete then create: the kernel cannot edit it in place
)

// Kind is the type of object a change touches.
type Kind string

const (
	KindService Kind = "service"
	KindReal    Kind = "real"
	KindAddress Kind = "address"
	KindRoute   Kind = "route"
)

// Change is one planned change. Exactly one Before/After pair is used,
// according to Kind.
type Change struct {
	Address string `json:"address"`
	Kind    Kind   `json:"kind"`
	Action  Action `json:"action"`
	// Fields lists the settings an update changes.
	Fields []string `json:"fields,omitempty"`
	// Reason explains a replace, a drain or why an object is in the plan.
	Reason string `json:"reason,omitempty"`
	// DrainSeconds: for a real server delete, set weight 0 first and delete
	// once idle or after this many seconds.
	DrainSeconds int `json:"drain_seconds,omitempty"`
	// Keeps: an address delete (or replace) of an IPv4 subnet's primary
	// address, and the secondaries of that subnet that must stay; the
	// kernel would delete them with it (promote.go).
	Keeps []state.AddressKey `json:"keeps,omitempty"`

	Service       state.ServiceKey `json:"service"`
	BeforeService *state.Service   `json:"before_service,omitempty"`
	AfterService  *state.Service   `json:"after_service,omitempty"`
	BeforeReal    *state.Real      `json:"before_real,omitempty"`
	AfterReal     *state.Real      `json:"after_real,omitempty"`
	BeforeAddr    *state.Address   `json:"before_addr,omitempty"`
	AfterAddr     *state.Address   `json:"after_addr,omitempty"`
	BeforeRoute   *state.Route     `json:"before_route,omitempty"`
	AfterRoute    *state.Route     `json:"after_route,omitempty"`
	BeforeSysctl  *state.Sysctl    `json:"before_sysctl,omitempty"`
	AfterSysctl   *state.Sysctl    `json:"after_sysctl,omitempty"`
}

// Before returns the object before the change (nil for a create).
func (c *Change) Before() any {
	switch {
	case c.BeforeService != nil:
		return c.BeforeService
	case c.BeforeReal != nil:
		return c.BeforeReal
	case c.BeforeAddr != nil:
		return c.BeforeAddr
	case c.BeforeRoute != nil:
		return c.BeforeRoute
	case c.BeforeSysctl != nil:
		return c.BeforeSysctl
	}
	return nil
}

// After returns the object after the change (nil for a delete).
func (c *Change) After() any {
	switch {
	case c.AfterService != nil:
		return c.AfterService
	case c.AfterReal != nil:
		return c.AfterReal
	case c.AfterAddr != nil:
		return c.AfterAddr
	case c.AfterRoute != nil:
		return c.AfterRoute
	case c.AfterSysctl != nil:
		return c.AfterSysctl
	}
	return nil
}

// Scope is the set of live objects a plan is about: what the model
// declares, what lbx created before (routes: those the kernel marks as
// lbx's), and with prune every service. The
// fingerprint covers exactly this set, so a saved plan can be checked
// against the same objects later.
type Scope struct {
	Prune     bool               `json:"prune"`
	Services  []state.ServiceKey `json:"services"`
	Addresses []state.AddressKey `json:"addresses"`
	Routes    []state.RouteKey   `json:"routes,omitempty"`
	Sysctls   []state.SysctlKey  `json:"sysctls,omitempty"`
}

// Plan is an ordered list of changes and what it was computed against.
type Plan struct {
	Changes []Change `json:"changes"`
	// Notes are facts the user should know that are not changes (e.g.
	// VRRP addresses left to `lbx watch`).
	Notes []string `json:"notes,omitempty"`
	Scope Scope    `json:"scope"`
	// Fingerprint is a hash of the in-scope live state the plan was made
	// against (also when it was empty).
	Fingerprint string `json:"fingerprint"`
}

// Counts returns Terraform's three numbers: a replace counts as one add and
// one destroy.
func (p *Plan) Counts() (add, change, destroy int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			add++
		case Update:
			change++
		case Delete:
			destroy++
		case Replace:
			add++
			destroy++
		}
	}
	return
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Owned is what lbx created earlier (its ownership record): objects that
// are deleted when they leave the model.
type Owned = ownership.Keys

// Options tune a diff.
type Options struct {
	// Prune deletes live services neither declared nor owned.
	Prune bool
	Owned Owned
	// Unstamped leaves Fingerprint empty: for a plan applied at once and
	// never saved or shown (lbx watch's reconciles), where hashing the
	// whole live scope was most of a resync that changed nothing.
	Unstamped bool
}

// Addresses of objects, as shown in plans.
func ServiceAddress(k state.ServiceKey) string { return "service." + k.String() }
func RealAddress(s state.ServiceKey, r state.RealKey) string {
	return "real." + s.String() + "/" + r.String()
}
func AddressAddress(k state.AddressKey) string { return "address." + k.String() }
func RouteAddress(k state.RouteKey) string     { return "route." + k.String() }

// Diff computes the plan that takes live to desired.
func Diff(d *model.Desired, live *state.State, opts Options) *Plan {
	p := &Plan{Notes: watchNotes(d)}
	desired := d.State
	p.Scope = Scope{Prune: opts.Prune, Services: serviceScope(desired, live, opts), Addresses: addressScope(d, opts),
		Routes: routeScope(d, live), Sysctls: sysctlScope(desired)}
	if !opts.Unstamped {
		p.Fingerprint = Fingerprint(live, p.Scope)
	}
	for _, k := range p.Scope.Services {
		p.Changes = append(p.Changes, diffService(k, desired.Services[k], live.Services[k], d.Drain[k], opts.Owned.Services[k])...)
	}
	for _, k := range p.Scope.Addresses {
		p.Changes = append(p.Changes, diffAddress(k, desired.Addresses, live.Addresses)...)
	}
	routeChanges, routeNotes := diffRoutes(desired, live, p.Scope.Routes)
	p.Changes = append(p.Changes, routeChanges...)
	p.Notes = append(p.Notes, routeNotes...)
	p.Changes = append(p.Changes, diffSysctls(desired, live, p.Scope.Sysctls)...)
	guardPrimaries(p.Changes, live.Addresses)
	order(p.Changes)
	return p
}

// watchNotes says what of the model `lbx watch` manages and plan leaves
// alone: VRRP addresses and routes, BGP announcements.
func watchNotes(d *model.Desired) []string {
	var notes []string
	origins := func(n int, origin func(i int) string) string {
		names := map[string]bool{}
		for i := 0; i < n; i++ {
			names[strings.TrimPrefix(origin(i), "vrrp ")] = true
		}
		return joinSorted(names)
	}
	if n := len(d.VRRPAddresses); n > 0 {
		notes = append(notes, fmt.Sprintf("%d VRRP address(es) of %s are managed by `lbx watch`; plan and apply leave them alone.", n, origins(n, func(i int) string { return d.VRRPAddresses[i].Origin })))
	}
	if n := len(d.VRRPRoutes); n > 0 {
		notes = append(notes, fmt.Sprintf("%d VRRP virtual route(s) of %s are managed by `lbx watch`; plan and apply leave them alone.", n, origins(n, func(i int) string { return d.VRRPRoutes[i].Origin })))
	}
	if n := len(d.BGPAnnouncements); n > 0 {
		notes = append(notes, fmt.Sprintf("%d BGP announcement(s) (%s) are made by `lbx watch` while their conditions hold; plan and apply announce nothing.", n, strings.Join(d.BGPAnnouncements, ", ")))
	}
	return notes
}

// serviceScope is the services a plan looks at: declared, owned, and with
// prune every live service.
func serviceScope(desired, live *state.State, opts Options) []state.ServiceKey {
	scope := map[state.ServiceKey]bool{}
	for k := range desired.Services {
		scope[k] = true
	}
	for k := range opts.Owned.Services {
		scope[k] = true
	}
	if opts.Prune {
		for k := range live.Services {
			scope[k] = true
		}
	}
	return state.SortedKeys(scope)
}

// addressScope is the addresses a plan looks at: declared, and owned
// unless VRRP now manages them (lbx watch adds and removes those).
func addressScope(d *model.Desired, opts Options) []state.AddressKey {
	vrrp := map[state.AddressKey]bool{}
	for _, a := range d.VRRPAddresses {
		vrrp[a.Key] = true
	}
	scope := map[state.AddressKey]bool{}
	for k := range d.State.Addresses {
		scope[k] = true
	}
	for k := range opts.Owned.Addresses {
		if !vrrp[k] {
			scope[k] = true
		}
	}
	return state.SortedKeys(scope)
}

// diffService is the changes that take service k from have to want (either
// may be nil), its real servers included; owned says lbx made it (a
// service deleted otherwise is one --prune removes).
func diffService(k state.ServiceKey, want, have *state.Service, drain model.DrainPolicy, owned bool) []Change {
	var out []Change
	switch {
	case want != nil && have == nil:
		out = append(out, Change{Address: ServiceAddress(k), Kind: KindService, Action: Create, Service: k, AfterService: settingsOnly(want)})
		for _, rk := range want.RealKeys() {
			r := want.Reals[rk]
			out = append(out, Change{Address: RealAddress(k, rk), Kind: KindReal, Action: Create, Service: k, AfterReal: &r})
		}
	case want == nil && have != nil:
		reason := "no longer in the model"
		if !owned {
			reason = "not in the model (--prune)"
		}
		out = append(out, Change{Address: ServiceAddress(k), Kind: KindService, Action: Delete, Service: k, BeforeService: settingsOnly(have), Reason: reason})
	case want != nil && have != nil:
		if want.Settings() != have.Settings() {
			out = append(out, Change{Address: ServiceAddress(k), Kind: KindService, Action: Update, Service: k,
				BeforeService: settingsOnly(have), AfterService: settingsOnly(want), Fields: changedFields(*have, *want)})
		}
		out = append(out, diffReals(k, want, have, drain)...)
	}
	return out
}

// diffAddress is the change, if any, that takes address k from live to
// desired.
func diffAddress(k state.AddressKey, desired, live map[state.AddressKey]state.Address) []Change {
	want, wok := desired[k]
	have, hok := live[k]
	switch {
	case wok && !hok:
		return []Change{{Address: AddressAddress(k), Kind: KindAddress, Action: Create, AfterAddr: &want}}
	case !wok && hok:
		return []Change{{Address: AddressAddress(k), Kind: KindAddress, Action: Delete, BeforeAddr: &have, Reason: "no longer in the model"}}
	case wok && hok && !want.Same(have):
		return []Change{{Address: AddressAddress(k), Kind: KindAddress, Action: Replace, BeforeAddr: &have, AfterAddr: &want,
			Fields: changedFields(have, want), Reason: replaceReason(have, want)}}
	}
	return nil
}

// routeScope is the routes a plan is about: the declared ones and the
// live ones the kernel marks as lbx's, less the VRRP instances' virtual
// routes when they are left to `lbx watch` (d.VRRPRoutes).
func routeScope(d *model.Desired, live *state.State) []state.RouteKey {
	vrrp := map[state.RouteKey]bool{}
	for _, r := range d.VRRPRoutes {
		vrrp[r.Key] = true
	}
	for _, r := range d.BGPRoutes { // the kernel announcer's: lbx watch's too
		vrrp[r.Key] = true
	}
	scope := map[state.RouteKey]bool{}
	for k := range d.State.Routes {
		scope[k] = true
	}
	for k, r := range live.Routes {
		if r.Owned() && !vrrp[k] {
			scope[k] = true
		}
	}
	if len(scope) == 0 {
		return nil
	}
	return state.SortedKeys(scope)
}

// diffRoutes plans the routes in scope. Every change of a route's
// settings is an update: the kernel replaces a route in place
// (NLM_F_REPLACE finds it by table, destination and metric), so traffic
// never goes without it. A declared route found with another owner's
// protocol is adopted by the same update.
//
// A declared key under which the kernel holds more than one route is a
// conflict: the kernel's replace would take the first of them, maybe
// another owner's, so the key is left as it is and a note says what to
// do. Deleting lbx's own route is safe there (the delete names lbx's
// protocol).
func diffRoutes(desired, live *state.State, scope []state.RouteKey) (out []Change, notes []string) {
	for _, k := range scope {
		want, wok := desired.Routes[k]
		have, hok := live.Routes[k]
		if dups := live.RouteDuplicates[k]; wok && len(dups) > 0 {
			notes = append(notes, duplicateRoutesNote(have, dups))
			continue
		}
		switch {
		case wok && !hok:
			out = append(out, Change{Address: RouteAddress(k), Kind: KindRoute, Action: Create, AfterRoute: &want})
		case !wok && hok:
			out = append(out, Change{Address: RouteAddress(k), Kind: KindRoute, Action: Delete, BeforeRoute: &have, Reason: "no longer in the model"})
		case wok && hok && !want.SatisfiedBy(have):
			c := Change{Address: RouteAddress(k), Kind: KindRoute, Action: Update, BeforeRoute: &have, AfterRoute: &want, Fields: routeFields(have, want)}
			if !have.Owned() {
				c.Reason = fmt.Sprintf("adopted: the kernel has it with protocol %d, not lbx's", have.Protocol)
			}
			out = append(out, c)
		}
	}
	return out, notes
}

func duplicateRoutesNote(first state.Route, dups []state.Route) string {
	routes := []string{first.Describe()}
	for _, r := range dups {
		routes = append(routes, r.Describe())
	}
	return fmt.Sprintf("%s: left as it is: the kernel holds %d routes under this table, destination and metric (%s) and lbx manages one; delete the others (`ip route del ROUTE proto N`) or give the declared route a metric of its own",
		RouteAddress(first.Key), len(routes), strings.Join(routes, "; "))
}

func diffReals(k state.ServiceKey, want, have *state.Service, drain model.DrainPolicy) []Change {
	if sameReals(want, have) {
		return nil // the common case of a no-op plan: no key sets, no sorting
	}
	var out []Change
	keys := map[state.RealKey]bool{}
	for rk := range want.Reals {
		keys[rk] = true
	}
	for rk := range have.Reals {
		keys[rk] = true
	}
	for _, rk := range state.SortedKeys(keys) {
		w, wok := want.Reals[rk]
		h, hok := have.Reals[rk]
		addr := RealAddress(k, rk)
		switch {
		case wok && !hok:
			out = append(out, Change{Address: addr, Kind: KindReal, Action: Create, Service: k, AfterReal: &w})
		case !wok && hok:
			c := Change{Address: addr, Kind: KindReal, Action: Delete, Service: k, BeforeReal: &h, Reason: "not in the model"}
			switch {
			case drain.Declared[rk]:
				c.Reason = "out of the pool: down, or quorum lost"
			case drain.Timeout > 0 && h.Weight > 0:
				c.DrainSeconds = drain.Timeout
				c.Reason = fmt.Sprintf("drain: weight 0, then delete when idle or after %ds", drain.Timeout)
			}
			out = append(out, c)
		case wok && hok && !w.Same(h):
			out = append(out, Change{Address: addr, Kind: KindReal, Action: Update, Service: k, BeforeReal: &h, AfterReal: &w, Fields: changedFields(h, w)})
		}
	}
	return out
}

func sameReals(want, have *state.Service) bool {
	if len(want.Reals) != len(have.Reals) {
		return false
	}
	for rk, w := range want.Reals {
		h, ok := have.Reals[rk]
		if !ok || !w.Same(h) {
			return false
		}
	}
	return true
}

// replaceReason says why an address cannot be edited in place: the kernel
// finds an address by (interface, address, prefix length) and ignores
// label and scope changes on RTM_NEWADDR with NLM_F_REPLACE.
func replaceReason(have, want state.Address) string {
	switch {
	case have.Bits != want.Bits:
		return "the kernel keys an address by its prefix length; it cannot change it in place"
	case have.Label != want.Label:
		return "the kernel cannot relabel an address in place"
	default:
		return "the kernel cannot change an address's scope in place"
	}
}

func settingsOnly(s *state.Service) *state.Service {
	c := *s
	c.Reals = nil
	return &c
}

// routeFields names the settings an update changes; a device the model
// leaves to the kernel is not one of them.
func routeFields(have, want state.Route) []string {
	var out []string
	for _, f := range changedFields(have, want) {
		if f == "interface" && want.Interface == "" && want.Via.IsValid() {
			continue
		}
		out = append(out, f)
	}
	return out
}

// phase orders changes for a safe execution: addresses leave first and
// arrive last (traffic stops before its service goes and starts after it
// is ready); real servers leave before their services and arrive after
// them. Routes leave before the addresses (one may use an address as its
// source or reach its gateway through it) and arrive after them. Sysctls
// come first of all: how IPVS treats flows (sloppy TCP, connection
// reuse) is set before a service can receive one.
func phase(c Change) int {
	switch {
	case c.Kind == KindSysctl:
		return -2
	case c.Kind == KindRoute && c.Action == Delete:
		return -1
	case c.Kind == KindRoute:
		return 6
	case c.Kind == KindAddress && c.Action == Delete:
		return 0
	case c.Kind == KindReal && c.Action == Delete:
		return 1
	case c.Kind == KindService && c.Action == Delete:
		return 2
	case c.Kind == KindService:
		return 3
	case c.Kind == KindReal:
		return 4
	default: // address create / replace
		return 5
	}
}

func order(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool { return phase(cs[i]) < phase(cs[j]) })
}

// changedFields names the JSON fields that differ between two values of one
// struct type, ignoring fields tagged "-".
func changedFields(a, b any) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := 0; i < va.NumField(); i++ {
		name, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, name)
		}
	}
	return out
}

// Fingerprint hashes the in-scope part of a live state: services (with
// their real servers, without counters) and addresses. It is stable across
// map orders, and streams fields into the hash (JSON-encoding 10,000
// objects took longer than reading them from the kernel).
func Fingerprint(live *state.State, sc Scope) string {
	keys := sc.Services
	if sc.Prune {
		// With prune every live service is in scope, including ones that
		// appeared after the plan was made.
		all := map[state.ServiceKey]bool{}
		for _, k := range keys {
			all[k] = true
		}
		for k := range live.Services {
			all[k] = true
		}
		keys = state.SortedKeys(all)
	}
	h := sha256.New()
	b := make([]byte, 0, 256)
	field := func(s string) { b = append(append(b, s...), 0) }
	num := func(n int64) { b = append(strconv.AppendInt(b, n, 10), 0) }
	for _, k := range keys {
		s := live.Services[k]
		if s == nil {
			continue
		}
		b = b[:0]
		field("S")
		field(k.String())
		field(s.Scheduler)
		num(int64(s.Flags))
		num(int64(s.Timeout))
		num(int64(s.NetmaskBits))
		if s.OnePacket {
			field("ops")
		}
		for _, rk := range s.RealKeys() {
			r := s.Reals[rk]
			field("R")
			field(rk.String())
			num(int64(r.Weight))
			field(string(r.Forwarding))
			num(int64(r.UpperThreshold))
			num(int64(r.LowerThreshold))
			field(r.TunnelType)
			num(int64(r.TunnelPort))
			field(r.TunnelChecksum)
		}
		h.Write(b)
	}
	sec := state.IndexSecondaries(live.Addresses)
	for _, k := range sc.Addresses {
		if a, ok := live.Addresses[k]; ok {
			b = b[:0]
			field("A")
			field(k.String())
			num(int64(a.Bits))
			field(a.Label)
			field(a.Scope)
			// A secondary added behind an in-scope primary changes
			// what deleting it takes down (Change.Keeps).
			for _, s := range sec.TakenDown(a, nil) {
				field("K")
				field(s.Key.String())
			}
			h.Write(b)
		}
	}
	for _, k := range sc.Routes {
		if r, ok := live.Routes[k]; ok {
			b = b[:0]
			field("T")
			field(r.Describe())
			h.Write(b)
		}
	}
	for _, k := range sc.Sysctls {
		if v, ok := live.Sysctls[k]; ok {
			b = b[:0]
			field("Y")
			field(k.String())
			num(int64(v))
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func joinSorted(m map[string]bool) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Package metrics is lbx watch's Prometheus exporter. It is off unless the
// daemon is given an address, and costs nothing until then: its registry is
// made by New, and the exposition is lbx's own (metrics/internal/expo says
// why not client_golang).
//
// Callers never touch label strings: the watch loop calls typed methods
// (SetVRRP, Transition, CheckResult, Reconcile, ...) with keys it already has,
// and this package turns them into the label names people already graph:
//
//   - VRRP series carry keepalived exporters' labels {iname, intf, vrid}, so a
//     dashboard built for keepalived_vrrp_state works on lbx_vrrp_state with a
//     rename.
//   - Per-instance series that keepalived exporters add a label for get a
//     series family of their own instead: lbx_vrrp_address{..., ip_address}
//     (1 while held), so lbx_vrrp_state keeps one series per instance.
//   - Checker series carry node_exporter's node_ipvs_backend_* labels
//     {local_address, local_port, remote_address, remote_port, proto,
//     local_mark} with the same value formats (proto "TCP"/"UDP"/"SCTP"/"FWM",
//     local_mark as /proc/net/ip_vs prints it: %08X for fwmark services, empty
//     otherwise), so lbx_checker_up joins node_ipvs_backend_weight with `on(...)`.
//
// lbx does not export IPVS per-service or per-real-server traffic counters:
// node_exporter's ipvs collector already does (node_ipvs_* from
// /proc/net/ip_vs), and a second copy would double the series for nothing.
package metrics

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lbx-dev/lbx/metrics/internal/expo"
	"github.com/lbx-dev/lbx/state"
)

// VRRP state values of lbx_vrrp_state: keepalived's internal numbering, the
// one keepalived exporters publish in keepalived_vrrp_state.
const (
	StateInit    = 0
	StateBackup  = 1
	StateMaster  = 2
	StateFault   = 3
	StateUnknown = -1 // a state name this package does not know
)

// StateValue maps a VRRP state name (vrrpd/fsm: INIT, BACKUP, MASTER, FAULT)
// to its lbx_vrrp_state value.
func StateValue(s string) int {
	switch strings.ToUpper(s) {
	case "INIT":
		return StateInit
	case "BACKUP":
		return StateBackup
	case "MASTER":
		return StateMaster
	case "FAULT":
		return StateFault
	}
	return StateUnknown
}

// VRRP identifies a VRRP instance: the {iname, intf, vrid} labels. For a
// packet that matches no instance (an invalid advert), Name is empty and
// Interface/VRID are the packet's (VRID 0 when it could not be parsed).
type VRRP struct {
	Name      string
	Interface string
	VRID      int
}

func (v VRRP) labels() expo.Labels {
	return expo.Labels{"iname": v.Name, "intf": v.Interface, "vrid": strconv.Itoa(v.VRID)}
}

// Real identifies a real server of a virtual service. It has the same shape
// as model.RealID, so metrics.Real(id) converts one.
type Real struct {
	Service state.ServiceKey
	Real    state.RealKey
}

// labels renders node_exporter's ipvs backend labels.
func (r Real) labels() expo.Labels {
	l := expo.Labels{
		"remote_address": r.Real.Addr.String(),
		"remote_port":    strconv.Itoa(int(r.Real.Port)),
	}
	if r.Service.FWMark != 0 {
		l["local_address"] = ""
		l["local_port"] = "0"
		l["proto"] = "FWM"
		l["local_mark"] = fmt.Sprintf("%08X", r.Service.FWMark)
	} else {
		l["local_address"] = r.Service.Addr.String()
		l["local_port"] = strconv.Itoa(int(r.Service.Port))
		l["proto"] = strings.ToUpper(string(r.Service.Protocol))
		l["local_mark"] = ""
	}
	return l
}

var (
	vrrpLabels = []string{"iname", "intf", "vrid"}
	realLabels = []string{"local_address", "local_port", "remote_address", "remote_port", "proto", "local_mark"}
)

// Check outcomes, the values of lbx_checker_checks_total's result label.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// Reconcile outcomes, the values of lbx_reconciles_total's result label.
const (
	ReconcileNoop    = "noop"    // the kernel already matched: no write
	ReconcileChanged = "changed" // writes made, no error
	ReconcileError   = "error"   // the reconcile failed (it is retried)
)

// Registry holds lbx's metrics and the registry that serves them.
// All methods are safe for concurrent use. A nil *Registry is valid and does
// nothing, so the loop can call it unconditionally when metrics are off.
type Registry struct {
	reg *expo.Registry

	vrrpState, vrrpPrio, vrrpConfPrio    *expo.GaugeVec
	transitions, sent, received, invalid *expo.CounterVec
	priZeroSent, priZeroRcvd             *expo.CounterVec
	checkUp, checkLatency                *expo.GaugeVec
	checks                               *expo.CounterVec
	reconciles, drift                    *expo.CounterVec
	scriptsDropped                       *expo.CounterVec
	reconcileDur                         expo.Histogram
	kernelWrites, checkerRestarts        expo.Counter
	buildInfo                            *expo.GaugeVec
	vrrpAddress                          *expo.GaugeVec
	becomeMaster                         *expo.CounterVec
	scriptUp, interfaceUp                *expo.GaugeVec
	reloads                              *expo.CounterVec
	lastReloadOK, lastReloadTime         expo.Gauge

	mu       sync.Mutex
	restarts int // the last value given to SetCheckerRestarts
	vrrps    map[VRRP]struct{}
	reals    map[Real]struct{}
	// addrs are the ip_address values of each instance's lbx_vrrp_address
	// series; scripts and intfs the names of lbx_vrrp_script_up and
	// lbx_vrrp_interface_up series: what the next Set call replaces.
	addrs          map[VRRP][]string
	scripts, intfs map[string]bool
	// abs holds the last absolute value given to a Set*Counts method per
	// series, so that snapshot-fed counters advance by the difference.
	abs map[absKey]uint64
}

type absKey struct {
	family string
	vrrp   VRRP
	real   Real
	label  string // the extra label's value (result, reason)
}

// ReconcileBuckets are lbx_reconcile_duration_seconds' buckets: a no-op
// resync takes about a millisecond, a reload of thousands of real servers
// seconds; the 100 ms target for a transition sits in the middle.
var ReconcileBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New returns a Registry with every lbx metric, plus the Go runtime's and
// the process's series (go_*, process_*: RSS, CPU and descriptors of the
// daemon, under client_golang's names).
func New() *Registry {
	m := &Registry{
		reg:   expo.NewRegistry(),
		vrrps: map[VRRP]struct{}{},
		reals: map[Real]struct{}{},
		abs:   map[absKey]uint64{},
		addrs: map[VRRP][]string{}, scripts: map[string]bool{}, intfs: map[string]bool{},
	}
	m.vrrpState = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_vrrp_state",
		Help: "VRRP instance state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT (keepalived's numbering); -1 unknown.",
	}, vrrpLabels)
	m.vrrpPrio = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_vrrp_priority",
		Help: "VRRP instance effective priority (configured priority adjusted by tracking; 0 while stopping).",
	}, vrrpLabels)
	m.vrrpConfPrio = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_vrrp_configured_priority",
		Help: "VRRP instance priority as the model configures it; lbx_vrrp_priority below it means tracked objects lower it (lbx status says which).",
	}, vrrpLabels)
	m.transitions = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_vrrp_transitions_total",
		Help: "VRRP state transitions, by the state entered.",
	}, append(vrrpLabels[:3:3], "to"))
	m.sent = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_vrrp_adverts_sent_total",
		Help: "VRRP advertisements sent.",
	}, vrrpLabels)
	m.received = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_vrrp_adverts_received_total",
		Help: "Valid VRRP advertisements received.",
	}, vrrpLabels)
	m.priZeroSent = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_vrrp_priority_zero_sent_total",
		Help: "VRRP advertisements with priority 0 sent (the master resigns: stop, reload, fault).",
	}, vrrpLabels)
	m.priZeroRcvd = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_vrrp_priority_zero_received_total",
		Help: "Valid VRRP advertisements with priority 0 received (the peer master resigned).",
	}, vrrpLabels)
	m.invalid = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_vrrp_adverts_invalid_total",
		Help: "VRRP packets dropped as invalid, by reason (ttl, checksum, auth, version, vrid, ...).",
	}, append(vrrpLabels[:3:3], "reason"))
	m.checkUp = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_checker_up",
		Help: "Real server health as the checkers decide it (after retries): 1 up, 0 down.",
	}, realLabels)
	m.checkLatency = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_checker_latency_seconds",
		Help: "Duration of the real server's last health check.",
	}, realLabels)
	m.checks = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_checker_checks_total",
		Help: "Health checks run against the real server, by result (success, failure; retries count).",
	}, append(realLabels[:6:6], "result"))
	m.reconciles = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_reconciles_total",
		Help: "Reconciles of the kernel to the desired state, by result (noop, changed, error).",
	}, []string{"result"})
	m.reconcileDur = expo.NewHistogram(expo.HistogramOpts{
		Name:    "lbx_reconcile_duration_seconds",
		Help:    "Duration of a reconcile: compile, read the kernel, plan, apply.",
		Buckets: ReconcileBuckets,
	})
	m.drift = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_drift_repaired_total",
		Help: "Kernel objects changed behind lbx's back and put back, by kind.",
	}, []string{"kind"})
	m.scriptsDropped = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_scripts_dropped_total",
		Help: "Event scripts (one event's notify scripts each) not run, by kind: the oldest waiting of their instance when its queue was full, or abandoned at stop.",
	}, []string{"kind"})
	m.kernelWrites = expo.NewCounter(expo.CounterOpts{
		Name: "lbx_kernel_writes_total",
		Help: "Writes to the kernel (IPVS and address netlink requests) made by reconciles.",
	})
	m.checkerRestarts = expo.NewCounter(expo.CounterOpts{
		Name: "lbx_checker_process_restarts_total",
		Help: "Times the checker process (lbx-check or lbx-check-tls) was started again after it died; health was kept meanwhile.",
	})
	m.buildInfo = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_build_info",
		Help: "Always 1; the labels say which lbx runs: version (-X main.version), VCS revision (empty if not built from a checkout), Go version.",
	}, []string{"version", "revision", "goversion"})
	m.vrrpAddress = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_vrrp_address",
		Help: "Virtual address of a VRRP instance (virtual_addresses and virtual_addresses_excluded): 1 while this node holds it (MASTER, and the reconcile that adds it succeeded), 0 otherwise.",
	}, append(vrrpLabels[:3:3], "ip_address"))
	m.becomeMaster = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_vrrp_become_master_total",
		Help: "Times the VRRP instance became MASTER (keepalived exporters' keepalived_become_master_total).",
	}, vrrpLabels)
	m.scriptUp = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_vrrp_script_up",
		Help: "Tracked script (vrrp_script) status after rise/fall and reverse: 1 ok, 0 failed.",
	}, []string{"script"})
	m.interfaceUp = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_vrrp_interface_up",
		Help: "Tracked interface status (track_interfaces and each VRRP instance's own interface): 1 up, 0 down or absent.",
	}, []string{"interface"})
	m.reloads = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_reloads_total",
		Help: "Reloads of the model (SIGHUP, or lbx apply handed to the daemon), by result (success, failure: the previous model stays in force, or VRRP took it only in part).",
	}, []string{"result"})
	m.lastReloadOK = expo.NewGauge(expo.GaugeOpts{
		Name: "lbx_last_reload_successful",
		Help: "1 if the last reload succeeded or none was made since the start, 0 after a failed one until the next succeeds.",
	})
	m.lastReloadTime = expo.NewGauge(expo.GaugeOpts{
		Name: "lbx_last_reload_timestamp_seconds",
		Help: "Unix time of the last reload, successful or not; the start until the first reload.",
	})
	m.reg.MustRegister(m.buildInfo, m.vrrpAddress, m.becomeMaster, m.scriptUp, m.interfaceUp, m.reloads, m.lastReloadOK, m.lastReloadTime)
	m.reg.MustRegister(m.checkerRestarts, m.vrrpState, m.vrrpPrio, m.vrrpConfPrio, m.transitions, m.sent, m.received, m.invalid, m.priZeroSent, m.priZeroRcvd,
		m.checkUp, m.checkLatency, m.checks, m.reconciles, m.reconcileDur, m.drift, m.kernelWrites, m.scriptsDropped,
		expo.Func(goSamples), expo.Func(processSamples))
	// Zero-initialise the label-free and small fixed-label series so that
	// rate() and absent() work from the first scrape.
	for _, r := range []string{ReconcileNoop, ReconcileChanged, ReconcileError} {
		m.reconciles.WithLabelValues(r)
	}
	for _, r := range []string{ResultSuccess, ResultFailure} {
		m.reloads.WithLabelValues(r)
	}
	for _, k := range []string{ScriptNotify, ScriptNotifyUp, ScriptNotifyDown, ScriptQuorumUp, ScriptQuorumDown} {
		m.scriptsDropped.WithLabelValues(k)
	}
	m.lastReloadOK.Set(1)
	m.lastReloadTime.Set(float64(time.Now().UnixNano()) / 1e9)
	return m
}

// WriteText writes every series in the Prometheus text exposition format
// (what /metrics serves); nothing for a nil m.
func (m *Registry) WriteText(w io.Writer) error {
	if m == nil {
		return nil
	}
	return m.reg.WriteText(w)
}

// seenVRRP records v's series for Retain; an instance seen for the first
// time gets its become-master counter at 0, so that increase() sees the
// first time it becomes master. A packet of no instance (Name "") has none.
func (m *Registry) seenVRRP(v VRRP) {
	m.mu.Lock()
	_, seen := m.vrrps[v]
	m.vrrps[v] = struct{}{}
	m.mu.Unlock()
	if !seen && v.Name != "" {
		m.becomeMaster.With(v.labels())
	}
}

func (m *Registry) seenReal(r Real) {
	m.mu.Lock()
	m.reals[r] = struct{}{}
	m.mu.Unlock()
}

// SetVRRP records an instance's current state name (INIT, BACKUP, MASTER,
// FAULT), its effective priority and the priority the model configures.
// Call it at start for every instance and after every transition or
// priority change.
func (m *Registry) SetVRRP(v VRRP, stateName string, priority, configured int) {
	if m == nil {
		return
	}
	m.seenVRRP(v)
	m.vrrpState.With(v.labels()).Set(float64(StateValue(stateName)))
	m.vrrpPrio.With(v.labels()).Set(float64(priority))
	m.vrrpConfPrio.With(v.labels()).Set(float64(configured))
}

// Transition counts one transition of v into the state named to.
func (m *Registry) Transition(v VRRP, to string) {
	if m == nil {
		return
	}
	m.seenVRRP(v)
	l := v.labels()
	l["to"] = strings.ToUpper(to)
	m.transitions.With(l).Inc()
	if StateValue(to) == StateMaster {
		m.becomeMaster.With(v.labels()).Inc()
	}
}

// Address is one virtual address of a VRRP instance.
type Address struct {
	IP   netip.Addr
	Held bool // in the kernel as lbx put it: the instance is MASTER
}

// SetAddresses records v's virtual addresses (lbx_vrrp_address), replacing
// what the last call gave: an address not listed any more loses its
// series. Call it with SetVRRP.
func (m *Registry) SetAddresses(v VRRP, addrs []Address) {
	if m == nil {
		return
	}
	m.seenVRRP(v)
	ips := make([]string, 0, len(addrs))
	for _, a := range addrs {
		ips = append(ips, a.IP.String())
	}
	m.mu.Lock()
	prev := m.addrs[v]
	m.addrs[v] = ips
	m.mu.Unlock()
	label := func(ip string) expo.Labels {
		l := v.labels()
		l["ip_address"] = ip
		return l
	}
	for _, ip := range prev {
		if !slices.Contains(ips, ip) {
			m.vrrpAddress.Delete(label(ip))
		}
	}
	for i, a := range addrs {
		m.vrrpAddress.With(label(ips[i])).Set(b2f(a.Held))
	}
}

// SetTracked records the states of the tracked scripts and interfaces by
// name (true: up), replacing what the last call gave: a script or
// interface no longer tracked loses its series.
func (m *Registry) SetTracked(scripts, interfaces map[string]bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	replace(m.scriptUp, m.scripts, scripts)
	replace(m.interfaceUp, m.intfs, interfaces)
}

// replace sets g's one-label series to next, deleting those of the names
// in have that next lacks, and makes have next's names.
func replace(g *expo.GaugeVec, have, next map[string]bool) {
	for name := range have {
		if _, ok := next[name]; !ok {
			g.DeleteLabelValues(name)
			delete(have, name)
		}
	}
	for name, up := range next {
		g.WithLabelValues(name).Set(b2f(up))
		have[name] = true
	}
}

// SetBuildInfo sets lbx_build_info's one series.
func (m *Registry) SetBuildInfo(version, revision, goVersion string) {
	if m == nil {
		return
	}
	m.buildInfo.Reset()
	m.buildInfo.WithLabelValues(version, revision, goVersion).Set(1)
}

// Reload records a reload (SIGHUP, or lbx apply handed to the daemon) made
// at t: ok false if it was refused or taken only in part.
func (m *Registry) Reload(ok bool, t time.Time) {
	if m == nil {
		return
	}
	res := ResultFailure
	if ok {
		res = ResultSuccess
	}
	m.reloads.WithLabelValues(res).Inc()
	m.lastReloadOK.Set(b2f(ok))
	m.lastReloadTime.Set(float64(t.UnixNano()) / 1e9)
}

// AdvertSent counts one advertisement sent by v.
func (m *Registry) AdvertSent(v VRRP) {
	if m == nil {
		return
	}
	m.seenVRRP(v)
	m.sent.With(v.labels()).Inc()
}

// AdvertReceived counts one valid advertisement received for v.
func (m *Registry) AdvertReceived(v VRRP) {
	if m == nil {
		return
	}
	m.seenVRRP(v)
	m.received.With(v.labels()).Inc()
}

// AdvertInvalid counts one packet dropped for reason, which must come from
// a fixed set (vrrpd's drop reasons), never from packet contents.
func (m *Registry) AdvertInvalid(v VRRP, reason string) {
	if m == nil {
		return
	}
	m.seenVRRP(v)
	l := v.labels()
	l["reason"] = reason
	m.invalid.With(l).Inc()
}

// AdvertCounts are one instance's cumulative advert counts, as vrrpd's
// per-instance counters hold them (keepalived's per-instance statistics:
// advert_sent, advert_rcvd, pri_zero_sent, pri_zero_rcvd and the error
// counters, here Invalid by reason).
type AdvertCounts struct {
	Sent, Received                         uint64
	PriorityZeroSent, PriorityZeroReceived uint64
	Invalid                                map[string]uint64 // by drop reason
}

// SetAdvertCounts feeds v's advert counters from cumulative counts (a
// vrrpd counters snapshot) instead of per-event calls: each counter
// advances by the difference from the last call. For packets attributed to
// no instance (v.Name == "": the link and the packet's VRID) only the
// invalid counts are exported: nothing is sent or received for them.
func (m *Registry) SetAdvertCounts(v VRRP, c AdvertCounts) {
	if m == nil {
		return
	}
	m.seenVRRP(v)
	if v.Name != "" {
		m.advance(m.sent, absKey{family: "sent", vrrp: v}, v.labels(), c.Sent)
		m.advance(m.received, absKey{family: "received", vrrp: v}, v.labels(), c.Received)
		m.advance(m.priZeroSent, absKey{family: "pri0sent", vrrp: v}, v.labels(), c.PriorityZeroSent)
		m.advance(m.priZeroRcvd, absKey{family: "pri0rcvd", vrrp: v}, v.labels(), c.PriorityZeroReceived)
	}
	for reason, n := range c.Invalid {
		l := v.labels()
		l["reason"] = reason
		m.advance(m.invalid, absKey{family: "invalid", vrrp: v, label: reason}, l, n)
	}
}

// advance moves a counter to the absolute value n. A value below the last
// one means the source restarted: the series is recreated at n, which
// Prometheus reads as a counter reset.
func (m *Registry) advance(c *expo.CounterVec, k absKey, l expo.Labels, n uint64) {
	m.mu.Lock()
	last, ok := m.abs[k]
	m.abs[k] = n
	m.mu.Unlock()
	switch {
	case !ok || n >= last:
		c.With(l).Add(float64(n - min(last, n)))
	default:
		c.Delete(l)
		c.With(l).Add(float64(n))
	}
}

// lbx_scripts_dropped_total's kinds: VRRP notify scripts (one
// transition's), real server notify_up/notify_down and quorum up/down.
const (
	ScriptNotify     = "notify"
	ScriptNotifyUp   = "notify_up"
	ScriptNotifyDown = "notify_down"
	ScriptQuorumUp   = "quorum_up"
	ScriptQuorumDown = "quorum_down"
)

// SetScriptsDropped sets how many scripts of kind were dropped so far (an
// absolute count, from the daemon's script queue).
func (m *Registry) SetScriptsDropped(kind string, n uint64) {
	if m == nil {
		return
	}
	m.advance(m.scriptsDropped, absKey{family: "scripts_dropped", label: kind}, expo.Labels{"kind": kind}, n)
}

// CheckResult records one health check of r: up is the real server's
// health after this check (what drives IPVS, after retries), latency how
// long the check took, success whether this one check passed.
func (m *Registry) CheckResult(r Real, up bool, latency time.Duration, success bool) {
	if m == nil {
		return
	}
	m.seenReal(r)
	l := r.labels()
	m.checkUp.With(l).Set(b2f(up))
	m.checkLatency.With(l).Set(latency.Seconds())
	res := ResultFailure
	if success {
		res = ResultSuccess
	}
	l["result"] = res
	m.checks.With(l).Inc()
}

// SetChecker records r's health from a checker snapshot (check.Runner.Stats):
// up, the last check's latency, and cumulative counts of checks run and
// failed. Counters advance by the difference from the last call.
func (m *Registry) SetChecker(r Real, up bool, lastLatency time.Duration, total, failed uint64) {
	if m == nil {
		return
	}
	m.seenReal(r)
	l := r.labels()
	m.checkUp.With(l).Set(b2f(up))
	m.checkLatency.With(l).Set(lastLatency.Seconds())
	ok := total - min(failed, total)
	ls, lf := r.labels(), r.labels()
	ls["result"], lf["result"] = ResultSuccess, ResultFailure
	m.advance(m.checks, absKey{family: "checks", real: r, label: ResultSuccess}, ls, ok)
	m.advance(m.checks, absKey{family: "checks", real: r, label: ResultFailure}, lf, failed)
}

// Reconcile records one reconcile: how long it took, its error (nil on
// success), how many kernel writes it made, and the drift it repaired by
// kind (e.g. "service", "real", "address"; objects changed behind lbx's
// back, not changes the model or a fact asked for).
func (m *Registry) Reconcile(dur time.Duration, err error, writes int, drift map[string]int) {
	if m == nil {
		return
	}
	res := ReconcileChanged
	switch {
	case err != nil:
		res = ReconcileError
	case writes == 0:
		res = ReconcileNoop
	}
	m.reconciles.WithLabelValues(res).Inc()
	m.reconcileDur.Observe(dur.Seconds())
	if writes > 0 {
		m.kernelWrites.Add(float64(writes))
	}
	for kind, n := range drift {
		if n > 0 {
			m.drift.WithLabelValues(kind).Add(float64(n))
		}
	}
}

// Retain drops every series of a VRRP instance or real server not listed,
// so that an instance or real server removed by a reload leaves no stale
// series behind. Call it after every reload with the new model's instances
// and real servers. Series of listed ones are kept (their counters go on).
func (m *Registry) Retain(vrrps []VRRP, reals []Real) {
	if m == nil {
		return
	}
	keepV := make(map[VRRP]bool, len(vrrps))
	intfs := map[string]bool{}
	for _, v := range vrrps {
		keepV[v] = true
		intfs[v.Interface] = true
	}
	// Packets attributed to no instance (Name "") are kept while their
	// interface still carries an instance.
	kept := func(v VRRP) bool { return keepV[v] || v.Name == "" && intfs[v.Interface] }
	keepR := make(map[Real]bool, len(reals))
	for _, r := range reals {
		keepR[r] = true
	}
	m.mu.Lock()
	var dropV []VRRP
	var dropR []Real
	for v := range m.vrrps {
		if !kept(v) {
			dropV = append(dropV, v)
			delete(m.vrrps, v)
		}
	}
	for r := range m.reals {
		if !keepR[r] {
			dropR = append(dropR, r)
			delete(m.reals, r)
		}
	}
	for k := range m.abs {
		if k.family == "checks" && !keepR[k.real] || k.family != "checks" && !kept(k.vrrp) {
			delete(m.abs, k)
		}
	}
	for _, v := range dropV {
		delete(m.addrs, v)
	}
	m.mu.Unlock()
	for _, v := range dropV {
		l := v.labels()
		for _, c := range []interface {
			DeletePartialMatch(expo.Labels) int
		}{m.vrrpState, m.vrrpPrio, m.vrrpConfPrio, m.transitions, m.sent, m.received, m.invalid, m.priZeroSent, m.priZeroRcvd, m.vrrpAddress, m.becomeMaster} {
			c.DeletePartialMatch(l)
		}
	}
	for _, r := range dropR {
		l := r.labels()
		m.checkUp.DeletePartialMatch(l)
		m.checkLatency.DeletePartialMatch(l)
		m.checks.DeletePartialMatch(l)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// errNoAddr is returned by Listen for an empty address.
var errNoAddr = errors.New("metrics: no listen address (metrics are off)")

// SetCheckerRestarts advances lbx_checker_process_restarts_total to n, the
// checker process client's own count.
func (m *Registry) SetCheckerRestarts(n int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if n > m.restarts {
		m.checkerRestarts.Add(float64(n - m.restarts))
		m.restarts = n
	}
}

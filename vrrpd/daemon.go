package vrrpd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbx-dev/lbx/internal/clock"
	"github.com/lbx-dev/lbx/internal/safefile"
	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/internal/scriptq"
	"github.com/lbx-dev/lbx/vrrpd/fsm"
	"github.com/lbx-dev/lbx/vrrpd/packet"
)

// Reconciler brings the kernel to the desired state for the given VRRP
// states (desired state = model + facts). The daemon calls it after every
// transition that adds or removes addresses, and at start (which removes
// stale addresses of ours while not master).
type Reconciler interface {
	Reconcile(ctx context.Context, vrrpStates map[string]string) error
}

// Options are the daemon's collaborators.
type Options struct {
	Reconciler Reconciler
	Log        *slog.Logger
	// StatsFile, if set, receives the daemon-wide counters as JSON
	// whenever they change (at most every 100 ms).
	StatsFile string
	// OnState, if set, is called from the event loop whenever an
	// instance's state or effective priority changed (after the reconcile
	// a transition needed), a reload included: BACKUP to FAULT and a
	// track weight too, which need no reconcile. The seam for the watch
	// loop's other engines (metrics); Instances has the new values.
	OnState func(states map[string]string)
	// OnStarted, if set, is called once the daemon has started: its
	// sockets open, stale addresses released and the instances started,
	// the addresses of those that start as MASTER reconciled.
	OnStarted func()
	// Clock is the time the daemon reads and waits on; nil: the system's.
	Clock clock.Clock
	// Transport is the network; nil: the kernel's (raw sockets, netlink).
	Transport Transport
}

// CounterKey says whom a count belongs to: a virtual router (keepalived's
// per-instance statistics), or — for a packet no instance can be
// attributed to (unreadable, or a VRID not configured on its link) — the
// link, with Name "" and the packet's VRID (0 when unreadable).
type CounterKey struct {
	Name      string
	Interface string
	VRID      int
}

// Counters are the daemon's event and drop counts, per instance and in
// total. Names: adverts_sent, adverts_received, priority_zero_sent,
// priority_zero_received, transitions, garp_sent, send_errors and
// drop_<reason>.
type Counters struct {
	mu    sync.Mutex
	total map[string]uint64
	per   map[CounterKey]map[string]uint64
	gen   atomic.Uint64
}

func (c *Counters) inc(k CounterKey, name string) {
	c.mu.Lock()
	if c.total == nil {
		c.total, c.per = map[string]uint64{}, map[CounterKey]map[string]uint64{}
	}
	c.total[name]++
	m := c.per[k]
	if m == nil {
		m = map[string]uint64{}
		c.per[k] = m
	}
	m[name]++
	c.mu.Unlock()
	c.gen.Add(1)
}

// forget drops an instance's own counts (it left the configuration); the
// totals keep them.
func (c *Counters) forget(k CounterKey) {
	c.mu.Lock()
	delete(c.per, k)
	c.mu.Unlock()
	c.gen.Add(1)
}

// Snapshot returns a copy of the daemon-wide totals.
func (c *Counters) Snapshot() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]uint64, len(c.total))
	for k, v := range c.total {
		out[k] = v
	}
	return out
}

// PerInstance returns a copy of the counts by instance (and, under keys
// with an empty Name, of packets no instance could be attributed to).
func (c *Counters) PerInstance() map[CounterKey]map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[CounterKey]map[string]uint64, len(c.per))
	for k, m := range c.per {
		cp := make(map[string]uint64, len(m))
		for n, v := range m {
			cp[n] = v
		}
		out[k] = cp
	}
	return out
}

// InstanceStatus is one instance as last published by the event loop.
type InstanceStatus struct {
	Name      string
	Interface string
	VRID      int
	State     string
	// Priority is the configured priority, EffectivePriority the one
	// advertised now (tracking weights applied).
	Priority, EffectivePriority int
	// LastTransition and LastReason are the latest state change and its
	// cause (zero before the first, i.e. while in INIT).
	LastTransition time.Time
	LastReason     string
	// Addresses are the virtual addresses, held or not (those it would
	// hold as MASTER).
	Addresses []AddressStatus
	// Tracks are the tracked objects, in configuration order: what makes
	// EffectivePriority differ from Priority, or the instance FAULT.
	Tracks []TrackStatus
}

type inst struct {
	cfg     *Instance
	key     CounterKey
	m       *fsm.Machine
	link    *link
	src     netip.Addr
	ann     Announcer
	garp    *garpTimer // nil: no announcement due
	pending bool       // wants GARP after the next reconcile
	// lastAt and lastWhy: the latest transition, for the status.
	lastAt  time.Time
	lastWhy string
}

// rxPacket is a packet read from a link, validated by the event loop
// (which owns the instance table a reload may change).
type rxPacket struct {
	l *link
	r Received
}

type reloadReq struct {
	cfg  *Config
	done chan error
}

// Daemon runs a set of virtual routers.
type Daemon struct {
	cfg      *Config
	opt      Options
	log      *slog.Logger
	clk      clock.Clock
	net      Transport
	Counters Counters
	insts    []*inst
	byName   map[string]*inst
	// primaries are the links' source addresses while setup runs (nil
	// otherwise): read once per link, not once per instance.
	primaries map[*link]primaryRead
	groups    []*fsm.Group
	groupOf   map[*fsm.Machine]*fsm.Group
	links     map[string]*link
	vrids     map[*link]map[uint8]*inst
	rx        chan rxPacket
	track     chan trackEvent
	addrs     chan addrEvent
	notifyq   *scriptq.Queue
	// beat is the event loop's last turn (UnixNano), for Alive.
	beat atomic.Int64
	// srcRetry: links whose addresses could not be read, and when to
	// read them again (srcBackoff the wait after the next failure).
	srcRetry   map[string]time.Time
	srcBackoff map[string]time.Duration
	reloadq    chan reloadReq
	stopped    chan struct{}
	promote    *promoteSettings
	dirty      bool
	retry      time.Time
	// advertBuf is the last advert encoded, its space reused for the next
	// (the loop's alone; a send copies it to the kernel).
	advertBuf []byte
	// announceBuf is the addresses of the last announcement, reused
	// likewise (the loop's alone).
	announceBuf []netip.Addr

	// known is the last reported state of every tracked object, so that
	// an instance added or changed by a reload starts from the truth.
	known map[fsm.TrackKey]bool
	// gens: the current generation per watcher; events of a stopped
	// watcher or runner are ignored.
	gens    map[watcher]uint64
	bg      context.Context
	stopBG  context.CancelFunc
	wg      sync.WaitGroup
	stopers map[watcher]context.CancelFunc

	published atomic.Pointer[published]
	// scriptUser runs the notify scripts: the configuration's, read by
	// the queue's runners while a reload may replace the configuration.
	scriptUser atomic.Pointer[script.User]
}

// published is what the event loop last made visible to other goroutines.
type published struct {
	instances []InstanceStatus
	tracked   []TrackedObject
	// of are the instances' configurations, changes their machines'
	// Changes and cfg the daemon's, when these were built (stillShown).
	of      []*Instance
	changes []uint64
	cfg     *Config
}

// CheckConfig refuses what cannot run: one VRID twice on a link and
// family, the daemon's one check of that rule. It is a defensive check:
// the model's validation is where the rule lives, at the file:line of the
// instance, and a Config built from a valid model (FromModel) passes. New
// and Reload call it before touching anything, so that the daemon's VRID
// table (which sorts packets to instances) never holds two instances in one
// slot. (Scripts are internal/scriptpolicy's: the caller checks the model
// with it.)
func CheckConfig(cfg *Config) error {
	vrids := map[string]string{}
	for _, in := range cfg.Instances {
		k := linkKey(in.Interface, in.V6) + "/" + strconv.Itoa(int(in.FSM.VRID))
		if prev, ok := vrids[k]; ok {
			return fmt.Errorf("vrrp_instance %s: VRID %d on %s is already used by %s", in.FSM.Name, in.FSM.VRID, in.Interface, prev)
		}
		vrids[k] = in.FSM.Name
	}
	return nil
}

// New checks the configuration (scripts, sockets are opened by Run).
func New(cfg *Config, opt Options) (*Daemon, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Reconciler == nil {
		return nil, errors.New("vrrpd: no Reconciler")
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real()
	}
	if opt.Transport == nil {
		opt.Transport = kernelTransport{log: opt.Log}
	}
	d := &Daemon{cfg: cfg, opt: opt, log: opt.Log, clk: opt.Clock, net: opt.Transport,
		byName: map[string]*inst{}, groupOf: map[*fsm.Machine]*fsm.Group{},
		links: map[string]*link{}, vrids: map[*link]map[uint8]*inst{},
		rx: make(chan rxPacket, 256), track: make(chan trackEvent, 64), addrs: make(chan addrEvent, 64),
		reloadq: make(chan reloadReq), stopped: make(chan struct{}),
		known: map[fsm.TrackKey]bool{}, gens: map[watcher]uint64{}, stopers: map[watcher]context.CancelFunc{},
		srcRetry: map[string]time.Time{}, srcBackoff: map[string]time.Duration{}, promote: newPromoteSettings()}
	d.notifyq = scriptq.New(scriptq.Options{Run: d.runNotify, Log: d.log})
	if err := CheckConfig(cfg); err != nil {
		return nil, err
	}
	d.scriptUser.Store(cfg.ScriptUser)
	d.publish()
	return d, nil
}

func linkKey(ifname string, v6 bool) string { return ifname + "/" + strconv.FormatBool(v6) }

// newInst opens what an instance needs (its link, shared per interface and
// family, and its announcer) and builds its machine, not started. Tracks
// whose state is known start in it. Its VRID slot on the link is free:
// CheckConfig passed, and a reload drops the instances it replaces first.
func (d *Daemon) newInst(c *Instance, now time.Time) (*inst, error) {
	l, err := d.linkFor(c)
	if err != nil {
		return nil, fmt.Errorf("vrrp_instance %s: %w", c.FSM.Name, err)
	}
	// Without an address to send from, the instance starts in FAULT (its
	// source track down) and leaves it when one is added, as keepalived.
	src, srcErr := d.sourceOf(c, l)
	fc := c.FSM
	fc.Primary = src
	ann, err := d.net.Announcer(c.Interface, c.V6, src)
	if err != nil {
		d.closeIfUnused(l) // opened for this instance alone
		return nil, fmt.Errorf("vrrp_instance %s: %w", c.FSM.Name, err)
	}
	in := &inst{cfg: c, key: keyOf(c), m: fsm.New(fc), link: l, src: src, ann: ann}
	if tracksSource(c) {
		d.known[sourceKey(c.Interface, c.V6)] = srcErr == nil
	}
	if srcErr != nil {
		// Unread (not missing): FAULT too, without an address to send
		// from, but only until the retry reads one.
		d.sourceUnread(c.Interface, srcErr)
		d.log.Warn("vrrp: no address to send from; FAULT until there is one", "instance", c.FSM.Name, "err", srcErr)
	}
	for _, t := range fc.Tracks {
		if up, ok := d.known[t.Key]; ok && !up {
			in.m.SetTrack(now, t.Key, false)
		}
	}
	d.vrids[l][c.FSM.VRID] = in
	d.byName[c.FSM.Name] = in
	return in, nil
}

// linkFor returns the link of c's interface and family, opened (and its
// read loop started, once Run runs) if no instance uses it yet.
func (d *Daemon) linkFor(c *Instance) (*link, error) {
	k := linkKey(c.Interface, c.V6)
	if l := d.links[k]; l != nil {
		return l, nil
	}
	conn, err := d.net.Open(c.Interface, c.V6)
	if err != nil {
		return nil, err
	}
	l := &link{name: c.Interface, v6: c.V6, conn: conn, clk: d.clk}
	d.links[k] = l
	d.vrids[l] = map[uint8]*inst{}
	if d.bg != nil {
		d.startReader(l)
	}
	return l, nil
}

func keyOf(c *Instance) CounterKey {
	return CounterKey{Name: c.FSM.Name, Interface: c.Interface, VRID: int(c.FSM.VRID)}
}

// sourceOf is the address adverts are sent from: unicast_src_ip, else
// mcast_src_ip, else the link's primary address.
func (d *Daemon) sourceOf(c *Instance, l *link) (netip.Addr, error) {
	if c.UnicastSrc.IsValid() {
		return c.UnicastSrc, nil
	}
	if c.McastSrc.IsValid() {
		return c.McastSrc, nil
	}
	if d.primaries == nil {
		return l.primary(d.virtual)
	}
	r, ok := d.primaries[l]
	if !ok {
		r.addr, r.err = l.primary(d.virtual)
		d.primaries[l] = r
	}
	return r.addr, r.err
}

// primaryRead is a link's source address as setup read it.
type primaryRead struct {
	addr netip.Addr
	err  error
}

// virtual reports whether a is a virtual address of any instance: never a
// source, even when it is all the link has left (a master's VIP stays
// after the link's own address is removed, and lbx watch puts it back).
func (d *Daemon) virtual(a netip.Addr) bool {
	for _, c := range d.cfg.Instances {
		if slices.Contains(c.Addrs, a) || slices.Contains(c.Excluded, a) {
			return true
		}
	}
	return false
}

// tracksSource: the instance sends from its link's primary address (no
// unicast_src_ip or mcast_src_ip), which it must have (FAULT without).
func tracksSource(c *Instance) bool { return !c.UnicastSrc.IsValid() && !c.McastSrc.IsValid() }

// setSource makes src the address in's adverts (and IPv6 neighbour
// advertisements) are sent from. Event loop only.
func (d *Daemon) setSource(in *inst, src netip.Addr) error {
	if src == in.src {
		return nil
	}
	if err := d.replaceAnnouncer(in, src); err != nil {
		return err
	}
	in.stopGARP()
	return nil
}

// replaceAnnouncer opens in's announcer anew, sending from src, and closes
// the old one; on failure in keeps the old one.
func (d *Daemon) replaceAnnouncer(in *inst, src netip.Addr) error {
	ann, err := d.net.Announcer(in.cfg.Interface, in.cfg.V6, src)
	if err != nil {
		return err
	}
	in.ann.Close()
	in.ann, in.src = ann, src
	return nil
}

// refreshSources follows the addresses of link ifname: each instance there
// that sends from the link's primary address takes the one it has now,
// and its source track says whether there is one (none: FAULT), through
// the same path as any tracked object's change (onTrack).
func (d *Daemon) refreshSources(ctx context.Context, now time.Time, ifname string) {
	changed := map[fsm.TrackKey]trackEvent{}
	unread := false
	// Each link's addresses are read once for all its instances: every
	// read is a dump of the namespace's addresses (each instance's VIPs
	// among them), so reading them per instance made 100 instances
	// starting as masters allocate 38 MB, the daemon's peak.
	type read struct {
		src netip.Addr
		err error
	}
	reads := map[*link]read{}
	for _, in := range d.insts {
		c := in.cfg
		if c.Interface != ifname || !tracksSource(c) {
			continue
		}
		r, ok := reads[in.link]
		if !ok {
			r.src, r.err = d.sourceOf(c, in.link)
			reads[in.link] = r
		}
		src, err := r.src, r.err
		if d.sourceUnread(ifname, err) {
			// Nothing learnt: the instance keeps its source and state.
			unread = true
			continue
		}
		if err == nil && src != in.src {
			if err := d.setSource(in, src); err != nil {
				d.log.Warn("vrrp: new source address not taken", "instance", c.FSM.Name, "address", src, "err", err)
				continue
			}
			fc := c.FSM
			fc.Primary = src
			d.apply(ctx, in, in.m.Reconfigure(now, fc, d.known))
			d.log.Info("vrrp source address", "instance", c.FSM.Name, "address", src)
		}
		key := sourceKey(ifname, c.V6)
		if was, ok := d.known[key]; !ok || was != (err == nil) {
			ev := trackEvent{key: key, up: err == nil, reason: "has " + src.String()}
			if err != nil {
				ev.reason = err.Error()
			}
			changed[key] = ev
		}
	}
	if !unread {
		delete(d.srcRetry, ifname)
		delete(d.srcBackoff, ifname)
	}
	for _, ev := range changed {
		d.onTrack(ctx, now, ev)
	}
}

// Backoff of a link whose addresses could not be read: the first retry
// after srcRetryMin, each next one twice as late, up to srcRetryMax.
const (
	srcRetryMin = 100 * time.Millisecond
	srcRetryMax = 5 * time.Second
)

// sourceUnread reports whether err is a failure to read ifname's addresses
// (not their absence); then it schedules a read again, with backoff, and
// logs it. A resource shortage (EMFILE...) must not look like a missing
// address, nor wait for an address event that may never come.
func (d *Daemon) sourceUnread(ifname string, err error) bool {
	if err == nil || errors.Is(err, errNoSource) {
		return false
	}
	if _, ok := d.srcRetry[ifname]; ok {
		return true // this round's retry is scheduled (one link, many instances)
	}
	wait := d.srcBackoff[ifname]
	if wait == 0 {
		wait = srcRetryMin
	}
	d.srcBackoff[ifname] = min(2*wait, srcRetryMax)
	d.srcRetry[ifname] = d.clk.Now().Add(wait)
	d.log.Warn("vrrp: could not read the addresses of the link; state kept, retrying", "interface", ifname, "in", wait, "err", err)
	return true
}

// retrySources reads again the links whose retry is due.
func (d *Daemon) retrySources(ctx context.Context, now time.Time) {
	var due []string
	for ifname, at := range d.srcRetry {
		if !now.Before(at) {
			due = append(due, ifname)
		}
	}
	for _, ifname := range due {
		delete(d.srcRetry, ifname)
		d.refreshSources(ctx, now, ifname)
	}
}

// onTrack records a tracked object's new state and gives it to every
// instance (those that do not track it ignore it).
func (d *Daemon) onTrack(ctx context.Context, now time.Time, ev trackEvent) {
	if ev.key.Kind == TrackInterface && ev.up && ev.index != 0 {
		d.reopenStale(ctx, now, ev.key.Name, ev.index)
	}
	d.known[ev.key] = ev.up
	d.log.Info("tracking", "object", ev.key.String(), "up", ev.up, "reason", ev.reason)
	for _, in := range d.insts {
		d.apply(ctx, in, in.m.SetTrack(now, ev.key, ev.up))
	}
}

// reopenStale opens the links of interface ifname again where they were
// opened on another index than the one it has now: it was deleted and made
// again (a VLAN or bond taken down and up), and their sockets stay bound to
// the old one, out of the VRRP group, hearing and sending nothing. The
// instances there take announcers on the new one and read its addresses.
// A link that does not open keeps its old socket; the next event of the
// interface tries again.
func (d *Daemon) reopenStale(ctx context.Context, now time.Time, ifname string, index int) {
	reopened := false
	for _, l := range d.links {
		if l.name != ifname || l.conn.Index() == index {
			continue
		}
		conn, err := d.net.Open(l.name, l.v6)
		if err != nil {
			d.log.Error("vrrp: interface made again; its socket not opened anew", "interface", ifname, "err", err)
			continue
		}
		l.close()
		l.conn, l.local, l.stop = conn, nil, nil
		if d.bg != nil {
			d.startReader(l)
		}
		for _, in := range d.insts {
			if in.link != l {
				continue
			}
			if err := d.replaceAnnouncer(in, in.src); err != nil {
				d.log.Error("vrrp: interface made again; its announcer not opened anew", "instance", in.cfg.FSM.Name, "err", err)
			}
		}
		reopened = true
		d.log.Info("vrrp: interface made again; its socket opened anew", "interface", ifname, "index", index)
	}
	if reopened {
		d.refreshSources(ctx, now, ifname)
	}
}

// dropInst forgets a stopped instance and closes what it alone used.
func (d *Daemon) dropInst(in *inst) {
	in.stopGARP()
	in.ann.Close()
	if d.vrids[in.link][in.cfg.FSM.VRID] == in {
		delete(d.vrids[in.link], in.cfg.FSM.VRID)
	}
	if d.byName[in.cfg.FSM.Name] == in {
		delete(d.byName, in.cfg.FSM.Name)
	}
	d.insts = slices.DeleteFunc(d.insts, func(x *inst) bool { return x == in })
	d.closeIfUnused(in.link)
}

// closeIfUnused closes link l and forgets it when no instance is on it.
func (d *Daemon) closeIfUnused(l *link) {
	if len(d.vrids[l]) > 0 {
		return
	}
	for k, x := range d.links {
		if x == l {
			delete(d.links, k)
		}
	}
	delete(d.vrids, l)
	l.close()
}

// rebuildGroups makes the sync groups of d.cfg out of the running machines.
func (d *Daemon) rebuildGroups() {
	d.groups, d.groupOf = nil, map[*fsm.Machine]*fsm.Group{}
	for _, g := range d.cfg.Groups {
		fg := &fsm.Group{Name: g.Name}
		for _, mb := range g.Members {
			if in := d.byName[mb]; in != nil {
				fg.Members = append(fg.Members, in.m)
				d.groupOf[in.m] = fg
			}
		}
		d.groups = append(d.groups, fg)
	}
}

func (d *Daemon) setup() error {
	now := d.clk.Now()
	// Tracks known down before start (init_fail scripts) are applied first.
	for name, s := range d.cfg.Scripts {
		d.known[scriptKey(name)] = s.assumedUp()
	}
	// Each link's addresses are read once for all its instances (a
	// netlink dump each: 100 instances on one link read it 100 times).
	d.primaries = map[*link]primaryRead{}
	defer func() { d.primaries = nil }()
	for _, c := range d.cfg.Instances {
		in, err := d.newInst(c, now)
		if err != nil {
			return err
		}
		d.insts = append(d.insts, in)
	}
	d.rebuildGroups()
	return nil
}

// states returns every instance's state by name (event loop only).
func (d *Daemon) states() map[string]string {
	s := make(map[string]string, len(d.insts))
	for _, in := range d.insts {
		s[in.cfg.FSM.Name] = string(in.m.State())
	}
	return s
}

// publish stores what Instances, States and Tracked return to other
// goroutines, and calls OnState when any of it changed. It runs after
// every turn of the loop, one per advert sent or received, so it builds
// nothing when what it last stored still holds: a rebuild is a status per
// instance, and doing one every turn cost n² per advert interval.
func (d *Daemon) publish() {
	if prev := d.published.Load(); prev != nil && len(d.insts) > 0 && d.stillShown(prev) {
		return
	}
	out := make([]InstanceStatus, 0, len(d.cfg.Instances))
	if len(d.insts) == 0 {
		// Before Run: the configuration, in INIT.
		for _, c := range d.cfg.Instances {
			out = append(out, InstanceStatus{Name: c.FSM.Name, Interface: c.Interface, VRID: int(c.FSM.VRID),
				State: string(fsm.Init), Priority: c.FSM.Priority, EffectivePriority: c.FSM.Priority,
				Addresses: addressesOf(c, false)})
		}
	}
	// The kernel has what the states ask for once no reconcile is pending
	// or failing (settle ran before publish).
	settled := !d.dirty && d.retry.IsZero()
	for _, in := range d.insts {
		out = append(out, InstanceStatus{Name: in.cfg.FSM.Name, Interface: in.cfg.Interface, VRID: int(in.cfg.FSM.VRID),
			State: string(in.m.State()), Priority: in.cfg.FSM.Priority, EffectivePriority: in.m.Priority(),
			LastTransition: in.lastAt, LastReason: in.lastWhy,
			Addresses: addressesOf(in.cfg, settled && in.m.State() == fsm.Master), Tracks: tracksOf(in.m)})
	}
	next := &published{instances: out, tracked: d.tracked(), cfg: d.cfg}
	for _, in := range d.insts {
		next.of, next.changes = append(next.of, in.cfg), append(next.changes, in.m.Changes())
	}
	prev := d.published.Swap(next)
	if d.opt.OnState != nil && len(d.insts) > 0 && (prev == nil || !samePublished(prev, next)) {
		d.opt.OnState(d.states())
	}
}

// stillShown reports whether p shows what the loop holds now: the same
// configurations (a reload replaces them; addresses and tracked objects
// come from them), for each instance no change to its machine (state,
// priority, tracking), the same last transition and held addresses, and
// the tracked objects' states.
func (d *Daemon) stillShown(p *published) bool {
	if p.cfg != d.cfg || len(p.of) != len(d.insts) {
		return false
	}
	settled := !d.dirty && d.retry.IsZero()
	for i, in := range d.insts {
		s := &p.instances[i]
		if p.of[i] != in.cfg || p.changes[i] != in.m.Changes() || !s.LastTransition.Equal(in.lastAt) || s.LastReason != in.lastWhy ||
			len(s.Addresses) > 0 && s.Addresses[0].Held != (settled && in.m.State() == fsm.Master) {
			return false
		}
	}
	for _, o := range p.tracked {
		if o.Up != d.trackedUp(o.Kind, o.Name) {
			return false
		}
	}
	return true
}

// samePublished: the same instances (name, interface, VRID: a reload may
// replace one under its name) in the same states, effective priorities,
// tracking and held addresses, and the same tracked objects' states.
func samePublished(a, b *published) bool {
	return slices.Equal(a.tracked, b.tracked) && slices.EqualFunc(a.instances, b.instances, func(x, y InstanceStatus) bool {
		return x.Name == y.Name && x.Interface == y.Interface && x.VRID == y.VRID &&
			x.State == y.State && x.EffectivePriority == y.EffectivePriority &&
			slices.Equal(x.Tracks, y.Tracks) && slices.Equal(x.Addresses, y.Addresses)
	})
}

// Instances returns every running instance's state, priority, tracking and
// addresses, as of the event loop's last round. Safe from any goroutine;
// the slices it holds are never changed (each round publishes new ones).
func (d *Daemon) Instances() []InstanceStatus {
	return slices.Clone(d.published.Load().instances)
}

// Tracked returns the tracked scripts and interfaces with their states, as
// of the event loop's last round. Safe from any goroutine.
func (d *Daemon) Tracked() []TrackedObject {
	return slices.Clone(d.published.Load().tracked)
}

// States returns every instance's state by name. Safe from any goroutine.
func (d *Daemon) States() map[string]string {
	out := map[string]string{}
	for _, in := range d.published.Load().instances {
		out[in.Name] = in.State
	}
	return out
}

// Reload applies cfg to the running daemon as a diff (PlanReload): kept
// instances are not touched, changed ones take their new settings in place,
// replaced and removed ones stop as at shutdown, added ones start as at
// boot. It returns when done and published (Instances shows the result),
// which also makes it a round trip through the event loop; an error names
// the instances that could not start (the others run).
func (d *Daemon) Reload(ctx context.Context, cfg *Config) error {
	// Warnings were logged by whoever built cfg and checked it first.
	if err := CheckConfig(cfg); err != nil {
		return err
	}
	req := reloadReq{cfg: cfg, done: make(chan error, 1)}
	select {
	case d.reloadq <- req:
	case <-d.stopped:
		return errors.New("vrrpd: not running")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Daemon) startReader(l *link) {
	ctx, cancel := context.WithCancel(d.bg)
	l.stop = cancel
	d.wg.Add(1)
	conn := l.conn // the event loop may open the link anew (reopenStale)
	go func() { defer d.wg.Done(); d.readLoop(ctx, l, conn) }()
}

// startLinks (re)starts the link watcher for d.cfg.Links: their state
// (tracks) and their addresses (instances' sources).
func (d *Daemon) startLinks() {
	ctx, gen := d.restart(linkWatcher)
	names := slices.Clone(d.cfg.Links)
	d.wg.Add(2)
	go func() {
		defer d.wg.Done()
		d.net.WatchLinks(ctx, names, func(s LinkState) {
			send(ctx, d.track, trackEvent{key: interfaceKey(s.Name), up: s.Up, reason: s.Reason, index: s.Index, from: linkWatcher, gen: gen})
		})
	}()
	go func() {
		defer d.wg.Done()
		d.net.WatchAddrs(ctx, names, func(ifname string) { send(ctx, d.addrs, addrEvent{link: ifname, gen: gen}) })
	}()
}

// startScript (re)starts a script's runner with a fresh state, as at boot.
func (d *Daemon) startScript(s *ScriptConfig) {
	w := watcher{script: s.Name}
	ctx, gen := d.restart(w)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		runScript(ctx, d.clk, s, func(ev trackEvent) {
			ev.from, ev.gen = w, gen
			send(ctx, d.track, ev)
		}, d.log)
	}()
}

// restart stops watcher w, if running, and returns the context and the
// generation of its next run.
func (d *Daemon) restart(w watcher) (context.Context, uint64) {
	d.stopWatcher(w)
	ctx, cancel := context.WithCancel(d.bg)
	d.stopers[w] = cancel
	return ctx, d.gens[w]
}

// stopWatcher stops w; whatever it still sends is stale.
func (d *Daemon) stopWatcher(w watcher) {
	if stop := d.stopers[w]; stop != nil {
		stop()
		delete(d.stopers, w)
	}
	d.gens[w]++
}

// Run runs until ctx is cancelled, then shuts down cleanly: masters send
// priority 0, addresses are released, notify_stop runs. It returns nil on a
// clean stop.
//
// Each turn of the event loop takes one input (a packet, a tracking event,
// a reload, a timer), first does what fell due on the clock (machines'
// timers, source retries), then the input, then one reconcile (settle),
// then publishes the result.
func (d *Daemon) Run(ctx context.Context) error {
	defer close(d.stopped)
	if err := d.start(ctx); err != nil {
		return err
	}
	// Closing the sockets is what unblocks the read loops: close them
	// before waiting for the goroutines.
	defer func() { d.stopBG(); d.closeAll(); d.wg.Wait() }()
	timer := d.clk.NewTimer(time.Hour)
	defer timer.Stop()
	// The loop turns at least every beatEvery, idle or not, so that Alive
	// tells a stuck loop from a quiet one.
	beat := d.clk.NewTicker(beatEvery)
	defer beat.Stop()
	for {
		d.beat.Store(d.clk.Now().UnixNano())
		d.resetTimer(timer)
		var input any
		select {
		case <-ctx.Done():
			d.shutdown()
			d.promote.restore(d.log)
			// The stop's scripts (and any still queued) get
			// stopNotifyBudget in all, so that the stop ends well
			// within 5 s; then they are killed.
			d.notifyq.Close(stopNotifyBudget)
			d.publish()
			return nil
		case <-beat.C():
		case <-timer.C():
		case input = <-d.rx:
		case input = <-d.track:
		case input = <-d.addrs:
		case input = <-d.reloadq:
		}
		now := d.clk.Now()
		d.due(ctx, now)
		reply := d.handle(ctx, now, input)
		d.settle(ctx)
		d.publish()
		if reply != nil {
			reply()
		}
	}
}

// start opens the instances' links, releases stale addresses, starts the
// readers, watchers and scripts, and starts the machines.
func (d *Daemon) start(ctx context.Context) error {
	if err := d.setup(); err != nil {
		d.closeAll()
		return err
	}
	d.publish()
	d.promote.set(d.cfg.Instances, d.log)
	// Stale addresses of ours go before anything else: nothing is master.
	// A kernel error is no reason to stop (the reconciler retries it, and
	// so does settle): the instances must still advertise and take over.
	if err := d.opt.Reconciler.Reconcile(ctx, d.states()); err != nil {
		d.log.Error("initial reconcile failed; retrying in 1s", "err", err)
		d.retry = d.clk.Now().Add(time.Second)
	}
	d.bg, d.stopBG = context.WithCancel(context.Background())
	for _, l := range d.links {
		d.startReader(l)
	}
	d.startLinks()
	for _, s := range d.cfg.Scripts {
		d.startScript(s)
	}
	if d.opt.StatsFile != "" {
		d.wg.Add(1)
		go func() { defer d.wg.Done(); d.writeStats(d.bg) }()
	}
	now := d.clk.Now()
	for _, in := range d.insts {
		d.apply(ctx, in, in.m.Start(now))
	}
	d.settle(ctx)
	d.publish()
	if d.opt.OnStarted != nil {
		d.opt.OnStarted()
	}
	return nil
}

func (d *Daemon) closeAll() {
	for _, l := range d.links {
		l.close()
	}
	for _, in := range d.insts {
		in.ann.Close()
	}
}

// due does what fell due by now: the machines' timers, the links'
// address retries and the masters' announcements.
func (d *Daemon) due(ctx context.Context, now time.Time) {
	d.retrySources(ctx, now)
	for _, in := range d.insts {
		if dl := in.m.Deadline(); !dl.IsZero() && !now.Before(dl) {
			d.apply(ctx, in, in.m.Tick(now))
		}
		if in.garp != nil && !now.Before(in.garp.next) {
			d.garpDue(in, now)
		}
	}
}

// handle takes one input of the event loop. For a reload it returns the
// reply, which the loop sends once the round is settled and published.
func (d *Daemon) handle(ctx context.Context, now time.Time, input any) (reply func()) {
	switch in := input.(type) {
	case rxPacket:
		d.receive(ctx, now, in.l, in.r)
	case trackEvent:
		if in.gen == d.gens[in.from] { // else from a watcher a reload stopped
			d.onTrack(ctx, now, in)
		}
	case addrEvent:
		for _, link := range d.pendingAddrLinks(in) {
			d.refreshSources(ctx, now, link)
		}
	case reloadReq:
		err := d.reload(ctx, in.cfg)
		return func() { in.done <- err }
	}
	return nil
}

// pendingAddrLinks is the links of first and of every address event
// already queued behind it, each once, from the current watcher: a
// reconcile adding 100 VIPs queues 100 events, and a read of a link's
// addresses per event (each a dump of the namespace's) was most of what
// 100 instances allocated at start.
func (d *Daemon) pendingAddrLinks(first addrEvent) []string {
	var links []string
	take := func(ev addrEvent) {
		if ev.gen == d.gens[linkWatcher] && !slices.Contains(links, ev.link) {
			links = append(links, ev.link)
		}
	}
	take(first)
	for {
		select {
		case ev := <-d.addrs:
			take(ev)
		default:
			return links
		}
	}
}

func (d *Daemon) resetTimer(t clock.Timer) {
	var next time.Time
	for _, in := range d.insts {
		if dl := in.m.Deadline(); !dl.IsZero() && (next.IsZero() || dl.Before(next)) {
			next = dl
		}
		if in.garp != nil && (next.IsZero() || in.garp.next.Before(next)) {
			next = in.garp.next
		}
	}
	if !d.retry.IsZero() && (next.IsZero() || d.retry.Before(next)) {
		next = d.retry
	}
	for _, at := range d.srcRetry {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	wait := time.Hour
	if !next.IsZero() {
		wait = max(next.Sub(d.clk.Now()), 0)
	}
	t.Reset(wait)
}

// countedDrops are the state machine's drops that are invalid packets;
// the others ("lower priority, preempting", "not running") are valid
// adverts the protocol ignores, counted as received only.
var countedDrops = map[string]bool{"own": true, "interval": true}

// apply carries out a machine's effects, except the reconcile and GARP,
// which settle does once per round.
func (d *Daemon) apply(ctx context.Context, in *inst, effs []fsm.Effect) {
	if d.groupOf[in.m] != nil {
		// A transition makes the sync group follow, which calls the other
		// members' machines, and their following may call this one's,
		// whose buffer effs is: copied first.
		effs = slices.Clone(effs)
	}
	for _, e := range effs {
		switch e := e.(type) {
		case fsm.SendAdvert:
			d.sendAdvert(in, e)
		case fsm.Transition:
			d.log.Info("vrrp transition", "instance", in.cfg.FSM.Name, "from", e.From, "to", e.To, "priority", e.Priority, "reason", e.Reason)
			d.Counters.inc(in.key, "transitions")
			now := d.clk.Now()
			in.lastAt, in.lastWhy = now, e.Reason
			if e.From == fsm.Master {
				in.stopGARP()
			}
			if g := d.groupOf[in.m]; g != nil {
				for m, fe := range g.Follow(now, in.m, e) {
					d.apply(ctx, d.byName[m.Config().Name], fe)
				}
			}
		case fsm.AddAddresses, fsm.RemoveAddresses:
			d.dirty = true
		case fsm.SendGARP:
			in.pending = true
		case fsm.Notify:
			d.notify(in, e)
		case fsm.Drop:
			if countedDrops[e.Reason] {
				d.Counters.inc(in.key, "drop_"+e.Reason)
			} else {
				d.log.Debug("advertisement ignored", "instance", in.cfg.FSM.Name, "reason", e.Reason)
			}
		}
	}
}

// settle reconciles once after a round of effects, then announces the new
// masters' addresses — only once they are on the interface. A failed
// reconcile is tried again a second later.
func (d *Daemon) settle(ctx context.Context) {
	now := d.clk.Now()
	if !d.dirty && (d.retry.IsZero() || now.Before(d.retry)) {
		return
	}
	if d.dirty || !d.retry.IsZero() {
		if err := d.opt.Reconciler.Reconcile(ctx, d.states()); err != nil {
			d.log.Error("reconcile failed; retrying in 1s", "err", err)
			d.retry = now.Add(time.Second)
			return
		}
		d.dirty, d.retry = false, time.Time{}
	}
	for _, in := range d.insts {
		if in.pending && in.m.State() == fsm.Master {
			in.pending = false
			d.startGARP(in, now, true)
		}
	}
}

// startGARP (re)starts in's announcements from now: the whole schedule
// (initial, a new master: its first burst at once) or only the periodic
// refresh.
func (d *Daemon) startGARP(in *inst, now time.Time, initial bool) {
	c := in.cfg
	in.garp = nil
	if initial {
		d.announce(in, max(c.GarpRepeat, 1))
		if c.GarpDelay > 0 {
			in.garp = &garpTimer{next: now.Add(c.GarpDelay), delayed: true}
			return
		}
	}
	in.garp = refreshAfter(c, now, now)
}

// stopGARP ends in's announcements, if any are due.
func (in *inst) stopGARP() { in.garp = nil }

// garpTimer is an instance's next announcement, on keepalived's schedule:
// garp_master_repeat at once, the same again after garp_master_delay (both
// for a new master only), then garp_master_refresh_repeat every
// garp_master_refresh while master. The event loop keeps it with the
// machines' timers, so that many masters wait on one timer, not on a
// goroutine (and its stack) each.
type garpTimer struct {
	next    time.Time
	delayed bool // next is a new master's second burst
}

// refreshAfter is the first refresh after from, skipping the rounds
// missed by now (a busy machine), as a ticker does; nil: no refresh.
func refreshAfter(c *Instance, from, now time.Time) *garpTimer {
	if c.GarpRefresh <= 0 {
		return nil
	}
	next := from.Add(c.GarpRefresh)
	for next.Before(now) {
		next = next.Add(c.GarpRefresh)
	}
	return &garpTimer{next: next}
}

// garpDue sends in's announcements that fell due and schedules the next.
func (d *Daemon) garpDue(in *inst, now time.Time) {
	g := in.garp
	n := in.cfg.GarpRefreshRepeat
	if g.delayed {
		n = in.cfg.GarpRepeat
	}
	d.announce(in, n)
	in.garp = refreshAfter(in.cfg, g.next, now)
}

// announce sends n gratuitous ARPs / unsolicited NAs for in's addresses;
// a failure ends the burst (the next one tries again).
func (d *Daemon) announce(in *inst, n int) {
	d.announceBuf = append(append(d.announceBuf[:0], in.cfg.Addrs...), in.cfg.Excluded...)
	addrs := d.announceBuf
	for range n {
		if err := in.ann.Announce(addrs); err != nil {
			d.log.Warn("gratuitous ARP/NA failed", "instance", in.cfg.FSM.Name, "err", err)
			return
		}
		d.Counters.inc(in.key, "garp_sent")
	}
}

// sleepUntil waits on the clock until at; false if ctx ended first.
func (d *Daemon) sleepUntil(ctx context.Context, at time.Time) bool {
	t := d.clk.NewTimer(at.Sub(d.clk.Now()))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

func (d *Daemon) sendAdvert(in *inst, e fsm.SendAdvert) {
	p := &packet.Packet{Version: in.cfg.FSM.Version, VRID: in.cfg.FSM.VRID, Priority: uint8(e.Priority), Interval: e.Interval, Addrs: in.cfg.Addrs}
	if in.cfg.AuthPass != "" {
		p.AuthType, p.AuthData = packet.AuthPass, packet.PassData(in.cfg.AuthPass)
	}
	dsts := in.cfg.UnicastPeers
	if len(dsts) == 0 {
		dsts = []netip.Addr{packet.Group4}
		if in.cfg.V6 {
			dsts = []netip.Addr{packet.Group6}
		}
	}
	for _, dst := range dsts {
		b, err := packet.Append(d.advertBuf[:0], p, in.src, dst)
		if err == nil {
			d.advertBuf = b
			err = in.link.conn.Send(b, in.src, dst)
		}
		if err != nil {
			d.Counters.inc(in.key, "send_errors")
			d.log.Warn("send advertisement failed", "instance", in.cfg.FSM.Name, "dst", dst, "err", err)
			continue
		}
		d.Counters.inc(in.key, "adverts_sent")
		if e.Priority == 0 {
			d.Counters.inc(in.key, "priority_zero_sent")
		}
	}
}

// maxPacket holds the largest VRRP packet with room to spare: 255 IPv6
// addresses make 4,088 bytes, and an IPv4 raw socket reads a header of
// at most 60 bytes more. A longer datagram is cut short, and the
// validation drops it.
const maxPacket = 8 << 10

// readLoop reads one link's packets and hands them to the event loop,
// which validates them: everything hostile is dropped and counted there,
// before any state machine sees it.
func (d *Daemon) readLoop(ctx context.Context, l *link, conn Link) {
	buf := make([]byte, maxPacket)
	for ctx.Err() == nil {
		r, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Debug("read", "err", err)
				d.sleepUntil(ctx, d.clk.Now().Add(10*time.Millisecond))
			}
			continue
		}
		r.Data = slices.Clone(r.Data)
		select {
		case d.rx <- rxPacket{l: l, r: r}:
		case <-ctx.Done():
		}
	}
}

// receive validates a packet and feeds a good advert to its instance.
func (d *Daemon) receive(ctx context.Context, now time.Time, l *link, r Received) {
	if d.vrids[l] == nil {
		return // the link was closed by a reload
	}
	in, p, reason := d.validate(l, r)
	key := CounterKey{Interface: l.name}
	if in != nil {
		key = in.key
	} else if len(r.Data) >= 2 {
		key.VRID = int(r.Data[1])
	}
	if reason != "" {
		d.Counters.inc(key, "drop_"+reason)
		d.log.Debug("dropped advertisement", "interface", l.name, "src", r.Src, "reason", reason, "instance", key.Name)
		return
	}
	effs := in.m.Receive(now, fsm.Advert{Src: r.Src, Priority: int(p.Priority), Interval: p.Interval})
	// An advert the state machine refuses as invalid (a v2 interval that
	// differs) is counted as that drop by apply, not as received.
	if !invalidDrop(effs) {
		d.Counters.inc(key, "adverts_received")
		if p.Priority == 0 {
			d.Counters.inc(key, "priority_zero_received")
		}
	}
	d.apply(ctx, in, effs)
}

// invalidDrop reports whether effs drop the advert as invalid (a drop
// counted under its reason).
func invalidDrop(effs []fsm.Effect) bool {
	for _, e := range effs {
		if drop, ok := e.(fsm.Drop); ok && countedDrops[drop.Reason] {
			return true
		}
	}
	return false
}

// validate returns the instance a packet is for and the packet, or a drop
// reason. The instance is known, even for a drop, as soon as the packet's
// VRID byte names one on this link (keepalived's per-instance error
// counters work the same way); then every error is counted against it.
func (d *Daemon) validate(l *link, r Received) (*inst, *packet.Packet, string) {
	var in *inst
	if len(r.Data) >= 2 {
		in = d.vrids[l][r.Data[1]]
	}
	if r.TTL != packet.TTL {
		return in, nil, "ttl"
	}
	if !r.Dst.IsValid() {
		return in, nil, "no_destination"
	}
	// The instance's version decides the layout (a v2 packet carries 8
	// bytes of authentication data a v3 one has not): a packet of the
	// other version is that, not a length that lies about its count.
	if in != nil && len(r.Data) >= 1 && int(r.Data[0]>>4) != in.cfg.FSM.Version {
		return in, nil, "version"
	}
	p, err := packet.Parse(r.Data, r.Src, r.Dst)
	switch {
	case errors.Is(err, packet.ErrTruncated):
		return in, nil, "truncated"
	case errors.Is(err, packet.ErrVersion):
		return in, nil, "version"
	case errors.Is(err, packet.ErrType):
		return in, nil, "type"
	case errors.Is(err, packet.ErrChecksum):
		return in, nil, "checksum"
	case errors.Is(err, packet.ErrCount):
		return in, nil, "address_count"
	case err != nil:
		return in, nil, "invalid"
	}
	if in == nil {
		return nil, nil, "vrid"
	}
	if r.Src == in.src || l.isLocal(r.Src) {
		return in, nil, "own"
	}
	if len(in.cfg.UnicastPeers) > 0 && !slices.Contains(in.cfg.UnicastPeers, r.Src) {
		return in, nil, "unknown_peer"
	}
	if p.Version == 2 && !p.PassMatches(in.cfg.AuthPass) {
		return in, nil, "auth"
	}
	// An advert without addresses is right only for an instance without
	// any (keepalived runs VRRPv2 instances so).
	if len(p.Addrs) == 0 && len(in.cfg.Addrs) > 0 {
		return in, nil, "address_count"
	}
	return in, p, ""
}

func (d *Daemon) shutdown() {
	now := d.clk.Now()
	for _, in := range d.insts {
		d.apply(context.Background(), in, in.m.Shutdown(now))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.opt.Reconciler.Reconcile(ctx, d.states()); err != nil {
		d.log.Error("releasing addresses at stop failed", "err", err)
	}
	d.dirty = false
	for _, in := range d.insts {
		in.stopGARP()
	}
}

// notify queues the instance's scripts (and its sync group's, once the
// whole group is in the state) with keepalived's arguments.
func (d *Daemon) notify(in *inst, e fsm.Notify) {
	n := in.cfg.Notify
	prio := strconv.Itoa(e.Priority)
	d.queueNotify(n, "INSTANCE", in.cfg.FSM.Name, string(e.State), prio)
	g := d.groupOf[in.m]
	if g == nil {
		return
	}
	for _, m := range g.Members {
		if m.State() != e.State {
			return
		}
	}
	for _, mg := range d.cfg.Groups {
		if mg.Name == g.Name {
			d.queueNotify(mg.Notify, "GROUP", g.Name, string(e.State), prio)
		}
	}
}

func (d *Daemon) queueNotify(n Notify, kind, name, state, prio string) {
	j := scriptq.Job{Key: kind + " " + name, Kind: "notify"}
	var specific string
	switch state {
	case "MASTER":
		specific = n.Master
	case "BACKUP":
		specific = n.Backup
	case "FAULT":
		specific = n.Fault
	case "STOP":
		specific = n.Stop
	}
	if specific != "" {
		j.Argvs = append(j.Argvs, []string{"/bin/sh", "-c", specific})
	}
	if n.Any != "" {
		// keepalived appends: INSTANCE|GROUP name state priority.
		j.Argvs = append(j.Argvs, []string{"/bin/sh", "-c", n.Any + ` "$@"`, "notify", kind, name, state, prio})
	}
	if len(j.Argvs) > 0 {
		d.notifyq.Push(j)
	}
}

// notifyTimeout bounds one notify script: one instance's run one at a
// time (in transition order), so a hanging one holds that instance's later
// scripts (never the event loop: the queue drops its oldest when full).
// stopNotifyBudget bounds all of them from the stop on, so that a stop
// ends within 5 s whatever the scripts do (keepalived gives a script at
// shutdown 1 s).
const (
	notifyTimeout    = 30 * time.Second
	stopNotifyBudget = 3 * time.Second
)

// runNotify runs one notify script (the queue's runner): killed with its
// process group at notifyTimeout or when the stop budget is spent.
func (d *Daemon) runNotify(ctx context.Context, argv []string) {
	out, err := script.Run(ctx, argv, script.Options{Timeout: notifyTimeout, User: d.scriptUser.Load()})
	if err != nil {
		d.log.Warn("notify script failed", "script", argv[2], "err", err, "output", strings.TrimSpace(out))
	}
}

// ScriptsDropped returns how many notify jobs (one transition's scripts)
// the queue dropped, by kind: coalesced on overflow, or abandoned at stop.
func (d *Daemon) ScriptsDropped() map[string]uint64 { return d.notifyq.Dropped() }

// beatEvery is how often the event loop turns at least; Alive's maxAge
// needs a margin over it.
const beatEvery = time.Second

// Alive reports whether the event loop turned within maxAge: false while
// it is stuck (or before Run), whatever else in the process still turns.
func (d *Daemon) Alive(maxAge time.Duration) bool {
	b := d.beat.Load()
	return b != 0 && clock.Since(d.clk, time.Unix(0, b)) < maxAge
}

// writeStats rewrites the stats file whenever the counters changed, at
// most every 100 ms. The file may lie in a directory others can write:
// safefile.WriteFile never writes through their links. A failure is
// logged when it differs from the last one, not every 100 ms.
func (d *Daemon) writeStats(ctx context.Context) {
	var last uint64 = ^uint64(0)
	var lastErr string
	t := d.clk.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if g := d.Counters.gen.Load(); g != last {
			b, _ := json.Marshal(d.Counters.Snapshot())
			err := safefile.WriteFile(d.opt.StatsFile, b, 0o644)
			if err == nil {
				last = g // a failed write is tried again at the next tick
			}
			if err != nil && err.Error() != lastErr {
				d.log.Error("stats file not written", "err", err)
			}
			lastErr = ""
			if err != nil {
				lastErr = err.Error()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

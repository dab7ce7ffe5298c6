package vrrpd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbx-dev/lbx/model"
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
	// StatsFile, if set, receives the counters as JSON whenever they
	// change (at most every 100 ms).
	StatsFile string
	// OnState, if set, is called after every transition (after the
	// reconcile) — the seam for the watch loop's other engines.
	OnState func(states map[string]string)
}

// Counters are the daemon's per-reason drop and event counts.
type Counters struct {
	mu  sync.Mutex
	m   map[string]uint64
	gen atomic.Uint64
}

func (c *Counters) inc(k string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]uint64{}
	}
	c.m[k]++
	c.mu.Unlock()
	c.gen.Add(1)
}

// Snapshot returns a copy of the counters.
func (c *Counters) Snapshot() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]uint64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

type inst struct {
	cfg     *Instance
	m       *fsm.Machine
	link    *link
	src     netip.Addr
	ann     *announcer
	garp    context.CancelFunc
	pending bool // wants GARP after the next reconcile
}

type rxEvent struct {
	in *inst
	a  fsm.Advert
}

// Daemon runs a set of virtual routers.
type Daemon struct {
	cfg      *Config
	opt      Options
	log      *slog.Logger
	Counters Counters
	insts    []*inst
	byName   map[string]*inst
	groups   []*fsm.Group
	groupOf  map[*fsm.Machine]*fsm.Group
	links    map[string]*link
	vrids    map[*link]map[uint8]*inst
	rx       chan rxEvent
	track    chan trackEvent
	notifyq  chan []string
	dirty    bool
	retry    time.Time
}

// New checks the configuration (scripts, sockets are opened by Run).
func New(cfg *Config, opt Options) (*Daemon, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Reconciler == nil {
		return nil, errors.New("vrrpd: no Reconciler")
	}
	d := &Daemon{cfg: cfg, opt: opt, log: opt.Log, byName: map[string]*inst{}, groupOf: map[*fsm.Machine]*fsm.Group{},
		links: map[string]*link{}, vrids: map[*link]map[uint8]*inst{},
		rx: make(chan rxEvent, 256), track: make(chan trackEvent, 64), notifyq: make(chan []string, 256)}
	var cmds []string
	for _, s := range cfg.Scripts {
		cmds = append(cmds, s.Command)
	}
	for _, in := range cfg.Instances {
		n := in.Notify
		cmds = append(cmds, n.Master, n.Backup, n.Fault, n.Stop, n.Any)
	}
	for _, g := range cfg.Groups {
		n := g.Notify
		cmds = append(cmds, n.Master, n.Backup, n.Fault, n.Stop, n.Any)
	}
	for _, c := range cmds {
		if c == "" {
			continue
		}
		if err := CheckScript(c); err != nil {
			if cfg.ScriptSecurity {
				return nil, fmt.Errorf("script %q refused: %v; make it and its directories owned by root and not writable by others", c, err)
			}
			d.log.Warn("script is unsafe; set enable_script_security to refuse it", "script", c, "err", err)
		}
	}
	return d, nil
}

func linkKey(ifname string, v6 bool) string { return ifname + "/" + strconv.FormatBool(v6) }

func (d *Daemon) setup() error {
	for _, c := range d.cfg.Instances {
		k := linkKey(c.Interface, c.V6)
		l := d.links[k]
		if l == nil {
			var err error
			if l, err = openLink(c.Interface, c.V6, true); err != nil {
				return fmt.Errorf("vrrp_instance %s: %w", c.FSM.Name, err)
			}
			d.links[k] = l
			d.vrids[l] = map[uint8]*inst{}
		}
		if prev := d.vrids[l][c.FSM.VRID]; prev != nil {
			return fmt.Errorf("vrrp_instance %s: VRID %d on %s is already used by %s", c.FSM.Name, c.FSM.VRID, c.Interface, prev.cfg.FSM.Name)
		}
		src := c.UnicastSrc
		if !src.IsValid() {
			src = c.McastSrc
		}
		if !src.IsValid() {
			var err error
			if src, err = l.primary(); err != nil {
				return fmt.Errorf("vrrp_instance %s: %w", c.FSM.Name, err)
			}
		}
		fc := c.FSM
		fc.Primary = src
		ann, err := newAnnouncer(c.Interface, c.V6, src)
		if err != nil {
			return fmt.Errorf("vrrp_instance %s: %w", c.FSM.Name, err)
		}
		in := &inst{cfg: c, m: fsm.New(fc), link: l, src: src, ann: ann}
		d.vrids[l][c.FSM.VRID] = in
		d.insts = append(d.insts, in)
		d.byName[fc.Name] = in
	}
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
	return nil
}

// States returns every instance's state by name.
func (d *Daemon) States() map[string]string {
	s := make(map[string]string, len(d.insts))
	for _, in := range d.insts {
		s[in.cfg.FSM.Name] = string(in.m.State())
	}
	return s
}

// Run runs until ctx is cancelled, then shuts down cleanly: masters send
// priority 0, addresses are released, notify_stop runs. It returns nil on a
// clean stop.
func (d *Daemon) Run(ctx context.Context) error {
	closeAll := func() {
		for _, l := range d.links {
			l.conn.Close()
		}
		for _, in := range d.insts {
			in.ann.Close()
		}
	}
	if err := d.setup(); err != nil {
		closeAll()
		return err
	}
	// Stale addresses of ours go before anything else: nothing is master.
	if err := d.opt.Reconciler.Reconcile(ctx, d.States()); err != nil {
		closeAll()
		return fmt.Errorf("initial reconcile: %w", err)
	}
	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	// Closing the sockets is what unblocks the read loops: close them
	// before waiting for the goroutines.
	defer func() { stopBG(); closeAll(); wg.Wait() }()
	for _, l := range d.links {
		wg.Add(1)
		go func() { defer wg.Done(); d.readLoop(bg, l) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); watchLinks(bg, d.cfg.Links, d.track, d.log) }()
	for _, s := range d.cfg.Scripts {
		wg.Add(1)
		go func() { defer wg.Done(); runScript(bg, s, d.track, d.log) }()
	}
	notifyDone := make(chan struct{})
	go func() { defer close(notifyDone); d.notifier() }()
	if d.opt.StatsFile != "" {
		wg.Add(1)
		go func() { defer wg.Done(); d.writeStats(bg) }()
	}
	// Tracks known down before start (init_fail scripts) are applied first.
	now := time.Now()
	for _, in := range d.insts {
		for _, t := range in.cfg.FSM.Tracks {
			if s := d.cfg.Scripts[t.Key[len("script "):]]; len(t.Key) > 7 && t.Key[:7] == "script " && s != nil && s.InitFail != s.Reverse {
				in.m.SetTrack(now, t.Key, false)
			}
		}
	}
	for _, in := range d.insts {
		d.apply(ctx, in, in.m.Start(now))
	}
	d.settle(ctx)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.resetTimer(timer)
		select {
		case <-ctx.Done():
			d.shutdown()
			close(d.notifyq)
			<-notifyDone
			return nil
		case ev := <-d.rx:
			d.apply(ctx, ev.in, ev.in.m.Receive(time.Now(), ev.a))
		case ev := <-d.track:
			d.log.Info("tracking", "object", ev.key, "up", ev.up, "reason", ev.reason)
			now := time.Now()
			for _, in := range d.insts {
				d.apply(ctx, in, in.m.SetTrack(now, ev.key, ev.up))
			}
		case <-timer.C:
			now := time.Now()
			for _, in := range d.insts {
				if dl := in.m.Deadline(); !dl.IsZero() && !now.Before(dl) {
					d.apply(ctx, in, in.m.Tick(now))
				}
			}
		}
		d.settle(ctx)
	}
}

func (d *Daemon) resetTimer(t *time.Timer) {
	var next time.Time
	for _, in := range d.insts {
		if dl := in.m.Deadline(); !dl.IsZero() && (next.IsZero() || dl.Before(next)) {
			next = dl
		}
	}
	if !d.retry.IsZero() && (next.IsZero() || d.retry.Before(next)) {
		next = d.retry
	}
	wait := time.Hour
	if !next.IsZero() {
		wait = max(time.Until(next), 0)
	}
	t.Reset(wait)
}

// apply carries out a machine's effects, except the reconcile and GARP,
// which settle does once per round.
func (d *Daemon) apply(ctx context.Context, in *inst, effs []fsm.Effect) {
	for _, e := range effs {
		switch e := e.(type) {
		case fsm.SendAdvert:
			d.sendAdvert(in, e)
		case fsm.Transition:
			d.log.Info("vrrp transition", "instance", in.cfg.FSM.Name, "from", e.From, "to", e.To, "priority", e.Priority, "reason", e.Reason)
			d.Counters.inc("transitions")
			if e.From == fsm.Master && in.garp != nil {
				in.garp()
				in.garp = nil
			}
			if g := d.groupOf[in.m]; g != nil {
				for m, fe := range g.Follow(time.Now(), in.m, e) {
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
			d.Counters.inc("drop_" + e.Reason)
		}
	}
}

// settle reconciles once after a round of effects, then announces the new
// masters' addresses — only once they are on the interface.
func (d *Daemon) settle(ctx context.Context) {
	if !d.dirty && (d.retry.IsZero() || time.Now().Before(d.retry)) {
		return
	}
	if d.dirty || !d.retry.IsZero() {
		if err := d.opt.Reconciler.Reconcile(ctx, d.States()); err != nil {
			d.log.Error("reconcile failed; retrying in 1s", "err", err)
			d.retry = time.Now().Add(time.Second)
			return
		}
		d.dirty, d.retry = false, time.Time{}
		if d.opt.OnState != nil {
			d.opt.OnState(d.States())
		}
	}
	for _, in := range d.insts {
		if in.pending && in.m.State() == fsm.Master {
			in.pending = false
			if in.garp != nil {
				in.garp()
			}
			gctx, cancel := context.WithCancel(context.Background())
			in.garp = cancel
			go d.garpSchedule(gctx, in)
		}
	}
}

// garpSchedule follows keepalived: garp_master_repeat announcements at
// once, the same again after garp_master_delay, then
// garp_master_refresh_repeat every garp_master_refresh while master.
func (d *Daemon) garpSchedule(ctx context.Context, in *inst) {
	addrs := append(append([]netip.Addr(nil), in.cfg.Addrs...), in.cfg.Excluded...)
	burst := func(n int) {
		for i := 0; i < n && ctx.Err() == nil; i++ {
			if err := in.ann.announce(addrs); err != nil {
				d.log.Warn("gratuitous ARP/NA failed", "instance", in.cfg.FSM.Name, "err", err)
				return
			}
			d.Counters.inc("garp_sent")
		}
	}
	burst(max(in.cfg.GarpRepeat, 1))
	if in.cfg.GarpDelay > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(in.cfg.GarpDelay):
		}
		burst(in.cfg.GarpRepeat)
	}
	if in.cfg.GarpRefresh <= 0 {
		return
	}
	t := time.NewTicker(in.cfg.GarpRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			burst(in.cfg.GarpRefreshRepeat)
		}
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
		b, err := packet.Marshal(p, in.src, dst)
		if err == nil {
			err = in.link.send(b, in.src, dst)
		}
		if err != nil {
			d.Counters.inc("send_errors")
			d.log.Warn("send advertisement failed", "instance", in.cfg.FSM.Name, "dst", dst, "err", err)
			continue
		}
		d.Counters.inc("adverts_sent")
	}
}

// readLoop validates packets of one link and passes good adverts to the
// event loop. Everything hostile is dropped and counted here, so that it
// can never reach a state machine.
func (d *Daemon) readLoop(ctx context.Context, l *link) {
	buf := make([]byte, 65536)
	for ctx.Err() == nil {
		r, err := l.read(buf)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Debug("read", "err", err)
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		in, p, reason := d.validate(l, r)
		if reason != "" {
			d.Counters.inc("drop_" + reason)
			d.log.Debug("dropped advertisement", "interface", l.ifi.Name, "src", r.src, "reason", reason)
			continue
		}
		d.Counters.inc("adverts_received")
		select {
		case d.rx <- rxEvent{in: in, a: fsm.Advert{Src: r.src, Priority: int(p.Priority), Interval: p.Interval}}:
		case <-ctx.Done():
		}
	}
}

// validate returns the instance a packet is for, or a drop reason.
func (d *Daemon) validate(l *link, r received) (*inst, *packet.Packet, string) {
	if r.ttl != packet.TTL {
		return nil, nil, "ttl"
	}
	if !r.dst.IsValid() {
		return nil, nil, "no_destination"
	}
	p, err := packet.Parse(r.b, r.src, r.dst)
	switch {
	case errors.Is(err, packet.ErrTruncated):
		return nil, nil, "truncated"
	case errors.Is(err, packet.ErrVersion):
		return nil, nil, "version"
	case errors.Is(err, packet.ErrType):
		return nil, nil, "type"
	case errors.Is(err, packet.ErrChecksum):
		return nil, nil, "checksum"
	case errors.Is(err, packet.ErrCount):
		return nil, nil, "address_count"
	case err != nil:
		return nil, nil, "invalid"
	}
	in := d.vrids[l][p.VRID]
	if in == nil {
		return nil, nil, "vrid"
	}
	if p.Version != in.cfg.FSM.Version {
		return nil, nil, "version"
	}
	if r.src == in.src || l.isLocal(r.src) {
		return nil, nil, "own"
	}
	if len(in.cfg.UnicastPeers) > 0 {
		known := false
		for _, pr := range in.cfg.UnicastPeers {
			known = known || pr == r.src
		}
		if !known {
			return nil, nil, "unknown_peer"
		}
	}
	if p.Version == 2 && !p.PassMatches(in.cfg.AuthPass) {
		return nil, nil, "auth"
	}
	return in, p, ""
}

func (d *Daemon) shutdown() {
	now := time.Now()
	for _, in := range d.insts {
		d.apply(context.Background(), in, in.m.Shutdown(now))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.opt.Reconciler.Reconcile(ctx, d.States()); err != nil {
		d.log.Error("releasing addresses at stop failed", "err", err)
	}
	d.dirty = false
	for _, in := range d.insts {
		if in.garp != nil {
			in.garp()
		}
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

func (d *Daemon) queueNotify(n model.Notify, kind, name, state, prio string) {
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
		d.notifyq <- []string{"/bin/sh", "-c", specific}
	}
	if n.Any != "" {
		// keepalived appends: INSTANCE|GROUP name state priority.
		d.notifyq <- []string{"/bin/sh", "-c", n.Any + ` "$@"`, "notify", kind, name, state, prio}
	}
}

// notifier runs notify scripts one at a time, in transition order.
func (d *Daemon) notifier() {
	for argv := range d.notifyq {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			d.log.Warn("notify script failed", "script", argv[2], "err", err)
		}
	}
}

func (d *Daemon) writeStats(ctx context.Context) {
	var last uint64 = ^uint64(0)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if g := d.Counters.gen.Load(); g != last {
			last = g
			snap := d.Counters.Snapshot()
			b, _ := json.Marshal(snap)
			tmp := d.opt.StatsFile + ".tmp"
			if os.WriteFile(tmp, b, 0o644) == nil {
				_ = os.Rename(tmp, d.opt.StatsFile)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

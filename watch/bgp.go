package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/lbx-dev/lbx/announce"
	"github.com/lbx-dev/lbx/bgpspeaker"
	"github.com/lbx-dev/lbx/internal/statusd"
	"github.com/lbx-dev/lbx/metrics"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// bgpRunner announces the model's bgp.announcements: the engine's facts
// (VIPs on their interfaces, services in IPVS, health, VRRP states) go
// through the decision core (package announce), whose answer the speaker
// (package bgpspeaker, GoBGP) carries out. The engine calls it around each
// reconcile (beforeApply, reconciled); hold-downs end on its own timer.
// Without a bgp section it does nothing and starts no speaker.
type bgpRunner struct {
	e   *engine
	log *slog.Logger
	met *metrics.Registry
	// kick asks the loop for a step; coalesced.
	kick chan struct{}

	mu   sync.Mutex // guards the fields below; held across a step
	core *announce.Core
	spk  bgpspeaker.Speaker
	bm   *metrics.BGP
	// cfg is the bgp section in force (nil: none); applied the virtual
	// servers the last successful reconcile put in IPVS, by name.
	cfg     *model.BGP
	applied map[string]bool
	last    announce.Result
	err     error
	// peers are the sessions as observe last read them.
	peers []bgpspeaker.PeerStatus
	// kernel are the prefixes the kernel announcer announces now: routes
	// in the facts of the next reconcile.
	kernel map[netip.Prefix]bool
	// restarts counts the speaker processes started again after one died.
	restarts int
	timer    *time.Timer
	stopped  bool
}

func newBGPRunner(e *engine, met *metrics.Registry, log *slog.Logger) *bgpRunner {
	return &bgpRunner{e: e, log: log.With("component", "bgp"), met: met, kick: make(chan struct{}, 1),
		core: announce.New(nil), applied: map[string]bool{}}
}

// run steps on each kick and when a hold-down ends, until ctx ends.
func (b *bgpRunner) run(ctx context.Context) {
	b.mu.Lock()
	b.timer = time.NewTimer(time.Hour)
	b.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		case <-b.timer.C:
		}
		b.e.mu.Lock()
		m, f := b.e.m, b.e.factsLocked()
		b.e.mu.Unlock()
		b.step(ctx, m, f)
	}
}

func (b *bgpRunner) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// beforeApply runs, synchronously, before a reconcile applies model m
// with facts f: a prefix whose VIP that apply removes (a reload dropping
// it, a VRRP instance leaving MASTER) or whose announcement m drops is
// withdrawn first, so that no router sends traffic to a VIP already gone.
// With the kernel announcer the decision is f.Announced: the routes this
// apply makes or removes.
func (b *bgpRunner) beforeApply(ctx context.Context, m *model.Model, f *model.Facts) {
	if b == nil || m.BGP == nil && b.idle() {
		return
	}
	b.step(ctx, m, *f)
	b.mu.Lock()
	if !b.stopped {
		f.Announced = maps.Clone(b.kernel)
	}
	b.mu.Unlock()
}

// reconciled records what a reconcile of m put in place: on success its
// virtual servers are in IPVS (an addresses-only reconcile touches none),
// then the loop steps with the new facts.
func (b *bgpRunner) reconciled(m *model.Model, err error, addressesOnly bool) {
	if b == nil || m.BGP == nil && b.idle() {
		return
	}
	if err == nil && !addressesOnly {
		b.mu.Lock()
		b.applied = map[string]bool{}
		for _, vs := range m.VirtualServers {
			b.applied[vs.Name] = true
		}
		b.mu.Unlock()
	}
	b.wake()
}

func (b *bgpRunner) idle() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cfg == nil && b.spk == nil
}

// step takes m's bgp section into force if it changed, asks the core and
// gives its answer to the speaker.
func (b *bgpRunner) step(ctx context.Context, m *model.Model, f model.Facts) {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	if c, ok := b.spk.(interface{ Exited() bool }); ok && c.Exited() {
		// The speaker process died: its sessions closed, the routers
		// withdrew. Start another (with the model in force), now and, if
		// that fails, at the retry tick.
		b.log.Error("the BGP speaker process exited; starting it again")
		b.spk, b.cfg = nil, nil
		b.restarts++
	}
	if m.BGP != b.cfg {
		b.configure(ctx, m)
	}
	if m.BGP != nil && m.BGP.AnnouncerOf() == model.AnnouncerGoBGP && b.spk == nil && b.timer != nil {
		b.cfg = nil // configure again at the retry
		b.timer.Reset(speakerRetry)
	}
	res := b.core.Step(b.facts(m, f, false))
	kick := b.carryOut(ctx, res)
	b.mu.Unlock()
	// Outside b.mu: the engine's lock comes first (status holds it while
	// it asks for the BGP part).
	if kick {
		b.e.kick(trigBGP) // the kernel announcer's routes follow at the next reconcile
	}
}

// configure starts, reconfigures or stops the speaker for m's bgp section.
func (b *bgpRunner) configure(ctx context.Context, m *model.Model) {
	b.cfg = m.BGP
	b.core.SetSpecs(announce.SpecsOf(m))
	if m.BGP == nil || m.BGP.AnnouncerOf() == model.AnnouncerKernel {
		if b.spk != nil {
			b.log.Info("no BGP speaker in the model now: withdrawing and closing the sessions")
			b.err = b.spk.Stop(ctx, 0)
			b.spk = nil
		}
		if m.BGP != nil && b.bm == nil {
			b.bm = metrics.NewBGP(b.met)
		}
		return
	}
	if b.bm == nil {
		b.bm = metrics.NewBGP(b.met)
	}
	cfg, err := speakerConfig(m.BGP)
	if err != nil {
		b.err = err
		b.log.Error("BGP configuration", "err", err)
		return
	}
	if b.spk == nil {
		b.spk, b.err = startSpeaker(ctx, cfg, b.log)
		if b.err != nil {
			b.log.Error("BGP speaker did not start", "err", b.err)
		} else {
			b.log.Info("BGP speaker started", "as", cfg.LocalAS, "router_id", cfg.RouterID, "peers", len(cfg.Peers))
		}
		return
	}
	reset, err := b.spk.Configure(ctx, cfg)
	b.err = err
	if len(reset) > 0 {
		b.log.Info("BGP peers reset: their settings changed", "peers", reset)
	}
	keep := map[netip.Addr]bool{}
	for _, p := range cfg.Peers {
		keep[p.Address] = true
	}
	b.bm.RetainPeers(keep)
}

// speakerRetry is how soon a speaker that could not start is tried again.
const speakerRetry = 5 * time.Second

// startSpeaker runs lbx-bgp (found next to lbx, or on PATH) with cfg.
func startSpeaker(ctx context.Context, cfg bgpspeaker.Config, log *slog.Logger) (bgpspeaker.Speaker, error) {
	bin, err := bgpspeaker.Find()
	if err != nil {
		return nil, err
	}
	c, err := bgpspeaker.Start(ctx, bin, cfg, log)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// speakerConfig is the speaker's configuration for a valid bgp section;
// the password files are read now (at start and at each reload).
func speakerConfig(s *model.BGP) (bgpspeaker.Config, error) {
	cfg := bgpspeaker.Config{LocalAS: s.LocalAS}
	if s.RouterID != nil {
		cfg.RouterID = s.RouterID.Addr
	}
	for _, p := range s.Peers {
		sp := bgpspeaker.Peer{Address: p.Address.Addr, AS: p.AS, Port: p.Port, GracefulRestart: p.GracefulRestart,
			HoldTime: model.DefaultBGPHoldTime * time.Second}
		if p.HoldTime != nil {
			sp.HoldTime = p.HoldTime.Duration
		}
		sp.Keepalive = sp.HoldTime / 3
		if p.Keepalive != nil {
			sp.Keepalive = p.Keepalive.Duration
		}
		if p.EBGPMultihop != nil {
			sp.Multihop = *p.EBGPMultihop
		}
		if p.PasswordFile != "" {
			pw, err := readPassword(p.PasswordFile)
			if err != nil {
				return cfg, fmt.Errorf("bgp peer %s: password_file: %w", p.Address.Addr, err)
			}
			sp.Password = pw
		}
		cfg.Peers = append(cfg.Peers, sp)
	}
	return cfg, nil
}

// readPassword reads a TCP-MD5 password file: its first line, which must
// not be empty (RFC 2385 keys are up to 80 bytes).
func readPassword(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	pw, _, _ := strings.Cut(string(data), "\n")
	pw = strings.TrimRight(pw, "\r")
	if pw == "" || len(pw) > 80 {
		return "", fmt.Errorf("%s: want one line of 1 to 80 bytes (the TCP-MD5 password)", path)
	}
	return pw, nil
}

// facts are the core's inputs from the engine's: a VIP counts as on its
// interface only if it is there now and the apply of (m, f) keeps it.
func (b *bgpRunner) facts(m *model.Model, f model.Facts, stopping bool) announce.Facts {
	af := announce.Facts{Now: time.Now(), OnInterface: map[netip.Prefix]bool{}, InIPVS: map[string]bool{},
		Healthy: map[string]int{}, VRRP: f.VRRP, Stopping: stopping}
	if m.BGP == nil {
		return af
	}
	for _, a := range m.BGP.Announcements {
		p := a.Prefix.Prefix.Masked()
		af.OnInterface[p] = addrOnLink(a.IfaceOf(), a.Prefix.Addr()) && vipKept(m, f, a.Prefix.Addr())
	}
	for _, vs := range m.VirtualServers {
		if vs.Name == "" {
			continue
		}
		af.InIPVS[vs.Name] = b.applied[vs.Name]
		for _, key := range m.ServiceKeys(vs) {
			for _, rs := range vs.RealServers {
				if up, _ := model.Live(vs, rs, f.Health[model.RealID{Service: key, Real: rs.Key(vs)}], hasHealth(f, key, vs, rs)); up {
					af.Healthy[vs.Name]++
				}
			}
		}
	}
	return af
}

func hasHealth(f model.Facts, key state.ServiceKey, vs *model.VirtualServer, rs *model.RealServer) bool {
	_, ok := f.Health[model.RealID{Service: key, Real: rs.Key(vs)}]
	return ok
}

// addrOnLink says whether addr is on the interface now (read from the
// kernel: the fact the announcement depends on, not what lbx meant).
func addrOnLink(iface string, addr netip.Addr) bool {
	l, err := netlink.LinkByName(iface)
	if err != nil {
		return false
	}
	fam := netlink.FAMILY_V4
	if addr.Is6() {
		fam = netlink.FAMILY_V6
	}
	as, err := netlink.AddrList(l, fam)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return false
	}
	for _, a := range as {
		if x, ok := netip.AddrFromSlice(a.IP); ok && x.Unmap() == addr {
			return true
		}
	}
	return false
}

// vipKept says whether applying m with facts f leaves addr where it is: a
// static address of m stays, a VRRP address only while its instance is
// MASTER; an address m does not hold (the operator's) is not lbx's to
// remove.
func vipKept(m *model.Model, f model.Facts, addr netip.Addr) bool {
	for _, a := range m.Addresses {
		if a.Address.Addr() == addr {
			return true
		}
	}
	held := false
	for _, in := range m.VRRPInstances {
		for _, a := range append(in.VirtualAddresses[:len(in.VirtualAddresses):len(in.VirtualAddresses)], in.VirtualAddressesExcluded...) {
			if a.Address.Addr() == addr {
				if f.VRRP == nil || f.VRRP[in.Name] == "MASTER" {
					return true
				}
				held = true
			}
		}
	}
	return !held
}

// carryOut gives a step's answer to the speaker, logs and counts the
// changes, and sets the timer for the next hold-down. It says whether the
// routes of the kernel announcer changed (a reconcile is due).
func (b *bgpRunner) carryOut(ctx context.Context, res announce.Result) (kick bool) {
	b.last = res
	for _, c := range res.Changes {
		if c.Announce {
			b.log.Info("announcing", "prefix", c.Prefix, "why", c.Detail)
		} else {
			b.log.Info("withdrawing", "prefix", c.Prefix, "reason", c.Why, "why", c.Detail)
			b.bm.Withdrawn(c.Why)
		}
	}
	state := map[netip.Prefix]bool{}
	for _, s := range res.Status {
		state[s.Prefix] = s.Announced
	}
	b.bm.SetAnnounced(state)
	if b.cfg != nil && b.cfg.AnnouncerOf() == model.AnnouncerKernel {
		b.kernel = map[netip.Prefix]bool{}
		for _, s := range res.Announced {
			b.kernel[s.Prefix] = true
		}
		kick = len(res.Changes) > 0
	}
	if b.spk != nil {
		paths := make([]bgpspeaker.Path, 0, len(res.Announced))
		for _, s := range res.Announced {
			paths = append(paths, bgpspeaker.Path{Prefix: s.Prefix, Communities: s.Communities, MED: s.MED})
		}
		if err := b.spk.SetPaths(ctx, paths); err != nil {
			b.err = err
			b.log.Error("BGP paths", "err", err)
		}
	}
	if b.timer != nil && !res.Next.IsZero() {
		b.timer.Reset(time.Until(res.Next))
	}
	return kick
}

// stop withdraws everything (after the graceful-shutdown wait, if the
// model sets one) and closes the sessions: called before anything
// removes a VIP at stop.
func (b *bgpRunner) stop(ctx context.Context) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return
	}
	b.stopped = true
	if b.cfg != nil && b.cfg.AnnouncerOf() == model.AnnouncerKernel {
		b.mu.Unlock()
		b.removeKernelRoutes(ctx)
		b.mu.Lock()
		return
	}
	if b.spk == nil {
		return
	}
	var wait time.Duration
	if b.cfg != nil && b.cfg.GracefulShutdown != nil {
		wait = b.cfg.GracefulShutdown.Duration
	}
	b.log.Info("stopping: withdrawing every prefix", "graceful_shutdown", wait)
	if err := b.spk.Stop(ctx, wait); err != nil {
		b.log.Error("BGP stop", "err", err)
	}
	for _, s := range b.last.Status {
		if s.Announced {
			b.bm.Withdrawn(announce.ReasonStopping)
		}
	}
	b.spk = nil
}

// removeKernelRoutes has the loop reconcile once more, now that the
// runner is stopped (no announced prefix in the facts): the kernel
// announcer's routes go before anything else stops.
func (b *bgpRunner) removeKernelRoutes(ctx context.Context) {
	b.log.Info("stopping: removing the announced routes")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	reply := make(chan error, 1)
	select {
	case b.e.syncq <- reply:
	case <-ctx.Done():
		return
	}
	select {
	case err := <-reply:
		if err != nil {
			b.log.Error("removing the announced routes", "err", err)
		}
	case <-ctx.Done():
		b.log.Error("removing the announced routes: no reconcile within 10s")
	}
}

// observe copies the sessions into the metrics and the status (once a
// second, with the engine's other counters): a status query asks the
// speaker process nothing.
func (b *bgpRunner) observe(ctx context.Context) {
	b.mu.Lock()
	spk, bm := b.spk, b.bm
	b.mu.Unlock()
	if spk == nil {
		return
	}
	if c, ok := spk.(interface{ Exited() bool }); ok && c.Exited() {
		b.wake() // the loop starts another
		return
	}
	peers := spk.Peers(ctx)
	for _, p := range peers {
		bm.SetPeer(p.Address, p.State == "established", p.UpdatesSent)
	}
	b.mu.Lock()
	b.peers = peers
	b.mu.Unlock()
}

// status is the BGP part of `lbx status` (nil without a bgp section).
func (b *bgpRunner) status() *statusd.BGP {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cfg == nil {
		return nil
	}
	st := &statusd.BGP{Announcer: b.cfg.AnnouncerOf(), LocalAS: b.cfg.LocalAS, Peers: []statusd.BGPPeer{}, Prefixes: []statusd.BGPVIP{}}
	if b.cfg.RouterID != nil {
		st.RouterID = b.cfg.RouterID.Addr.String()
	}
	if b.err != nil {
		st.Error = b.err.Error()
	}
	st.SpeakerRestarts = b.restarts
	if b.spk != nil {
		for _, p := range b.peers {
			sp := statusd.BGPPeer{Address: p.Address.String(), AS: p.AS, State: p.State, PrefixesSent: p.Advertised, UpdatesSent: p.UpdatesSent}
			if !p.Up.IsZero() {
				up := p.Up
				sp.Up = &up
			}
			st.Peers = append(st.Peers, sp)
		}
	}
	for _, s := range b.last.Status {
		v := statusd.BGPVIP{Prefix: s.Prefix.String(), Announced: s.Announced, Reason: s.Reason}
		if !s.Since.IsZero() {
			since := s.Since
			v.Since = &since
		}
		if !s.PendingUntil.IsZero() {
			until := s.PendingUntil
			v.PendingUntil = &until
		}
		st.Prefixes = append(st.Prefixes, v)
	}
	return st
}

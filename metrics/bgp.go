package metrics

import (
	"net/netip"
	"sync"

	"github.com/lbx-dev/lbx/metrics/internal/expo"
)

// BGP holds the scale-out series. It is registered only when a model has
// a bgp section (NewBGP), so that a director without BGP exports none.
// The methods do nothing on a nil *BGP (no metrics address).
type BGP struct {
	session, announced  *expo.GaugeVec
	updates, withdrawal *expo.CounterVec

	mu       sync.Mutex
	sent     map[netip.Addr]uint64 // the last UPDATE count read per peer
	peers    map[netip.Addr]bool
	prefixes map[netip.Prefix]bool
}

// NewBGP registers the BGP series on r (nil r: nil, no metrics).
func NewBGP(r *Registry) *BGP {
	if r == nil {
		return nil
	}
	b := &BGP{sent: map[netip.Addr]uint64{}, peers: map[netip.Addr]bool{}, prefixes: map[netip.Prefix]bool{}}
	b.session = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_bgp_session_established",
		Help: "BGP session with the peer: 1 established, 0 any other state (idle, connect, active, opensent, openconfirm).",
	}, []string{"peer"})
	b.announced = expo.NewGaugeVec(expo.GaugeOpts{
		Name: "lbx_bgp_announced",
		Help: "Prefix announced to the BGP peers (1) or withdrawn (0); lbx status says why.",
	}, []string{"prefix"})
	b.updates = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_bgp_updates_sent_total",
		Help: "BGP UPDATE messages sent to the peer (announces and withdraws).",
	}, []string{"peer"})
	b.withdrawal = expo.NewCounterVec(expo.CounterOpts{
		Name: "lbx_bgp_withdrawals_total",
		Help: "Prefixes withdrawn, by reason: not_ready (VIP not on its interface or service not in IPVS), unhealthy, vrrp, removed (reload), stopping.",
	}, []string{"reason"})
	r.reg.MustRegister(b.session, b.announced, b.updates, b.withdrawal)
	return b
}

// SetPeer records a peer's session and its UPDATE count (GoBGP's, which
// restarts with the session: only increases are added).
func (b *BGP) SetPeer(peer netip.Addr, established bool, updatesSent uint64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l := peer.String()
	b.peers[peer] = true
	v := 0.0
	if established {
		v = 1
	}
	b.session.WithLabelValues(l).Set(v)
	if prev := b.sent[peer]; updatesSent > prev {
		b.updates.WithLabelValues(l).Add(float64(updatesSent - prev))
	}
	b.sent[peer] = updatesSent
}

// RetainPeers drops the series of peers not in keep (a reload removed them).
func (b *BGP) RetainPeers(keep map[netip.Addr]bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for p := range b.peers {
		if !keep[p] {
			b.session.DeleteLabelValues(p.String())
			b.updates.DeleteLabelValues(p.String())
			delete(b.peers, p)
			delete(b.sent, p)
		}
	}
}

// SetAnnounced sets every prefix's state; prefixes absent lose their series.
func (b *BGP) SetAnnounced(state map[netip.Prefix]bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for p := range b.prefixes {
		if _, ok := state[p]; !ok {
			b.announced.DeleteLabelValues(p.String())
			delete(b.prefixes, p)
		}
	}
	for p, on := range state {
		v := 0.0
		if on {
			v = 1
		}
		b.announced.WithLabelValues(p.String()).Set(v)
		b.prefixes[p] = true
	}
}

// Withdrawn counts a withdraw by its reason.
func (b *BGP) Withdrawn(reason string) {
	if b == nil {
		return
	}
	b.withdrawal.WithLabelValues(reason).Inc()
}

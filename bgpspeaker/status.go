package bgpspeaker

import (
	"context"
	"net/netip"
	"strings"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// PeerStatus is one session as `lbx status` and the metrics show it.
type PeerStatus struct {
	Address netip.Addr
	AS      uint32
	// State is the BGP FSM state in lower case: idle, connect, active,
	// opensent, openconfirm, established.
	State string
	// Up is when the session was last established (zero: not up).
	Up time.Time
	// Advertised is how many prefixes the peer was sent (in its
	// Adj-RIB-Out); UpdatesSent counts UPDATE messages.
	Advertised  uint64
	UpdatesSent uint64
}

// Peers lists the sessions, in address order.
func (s *Speaker) Peers(ctx context.Context) []PeerStatus {
	var out []PeerStatus
	s.srv.ListPeer(ctx, &api.ListPeerRequest{EnableAdvertised: true}, func(p *api.Peer) {
		addr, err := netip.ParseAddr(p.GetConf().GetNeighborAddress())
		if err != nil {
			return
		}
		ps := PeerStatus{Address: addr, AS: p.GetConf().GetPeerAsn()}
		ps.State = strings.ToLower(strings.TrimPrefix(p.GetState().GetSessionState().String(), "SESSION_STATE_"))
		if ps.State == "established" {
			if up := p.GetTimers().GetState().GetUptime(); up != nil {
				ps.Up = up.AsTime()
			}
		}
		for _, af := range p.GetAfiSafis() {
			ps.Advertised += af.GetState().GetAdvertised()
		}
		ps.UpdatesSent = p.GetState().GetMessages().GetSent().GetUpdate()
		out = append(out, ps)
	})
	return out
}

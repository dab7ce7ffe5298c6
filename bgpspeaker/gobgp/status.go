package gobgp

import (
	"context"
	"net/netip"
	"strings"

	api "github.com/osrg/gobgp/v3/api"
)

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

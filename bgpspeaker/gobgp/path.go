package gobgp

import (
	"net/netip"
	"slices"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// apiPath is p as GoBGP's API takes it: origin IGP, next hop unspecified
// (GoBGP puts the session's local address, next-hop-self), IPv6 in
// MP_REACH_NLRI (RFC 4760); GRACEFUL_SHUTDOWN added while stopping.
func (s *Speaker) apiPath(p Path) *api.Path {
	nlri := mustAny(&api.IPAddressPrefix{Prefix: p.Prefix.Addr().String(), PrefixLen: uint32(p.Prefix.Bits())})
	attrs := []*anypb.Any{mustAny(&api.OriginAttribute{Origin: 0})}
	fam := &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	if p.Prefix.Addr().Is4() {
		attrs = append(attrs, mustAny(&api.NextHopAttribute{NextHop: "0.0.0.0"}))
	} else {
		fam = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
		attrs = append(attrs, mustAny(&api.MpReachNLRIAttribute{Family: fam, NextHops: []string{"::"}, Nlris: []*anypb.Any{nlri}}))
	}
	comms := slices.Clone(p.Communities)
	if s.shutdown {
		comms = append(comms, GracefulShutdownCommunity)
	}
	if len(comms) > 0 {
		attrs = append(attrs, mustAny(&api.CommunitiesAttribute{Communities: comms}))
	}
	if p.MED != nil {
		attrs = append(attrs, mustAny(&api.MultiExitDiscAttribute{Med: *p.MED}))
	}
	return &api.Path{Family: fam, Nlri: nlri, Pattrs: attrs}
}

// mustAny wraps a message of GoBGP's API; only an unregistered type fails.
func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err) // a programming error: the types above are registered
	}
	return a
}

// prefixOf reads a path's prefix back (for the router-side view in tests).
func prefixOf(p *api.Path) (netip.Prefix, bool) {
	var n api.IPAddressPrefix
	if p.GetNlri().UnmarshalTo(&n) != nil {
		return netip.Prefix{}, false
	}
	a, err := netip.ParseAddr(n.Prefix)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, int(n.PrefixLen)), true
}

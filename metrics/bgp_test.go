package metrics

import (
	"net/netip"
	"testing"
)

// TestBGP drives the BGP series as lbx watch does and reads them back
// through /metrics: UPDATE counts advance by the difference (and survive a
// session restart's reset), removed peers and prefixes lose their series.
func TestBGP(t *testing.T) {
	peer, other := netip.MustParseAddr("10.0.0.254"), netip.MustParseAddr("10.0.0.253")
	vip, vip2 := netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("192.0.2.20/32")
	steps := []struct {
		name string
		do   func(b *BGP)
		want []string
		gone []string
	}{
		{"session up", func(b *BGP) {
			b.SetPeer(peer, true, 3)
			b.SetPeer(other, false, 0)
			b.SetAnnounced(map[netip.Prefix]bool{vip: true, vip2: false})
		}, []string{
			`lbx_bgp_session_established{peer="10.0.0.254"} 1`, `lbx_bgp_session_established{peer="10.0.0.253"} 0`,
			`lbx_bgp_updates_sent_total{peer="10.0.0.254"} 3`,
			`lbx_bgp_announced{prefix="192.0.2.10/32"} 1`, `lbx_bgp_announced{prefix="192.0.2.20/32"} 0`,
		}, nil},
		{"withdraw", func(b *BGP) {
			b.Withdrawn("unhealthy")
			b.SetAnnounced(map[netip.Prefix]bool{vip: false})
			b.SetPeer(peer, true, 4)
		}, []string{`lbx_bgp_withdrawals_total{reason="unhealthy"} 1`, `lbx_bgp_announced{prefix="192.0.2.10/32"} 0`, `lbx_bgp_updates_sent_total{peer="10.0.0.254"} 4`},
			[]string{`lbx_bgp_announced{prefix="192.0.2.20/32"} 0`}},
		{"session restarted: GoBGP's count starts again", func(b *BGP) {
			b.SetPeer(peer, true, 1)
			b.SetPeer(peer, true, 2)
		}, []string{`lbx_bgp_updates_sent_total{peer="10.0.0.254"} 5`}, nil},
		{"peer removed", func(b *BGP) { b.RetainPeers(map[netip.Addr]bool{peer: true}) },
			[]string{`lbx_bgp_session_established{peer="10.0.0.254"} 1`}, []string{`lbx_bgp_session_established{peer="10.0.0.253"} 0`}},
	}
	r := New()
	b := NewBGP(r)
	for _, s := range steps {
		s.do(b)
		got := scrape(t, r)
		for _, w := range s.want {
			if !got[w] {
				t.Errorf("%s: missing %s", s.name, w)
			}
		}
		for _, g := range s.gone {
			if got[g] {
				t.Errorf("%s: still there: %s", s.name, g)
			}
		}
	}
	var none *BGP // no metrics address: every method is a no-op
	none.SetPeer(peer, true, 1)
	none.SetAnnounced(nil)
	none.Withdrawn("x")
	none.RetainPeers(nil)
	if NewBGP(nil) != nil {
		t.Error("NewBGP(nil) is not nil")
	}
}

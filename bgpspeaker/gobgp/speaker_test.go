package gobgp

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"

	"github.com/lbx-dev/lbx/bgpspeaker"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// router is a second, independent GoBGP server standing in for a router:
// a real BGP peer over TCP on the loopback (no root, no namespace). The
// bird2 router of test/bgp checks the same against another implementation.
type router struct {
	srv  *server.BgpServer
	addr netip.Addr
	port int
}

func freePort(t *testing.T, addr string) int {
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		testkit.Skip(t, fmt.Sprintf("no TCP on %s: %v", addr, err))
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startRouter(t *testing.T, addr string) *router {
	t.Helper()
	r := &router{srv: server.NewBgpServer(server.LoggerOption(newLogger(slog.New(slog.DiscardHandler)))), addr: netip.MustParseAddr(addr)}
	r.port = freePort(t, addr)
	go r.srv.Serve()
	ctx := context.Background()
	if err := r.srv.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{Asn: 65000, RouterId: addr, ListenPort: int32(r.port), ListenAddresses: []string{addr}}}); err != nil {
		t.Fatal(err)
	}
	err := r.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: "127.0.0.1", PeerAsn: 65001},
		Transport: &api.Transport{PassiveMode: true},
		Timers:    &api.Timers{Config: &api.TimersConfig{HoldTime: 9, KeepaliveInterval: 3}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.srv.StopBgp(context.Background(), &api.StopBgpRequest{})
		r.srv.Stop()
	})
	return r
}

// rib is what the router learnt: prefix → communities.
func (r *router) rib(t *testing.T) map[netip.Prefix][]uint32 {
	out := map[netip.Prefix][]uint32{}
	for _, fam := range []*api.Family{{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}, {Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}} {
		err := r.srv.ListPath(context.Background(), &api.ListPathRequest{TableType: api.TableType_GLOBAL, Family: fam}, func(d *api.Destination) {
			for _, p := range d.Paths {
				pfx, ok := prefixOf(p)
				if !ok {
					continue
				}
				var comms []uint32
				for _, a := range p.Pattrs {
					var c api.CommunitiesAttribute
					if a.UnmarshalTo(&c) == nil {
						comms = c.Communities
					}
				}
				out[pfx] = comms
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sessionWait is how long a BGP session may take to come up or to pass
// a change on.
const sessionWait = 20 * time.Second

func peerOf(s bgpspeaker.Speaker, a netip.Addr) PeerStatus {
	for _, p := range s.Peers(context.Background()) {
		if p.Address == a {
			return p
		}
	}
	return PeerStatus{}
}

var (
	vip1 = netip.MustParsePrefix("192.0.2.10/32")
	vip2 = netip.MustParsePrefix("192.0.2.20/32")
	vip6 = netip.MustParsePrefix("2001:db8::10/128")
)

func keys(m map[netip.Prefix][]uint32) []netip.Prefix {
	var out []netip.Prefix
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, netip.Prefix.Compare)
	return out
}

func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }

// TestSpeaker drives the speaker through what lbx watch does with it:
// announce, a reload adding a prefix (no session reset), a reload
// changing one peer (only that one reset), a withdraw, and a graceful
// stop (GRACEFUL_SHUTDOWN first, then nothing).
//
// It runs on the speaker in this process, and through lbx watch's client
// on an lbx-bgp child process built from this tree.
func TestSpeaker(t *testing.T) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Run("in process", func(t *testing.T) {
		testSpeaker(t, func(ctx context.Context, cfg Config) (bgpspeaker.Speaker, error) { return Start(ctx, cfg, log) })
	})
	t.Run("lbx-bgp child", func(t *testing.T) {
		bin := filepath.Join(testkit.Binaries(t, "./cmd/lbx-bgp"), "lbx-bgp")
		testSpeaker(t, func(ctx context.Context, cfg Config) (bgpspeaker.Speaker, error) {
			return bgpspeaker.Start(ctx, bin, cfg, log)
		})
	})
}

func testSpeaker(t *testing.T, start func(context.Context, Config) (bgpspeaker.Speaker, error)) {
	a, b := startRouter(t, "127.0.0.1"), startRouter(t, "127.0.0.2")
	peer := func(r *router, hold time.Duration) Peer {
		return Peer{Address: r.addr, AS: 65000, Port: r.port, HoldTime: hold, Keepalive: hold / 3}
	}
	// The speaker's own router id differs from both routers'.
	cfg := Config{LocalAS: 65001, RouterID: netip.MustParseAddr("10.255.0.1"), Peers: []Peer{peer(a, 9*time.Second), peer(b, 9*time.Second)}}
	s, err := start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			s.Stop(context.Background(), 0)
		}
	})
	testkit.Eventually(t, "both sessions established", sessionWait, func() bool {
		return peerOf(s, a.addr).State == "established" && peerOf(s, b.addr).State == "established"
	})
	med := uint32(10)
	ctx := context.Background()
	if err := s.SetPaths(ctx, []Path{{Prefix: vip1, Communities: []uint32{65000<<16 | 7}, MED: &med}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "vip1 at router a", sessionWait, func() bool { return slices.Equal(keys(a.rib(t)), []netip.Prefix{vip1}) })
	if got := a.rib(t)[vip1]; !slices.Equal(got, []uint32{65000<<16 | 7}) {
		t.Errorf("communities at the router: %v, want [65000:7]", got)
	}
	upA, upB := peerOf(s, a.addr).Up, peerOf(s, b.addr).Up
	updatesB := peerOf(s, b.addr).UpdatesSent

	// A reload that adds a prefix: one more UPDATE per peer, no reset.
	if reset, err := s.Configure(ctx, cfg); err != nil || len(reset) != 0 {
		t.Fatalf("Configure with the same peers: reset %v, err %v", reset, err)
	}
	if err := s.SetPaths(ctx, []Path{{Prefix: vip1, Communities: []uint32{65000<<16 | 7}, MED: &med}, {Prefix: vip2}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "vip2 at router b", sessionWait, func() bool { return slices.Equal(keys(b.rib(t)), []netip.Prefix{vip1, vip2}) })
	testkit.Eventually(t, "one more UPDATE to b", sessionWait, func() bool { return peerOf(s, b.addr).UpdatesSent == updatesB+1 })
	if p := peerOf(s, a.addr); !p.Up.Equal(upA) || p.State != "established" {
		t.Errorf("router a's session after adding a prefix: up since %v (was %v), %s", p.Up, upA, p.State)
	}

	// A reload that changes b's hold time resets b only.
	cfg.Peers[1] = peer(b, 6*time.Second)
	reset, err := s.Configure(ctx, cfg)
	if err != nil || !slices.Equal(reset, []netip.Addr{b.addr}) {
		t.Fatalf("Configure changing b: reset %v, err %v; want [%s]", reset, err, b.addr)
	}
	testkit.Eventually(t, "b re-established", sessionWait, func() bool { p := peerOf(s, b.addr); return p.State == "established" && p.Up.After(upB) })
	if p := peerOf(s, a.addr); !p.Up.Equal(upA) {
		t.Errorf("router a's session was reset by b's change: up since %v, was %v", p.Up, upA)
	}
	testkit.Eventually(t, "b learns both prefixes again", sessionWait, func() bool { return len(b.rib(t)) == 2 })

	// A withdraw.
	if err := s.SetPaths(ctx, []Path{{Prefix: vip2}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "vip1 withdrawn at a", sessionWait, func() bool { return slices.Equal(keys(a.rib(t)), []netip.Prefix{vip2}) })

	// A graceful stop: GRACEFUL_SHUTDOWN during the wait, then nothing.
	done := make(chan error, 1)
	go func() { done <- s.Stop(ctx, time.Second) }()
	stopped = true
	testkit.Eventually(t, "GRACEFUL_SHUTDOWN at a", sessionWait, func() bool { return slices.Contains(a.rib(t)[vip2], GracefulShutdownCommunity) })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "nothing left at a", sessionWait, func() bool { return len(a.rib(t)) == 0 })
	if err := s.SetPaths(ctx, []Path{{Prefix: vip1}}); err == nil {
		t.Error("SetPaths after Stop: no error")
	}
}

func TestApiPath(t *testing.T) {
	med := uint32(5)
	cases := []struct {
		path     Path
		shutdown bool
		fam      api.Family_Afi
		attrs    int
	}{
		{Path{Prefix: vip1}, false, api.Family_AFI_IP, 2},
		{Path{Prefix: vip1, Communities: []uint32{1}, MED: &med}, false, api.Family_AFI_IP, 4},
		{Path{Prefix: vip1}, true, api.Family_AFI_IP, 3},
		{Path{Prefix: vip6}, false, api.Family_AFI_IP6, 2},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.path.Prefix, tc.shutdown, len(tc.path.Communities)), func(t *testing.T) {
			s := &Speaker{shutdown: tc.shutdown}
			p := s.apiPath(tc.path)
			if p.Family.Afi != tc.fam || len(p.Pattrs) != tc.attrs {
				t.Errorf("family %v with %d attributes, want %v with %d", p.Family.Afi, len(p.Pattrs), tc.fam, tc.attrs)
			}
			if got, ok := prefixOf(p); !ok || got != tc.path.Prefix {
				t.Errorf("NLRI %v, want %v", got, tc.path.Prefix)
			}
		})
	}
}

// Package gobgp is lbx's BGP speaker: GoBGP's server embedded as a
// library (github.com/osrg/gobgp/v3/pkg/server), driven declaratively. It
// runs in lbx-bgp, a child process of lbx watch (package bgpspeaker), so
// that no other lbx command carries GoBGP's weight. Configure gives the peers wanted, SetPaths the prefixes
// wanted; each diffs against what the server holds and changes only the
// difference, so that a reload adding a VIP sends one UPDATE and resets no
// session, and a peer is reset only when its own settings changed.
// Sessions, timers, reconnect back-off and TCP-MD5 are GoBGP's.
package gobgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"

	"github.com/lbx-dev/lbx/bgpspeaker"
)

// The types are bgpspeaker's: the child process (lbx-bgp) and lbx watch
// share them over the wire.
type (
	Config     = bgpspeaker.Config
	Peer       = bgpspeaker.Peer
	Path       = bgpspeaker.Path
	PeerStatus = bgpspeaker.PeerStatus
)

// GracefulShutdownCommunity is RFC 8326's GRACEFUL_SHUTDOWN.
const GracefulShutdownCommunity = bgpspeaker.GracefulShutdownCommunity

// Speaker holds one GoBGP server. Its methods are safe for concurrent use.
type Speaker struct {
	srv *server.BgpServer
	log *slog.Logger

	mu    sync.Mutex
	cfg   Config
	peers map[netip.Addr]Peer
	paths map[netip.Prefix]Path // what GoBGP announces now
	// shutdown tags every path with GRACEFUL_SHUTDOWN (set at stop).
	shutdown bool
	stopped  bool
}

// Start starts a server with cfg's identity and peers. It does not listen
// for connections: directors open the sessions (ListenPort -1).
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Speaker, error) {
	s := &Speaker{log: log, peers: map[netip.Addr]Peer{}, paths: map[netip.Prefix]Path{}}
	s.srv = server.NewBgpServer(server.LoggerOption(newLogger(log)))
	go s.srv.Serve()
	if err := s.startGlobal(ctx, cfg); err != nil {
		s.srv.Stop()
		return nil, err
	}
	if _, err := s.Configure(ctx, cfg); err != nil {
		s.srv.StopBgp(context.Background(), &api.StopBgpRequest{})
		s.srv.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Speaker) startGlobal(ctx context.Context, cfg Config) error {
	err := s.srv.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn: cfg.LocalAS, RouterId: cfg.RouterID.String(), ListenPort: -1,
	}})
	if err != nil {
		return fmt.Errorf("starting BGP (AS %d, router id %s): %w", cfg.LocalAS, cfg.RouterID, err)
	}
	s.cfg = Config{LocalAS: cfg.LocalAS, RouterID: cfg.RouterID}
	return nil
}

// Configure brings the peers to cfg.Peers: a new peer is added, a removed
// one deleted (its session closed), a changed one deleted and added again;
// the others are not touched. It returns the peers it reset. A change of
// local AS or router id restarts the whole speaker (every session), as
// BGP allows no other way.
func (s *Speaker) Configure(ctx context.Context, cfg Config) (reset []netip.Addr, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, errors.New("the BGP speaker is stopped")
	}
	if cfg.LocalAS != s.cfg.LocalAS || cfg.RouterID != s.cfg.RouterID {
		s.log.Warn("BGP local AS or router id changed: restarting every session", "as", cfg.LocalAS, "router_id", cfg.RouterID)
		if err := s.srv.StopBgp(ctx, &api.StopBgpRequest{}); err != nil {
			return nil, err
		}
		reset = slices.Collect(maps.Keys(s.peers))
		s.peers, s.paths = map[netip.Addr]Peer{}, map[netip.Prefix]Path{}
		if err := s.startGlobal(ctx, cfg); err != nil {
			return reset, err
		}
	}
	want := map[netip.Addr]Peer{}
	for _, p := range cfg.Peers {
		want[p.Address] = p
	}
	var errs []error
	for addr, have := range s.peers {
		w, ok := want[addr]
		if ok && w == have {
			continue
		}
		if err := s.srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: addr.String()}); err != nil {
			errs = append(errs, fmt.Errorf("removing BGP peer %s: %w", addr, err))
			continue
		}
		delete(s.peers, addr)
		if ok {
			reset = append(reset, addr)
		}
	}
	for _, addr := range slices.SortedFunc(maps.Keys(want), netip.Addr.Compare) {
		if _, ok := s.peers[addr]; ok {
			continue
		}
		if err := s.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: apiPeer(want[addr], cfg.LocalAS)}); err != nil {
			errs = append(errs, fmt.Errorf("adding BGP peer %s: %w", addr, err))
			continue
		}
		s.peers[addr] = want[addr]
	}
	return reset, errors.Join(errs...)
}

// connectRetry is the first reconnect delay; GoBGP backs off from it.
const connectRetry = 5

func apiPeer(p Peer, localAS uint32) *api.Peer {
	port := uint32(p.Port)
	if port == 0 {
		port = 179
	}
	fam := &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	if p.Address.Is6() {
		fam = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
	}
	ap := &api.Peer{
		Conf: &api.PeerConf{NeighborAddress: p.Address.String(), PeerAsn: p.AS, LocalAsn: localAS, AuthPassword: p.Password},
		Timers: &api.Timers{Config: &api.TimersConfig{
			HoldTime: uint64(p.HoldTime / time.Second), KeepaliveInterval: uint64(p.Keepalive / time.Second), ConnectRetry: connectRetry,
		}},
		Transport: &api.Transport{RemotePort: port},
		AfiSafis:  []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: fam, Enabled: true}}},
	}
	if p.Multihop > 0 {
		ap.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(p.Multihop)}
	}
	if p.GracefulRestart {
		ap.GracefulRestart = &api.GracefulRestart{Enabled: true, RestartTime: 120}
		ap.AfiSafis[0].MpGracefulRestart = &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}
	}
	return ap
}

// SetPaths brings the announced prefixes to paths: new or changed ones are
// (re)announced, missing ones withdrawn; unchanged ones send nothing.
func (s *Speaker) SetPaths(ctx context.Context, paths []Path) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("the BGP speaker is stopped")
	}
	want := map[netip.Prefix]Path{}
	for _, p := range paths {
		want[p.Prefix] = p
	}
	var errs []error
	for pfx, have := range s.paths {
		if _, ok := want[pfx]; ok {
			continue
		}
		if err := s.srv.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Path: s.apiPath(have)}); err != nil {
			errs = append(errs, fmt.Errorf("withdrawing %s: %w", pfx, err))
			continue
		}
		delete(s.paths, pfx)
	}
	for _, pfx := range slices.SortedFunc(maps.Keys(want), netip.Prefix.Compare) {
		w := want[pfx]
		if have, ok := s.paths[pfx]; ok && have.Same(w) {
			continue
		}
		if _, err := s.srv.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: s.apiPath(w)}); err != nil {
			errs = append(errs, fmt.Errorf("announcing %s: %w", pfx, err))
			continue
		}
		s.paths[pfx] = w
	}
	return errors.Join(errs...)
}

// Paths are the prefixes announced now.
func (s *Speaker) Paths() []netip.Prefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.SortedFunc(maps.Keys(s.paths), netip.Prefix.Compare)
}

// Stop withdraws every prefix and closes the sessions. With a graceful
// wait, the prefixes are first tagged GRACEFUL_SHUTDOWN (RFC 8326) and
// kept that long, so that the routers move traffic away before the
// withdraw. A cancelled ctx cuts the wait short.
func (s *Speaker) Stop(ctx context.Context, graceful time.Duration) error {
	var errs []error
	if graceful > 0 {
		s.mu.Lock()
		s.shutdown = true
		for pfx, p := range s.paths {
			if _, err := s.srv.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: s.apiPath(p)}); err != nil {
				errs = append(errs, fmt.Errorf("tagging %s GRACEFUL_SHUTDOWN: %w", pfx, err))
			}
		}
		n := len(s.paths)
		s.mu.Unlock()
		if n > 0 {
			s.log.Info("BGP graceful shutdown: routes tagged GRACEFUL_SHUTDOWN", "prefixes", n, "wait", graceful)
			select {
			case <-ctx.Done():
			case <-time.After(graceful):
			}
		}
	}
	s.mu.Lock()
	had := len(s.paths) > 0
	s.mu.Unlock()
	before := s.updatesSent()
	errs = append(errs, s.SetPaths(context.WithoutCancel(ctx), nil))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	// The withdraws are queued to each session: the sessions close (with a
	// NOTIFICATION) only once each has written its UPDATE, so that routers
	// see a withdraw, not a session loss (which graceful restart would
	// even keep the routes across).
	if had {
		s.waitSent(before, time.Second)
	}
	errs = append(errs, s.srv.StopBgp(context.Background(), &api.StopBgpRequest{}))
	s.srv.Stop()
	return errors.Join(errs...)
}

// updatesSent is the UPDATE count of each established session.
func (s *Speaker) updatesSent() map[string]uint64 {
	out := map[string]uint64{}
	s.srv.ListPeer(context.Background(), &api.ListPeerRequest{}, func(p *api.Peer) {
		if p.GetState().GetSessionState() == api.PeerState_ESTABLISHED {
			out[p.GetConf().GetNeighborAddress()] = p.GetState().GetMessages().GetSent().GetUpdate()
		}
	})
	return out
}

// waitSent waits until every session established before (with the UPDATE
// counts before) that had paths has sent another UPDATE, or max passes.
func (s *Speaker) waitSent(before map[string]uint64, max time.Duration) {
	if len(before) == 0 {
		return
	}
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		now := s.updatesSent()
		waiting := false
		for peer, n := range before {
			if m, ok := now[peer]; ok && m <= n {
				waiting = true
			}
		}
		if !waiting {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

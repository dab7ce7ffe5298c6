// Package bgpspeaker is lbx watch's side of its BGP speaker. The speaker
// itself (package bgpspeaker/gobgp, GoBGP embedded) runs in a child
// process, lbx-bgp, started only when a model has a bgp section: GoBGP and
// its dependencies double lbx's binary and its start-up memory, which no
// other lbx command should pay, and a fault in the speaker cannot take
// lbx watch down. Client drives the child over its stdin and stdout, one
// JSON request and one JSON answer per line (Serve is the child's loop).
package bgpspeaker

import (
	"context"
	"net/netip"
	"slices"
	"time"
)

// Config is the speaker's identity and peers.
type Config struct {
	LocalAS  uint32     `json:"local_as"`
	RouterID netip.Addr `json:"router_id"`
	Peers    []Peer     `json:"peers"`
}

// Peer is one neighbour's settings; two equal Peers need no reset.
type Peer struct {
	Address netip.Addr `json:"address"`
	AS      uint32     `json:"as"`
	Port    int        `json:"port,omitempty"` // 0: 179
	// HoldTime and Keepalive in whole seconds (0 hold: no keepalives).
	HoldTime  time.Duration `json:"hold_time"`
	Keepalive time.Duration `json:"keepalive"`
	// Multihop is the eBGP TTL (0: directly connected).
	Multihop int `json:"multihop,omitempty"`
	// Password is the TCP-MD5 secret ("" none).
	Password        string `json:"password,omitempty"`
	GracefulRestart bool   `json:"graceful_restart,omitempty"`
}

// Path is one announced prefix with its attributes.
type Path struct {
	Prefix      netip.Prefix `json:"prefix"`
	Communities []uint32     `json:"communities,omitempty"`
	MED         *uint32      `json:"med,omitempty"`
}

// Same says whether two paths announce the same thing.
func (p Path) Same(o Path) bool {
	return p.Prefix == o.Prefix && slices.Equal(p.Communities, o.Communities) &&
		(p.MED == nil) == (o.MED == nil) && (p.MED == nil || *p.MED == *o.MED)
}

// GracefulShutdownCommunity is RFC 8326's GRACEFUL_SHUTDOWN (65535:0):
// routers lower the tagged routes' preference, so traffic moves before
// the withdraw.
const GracefulShutdownCommunity = 0xFFFF0000

// PeerStatus is one session as `lbx status` and the metrics show it.
type PeerStatus struct {
	Address netip.Addr `json:"address"`
	AS      uint32     `json:"as"`
	// State is the BGP FSM state in lower case: idle, connect, active,
	// opensent, openconfirm, established.
	State string `json:"state"`
	// Up is when the session was last established (zero: not up).
	Up time.Time `json:"up,omitzero"`
	// Advertised is how many prefixes the peer was sent (in its
	// Adj-RIB-Out); UpdatesSent counts UPDATE messages.
	Advertised  uint64 `json:"advertised"`
	UpdatesSent uint64 `json:"updates_sent"`
}

// Speaker is what lbx watch asks of a speaker: the child's Client, or the
// GoBGP speaker itself (in lbx-bgp, and in tests).
type Speaker interface {
	Configure(ctx context.Context, cfg Config) (reset []netip.Addr, err error)
	SetPaths(ctx context.Context, paths []Path) error
	Peers(ctx context.Context) []PeerStatus
	Stop(ctx context.Context, graceful time.Duration) error
}

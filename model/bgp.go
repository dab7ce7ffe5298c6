package model

// BGP is the scale-out section: N active directors each announce the VIPs
// they can serve to the routers, which spread flows by ECMP. `lbx watch`
// owns the announcements; plan and apply only list them.
type BGP struct {
	// LocalAS is this director's autonomous system number.
	LocalAS uint32 `yaml:"local_as,omitempty"`
	// RouterID is the BGP identifier, an IPv4 address unique among the
	// speakers of the AS (per director: give it per node).
	RouterID *Addr `yaml:"router_id,omitempty"`
	// Announcer says who speaks BGP: gobgp (default: lbx embeds GoBGP and
	// holds the sessions) or kernel (lbx only puts each announced prefix
	// into a routing table; the host's BIRD or FRR redistributes it).
	Announcer string `yaml:"announcer,omitempty"`
	// Kernel is where the kernel announcer puts its routes.
	Kernel *BGPKernel `yaml:"kernel,omitempty"`
	// GracefulShutdown, if set, is how long `lbx watch` keeps its routes
	// tagged with the GRACEFUL_SHUTDOWN community (RFC 8326) at stop
	// before it withdraws them, so that routers move traffic first.
	// Absent: withdraw at once.
	GracefulShutdown *Duration `yaml:"graceful_shutdown,omitempty"`
	// Peers are the routers this director holds sessions with.
	Peers []*BGPPeer `yaml:"peers,omitempty"`
	// Announcements are the prefixes (VIPs) announced, each while its
	// condition holds.
	Announcements []*Announcement `yaml:"announcements,omitempty"`
}

// BGPKernel places the kernel announcer's routes. They carry lbx's owner
// mark (rtm_protocol 229, "proto 229" in ip route) for the router
// daemon's import filter.
type BGPKernel struct {
	// Table is the routing table of the announced routes (not 255, local).
	Table *int `yaml:"table,omitempty"`
	// Metric of the announced routes (default the kernel's).
	Metric *int `yaml:"metric,omitempty"`
}

// BGPPeer is one BGP neighbour.
type BGPPeer struct {
	// Address of the router.
	Address Addr `yaml:"address,omitempty"`
	// AS is the router's autonomous system number (equal to local_as: iBGP).
	AS uint32 `yaml:"as,omitempty"`
	// Port is the router's BGP port (default 179).
	Port int `yaml:"port,omitempty"`
	// HoldTime is the proposed hold time (default 90s; 0 or at least 3s).
	HoldTime *Duration `yaml:"hold_time,omitempty"`
	// Keepalive is the keepalive interval (default a third of hold_time).
	Keepalive *Duration `yaml:"keepalive,omitempty"`
	// EBGPMultihop is the TTL of an eBGP session to a router not on a
	// shared link (absent: 1, directly connected).
	EBGPMultihop *int `yaml:"ebgp_multihop,omitempty"`
	// PasswordFile holds the TCP-MD5 password (RFC 2385), read at start
	// and on reload; keeps the secret out of the model.
	PasswordFile string `yaml:"password_file,omitempty"`
	// GracefulRestart advertises graceful restart (RFC 4724): the router
	// keeps this director's routes across a restart of lbx watch.
	GracefulRestart bool `yaml:"graceful_restart,omitempty"`
}

// Announcement is a prefix announced while its condition holds.
type Announcement struct {
	// Prefix is the announced network, usually a VIP as /32 or /128.
	Prefix Network `yaml:"prefix,omitempty"`
	// Interface the VIP lives on (default lo, for DR and TUN): the prefix
	// is announced only while its address is there.
	Interface string `yaml:"interface,omitempty"`
	// When is the condition; absent: announced while the address is on
	// its interface.
	When *AnnounceCondition `yaml:"when,omitempty"`
	// WithdrawAfter is the hold-down between the condition failing and the
	// withdraw (default 0: at once).
	WithdrawAfter *Duration `yaml:"withdraw_after,omitempty"`
	// AnnounceAfter is the hold-down between the condition holding again
	// and the re-announce (default 0), against flapping.
	AnnounceAfter *Duration `yaml:"announce_after,omitempty"`
	// Communities are attached to the route: "AS:VALUE" or no-export,
	// no-advertise, no-peer.
	Communities []string `yaml:"communities,omitempty"`
	// MED is the multi-exit discriminator.
	MED *uint32 `yaml:"med,omitempty"`
}

// AnnounceCondition says when a prefix may be announced: every part given
// must hold.
type AnnounceCondition struct {
	// VirtualServers are services (by name) whose healthy real servers
	// count towards min_healthy; they must be in IPVS before the prefix is
	// announced.
	VirtualServers []string `yaml:"virtual_servers,omitempty"`
	// MinHealthy is the number of healthy real servers, summed over
	// virtual_servers, needed to announce (default 1; keepalived's quorum
	// as a condition).
	MinHealthy *int `yaml:"min_healthy,omitempty"`
	// VRRPInstance, if set, announces only while that instance is MASTER
	// (hybrid setups).
	VRRPInstance string `yaml:"vrrp_instance,omitempty"`
}

// BGP announcer kinds.
const (
	AnnouncerGoBGP  = "gobgp"
	AnnouncerKernel = "kernel"
)

// Defaults of the bgp section (BGP's own, RFC 4271 §10, as GoBGP and BIRD).
const (
	DefaultBGPPort       = 179
	DefaultBGPHoldTime   = 90 // seconds
	DefaultAnnounceIface = "lo"
)

// AnnouncerOf is the announcer in force.
func (b *BGP) AnnouncerOf() string {
	if b == nil || b.Announcer == "" {
		return AnnouncerGoBGP
	}
	return b.Announcer
}

// IfaceOf is the interface the announced address lives on.
func (a *Announcement) IfaceOf() string {
	if a.Interface == "" {
		return DefaultAnnounceIface
	}
	return a.Interface
}

// MinHealthyOf is the healthy real servers needed; 0 when the condition
// names no service.
func (c *AnnounceCondition) MinHealthyOf() int {
	switch {
	case c == nil || len(c.VirtualServers) == 0:
		return 0
	case c.MinHealthy == nil:
		return 1
	}
	return *c.MinHealthy
}

// Package state holds the one representation of load-balancer state that
// both sides of a plan use: the desired state compiled from the model (plus
// runtime facts) and the live state read from the kernel. Objects are keyed by
// identity (what the kernel uses to find them) and carry settings (what the
// kernel can change in place); counters are kept apart so that diffs ignore
// them.
package state

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Protocol is an IPVS service protocol. Its zero value is used by fwmark
// services, which match on a firewall mark instead of a protocol.
type Protocol string

const (
	TCP  Protocol = "tcp"
	UDP  Protocol = "udp"
	SCTP Protocol = "sctp"
)

// IPProto returns the IP protocol number used by the kernel.
func (p Protocol) IPProto() uint16 {
	switch p {
	case TCP:
		return 6
	case UDP:
		return 17
	case SCTP:
		return 132
	}
	return 0
}

// ProtocolFromIPProto maps a kernel protocol number back to a Protocol.
func ProtocolFromIPProto(n uint16) (Protocol, bool) {
	switch n {
	case 6:
		return TCP, true
	case 17:
		return UDP, true
	case 132:
		return SCTP, true
	}
	return "", false
}

// Family is an address family: 4 or 6.
type Family int

const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// ServiceKey is the identity of an IPVS virtual service: either
// protocol+address+port, or family+fwmark.
type ServiceKey struct {
	Protocol Protocol   `json:"protocol,omitempty"`
	Addr     netip.Addr `json:"address,omitzero"`
	Port     uint16     `json:"port,omitempty"`
	FWMark   uint32     `json:"fwmark,omitempty"`
	Family   Family     `json:"family"`
}

// String is the stable address used in plans: "tcp/10.0.0.1:80",
// "udp/[2001:db8::1]:53", "fwmark4/1".
func (k ServiceKey) String() string {
	if k.FWMark != 0 {
		return fmt.Sprintf("fwmark%d/%d", k.Family, k.FWMark)
	}
	return string(k.Protocol) + "/" + netip.AddrPortFrom(k.Addr, k.Port).String()
}

// Less orders service keys: fwmark services after address services, then by
// protocol, address and port.
func (k ServiceKey) Less(o ServiceKey) bool {
	if (k.FWMark != 0) != (o.FWMark != 0) {
		return k.FWMark == 0
	}
	if k.FWMark != 0 {
		if k.Family != o.Family {
			return k.Family < o.Family
		}
		return k.FWMark < o.FWMark
	}
	if k.Protocol != o.Protocol {
		return k.Protocol < o.Protocol
	}
	if c := k.Addr.Compare(o.Addr); c != 0 {
		return c < 0
	}
	return k.Port < o.Port
}

// Forwarding is a real server's packet forwarding method.
type Forwarding string

const (
	NAT Forwarding = "nat" // masquerading
	DR  Forwarding = "dr"  // direct routing (gatewaying)
	TUN Forwarding = "tun" // IP-in-IP tunnelling
)

// SchedFlags are the scheduler flag bits of an IPVS service
// (IP_VS_SVC_F_SCHED1..3). Their meaning depends on the scheduler: for sh and
// mh, flag-1 is "fallback" and flag-2 is "port".
type SchedFlags uint32

const (
	SchedFlag1 SchedFlags = 0x08
	SchedFlag2 SchedFlags = 0x10
	SchedFlag3 SchedFlags = 0x20
)

// Kernel service flag bits (include/uapi/linux/ip_vs.h).
const (
	SvcFlagPersistent uint32 = 0x01
	SvcFlagHashed     uint32 = 0x02 // set by the kernel on every hashed service
	SvcFlagOnePacket  uint32 = 0x04
	SvcFlagSchedMask  uint32 = 0x38
)

// Service is one IPVS virtual service and its real servers.
type Service struct {
	Key       ServiceKey `json:"key"`
	Scheduler string     `json:"scheduler"`
	// Flags are the scheduler flags (sh/mh fallback and port).
	Flags     SchedFlags `json:"sched_flags,omitempty"`
	OnePacket bool       `json:"one_packet,omitempty"`
	// Timeout is the persistence timeout in seconds; 0 means not persistent.
	Timeout uint32 `json:"persistence_timeout,omitempty"`
	// NetmaskBits is the persistence granularity as a prefix length (the
	// kernel encodes it as a mask for IPv4 and a length for IPv6).
	NetmaskBits int              `json:"persistence_netmask_bits"`
	Reals       map[RealKey]Real `json:"-"`
}

// ServiceSettings is a service without its real servers: a comparable
// value, so that plans compare settings with ==.
type ServiceSettings struct {
	Key         ServiceKey
	Scheduler   string
	Flags       SchedFlags
	OnePacket   bool
	Timeout     uint32
	NetmaskBits int
}

// Settings returns the service's settings.
func (s *Service) Settings() ServiceSettings {
	return ServiceSettings{s.Key, s.Scheduler, s.Flags, s.OnePacket, s.Timeout, s.NetmaskBits}
}

// Same reports whether two real servers have the same identity and
// settings; connection counters are not settings.
func (r Real) Same(o Real) bool {
	r.Counters, o.Counters = Counters{}, Counters{}
	return r == o
}

// Same reports whether two addresses are the same; Origin only labels
// messages, and Secondary is the kernel's fact about the address, not a
// setting of it.
func (a Address) Same(o Address) bool {
	a.Origin, o.Origin = "", ""
	a.Secondary, o.Secondary = false, false
	return a == o
}

// RealKey is the identity of a real server inside a service.
type RealKey struct {
	Addr netip.Addr `json:"address"`
	Port uint16     `json:"port"`
}

func (k RealKey) String() string { return netip.AddrPortFrom(k.Addr, k.Port).String() }

// Less orders real servers by address, then port.
func (k RealKey) Less(o RealKey) bool {
	if c := k.Addr.Compare(o.Addr); c != 0 {
		return c < 0
	}
	return k.Port < o.Port
}

// Real is one real server (IPVS destination).
type Real struct {
	Key            RealKey    `json:"key"`
	Weight         int        `json:"weight"`
	Forwarding     Forwarding `json:"forwarding"`
	UpperThreshold uint32     `json:"upper_threshold,omitempty"`
	LowerThreshold uint32     `json:"lower_threshold,omitempty"`
	// Tunnel encapsulation of a TUN real server: "" (ipip), "gue" or
	// "gre"; its UDP port (gue) and checksum mode ("", "csum", "remcsum").
	TunnelType     string `json:"tunnel_type,omitempty"`
	TunnelPort     uint16 `json:"tunnel_port,omitempty"`
	TunnelChecksum string `json:"tunnel_checksum,omitempty"`
	// Counters are read from the kernel and never compared.
	Counters Counters `json:"-"`
}

// Counters are the live connection counters of a real server.
type Counters struct {
	ActiveConns   int
	InactiveConns int
}

// AddressKey is the identity of an interface address.
type AddressKey struct {
	Interface string     `json:"interface"`
	Addr      netip.Addr `json:"address"`
}

func (k AddressKey) String() string { return k.Interface + "/" + k.Addr.String() }

// Less orders addresses by interface, then address.
func (k AddressKey) Less(o AddressKey) bool {
	if k.Interface != o.Interface {
		return k.Interface < o.Interface
	}
	return k.Addr.Compare(o.Addr) < 0
}

// Address is an address on a network interface.
type Address struct {
	Key    AddressKey `json:"key"`
	Bits   int        `json:"prefix_length"`
	Label  string     `json:"label,omitempty"`
	Scope  string     `json:"scope,omitempty"` // "global" (default), "host", "link", "site"
	Origin string     `json:"-"`               // e.g. "vrrp VI_1", for messages only
	// Secondary: read from the kernel (IFA_F_SECONDARY), an IPv4 address
	// that is not the first of its subnet on its interface. Deleting the
	// subnet's primary deletes its secondaries too unless the interface's
	// promote_secondaries is set (plan.TakenDown).
	Secondary bool `json:"-"`
}

// Prefix returns the address with its prefix length.
func (a Address) Prefix() netip.Prefix { return netip.PrefixFrom(a.Key.Addr, a.Bits) }

// State is a whole load-balancer state: services (with their real
// servers), interface addresses and routes.
type State struct {
	Services  map[ServiceKey]*Service
	Addresses map[AddressKey]Address
	Routes    map[RouteKey]Route
	// RouteDuplicates are the kernel's other routes under a key of Routes
	// (see AddLiveRoute); nil when there are none, as is usual.
	RouteDuplicates map[RouteKey][]Route
	// Sysctls are kernel settings (IPVS's, sysctl.go): in a desired
	// state those the model names, in a live one those read. Nil: none.
	Sysctls map[SysctlKey]int
}

// New returns an empty state.
func New() *State {
	return &State{Services: map[ServiceKey]*Service{}, Addresses: map[AddressKey]Address{}, Routes: map[RouteKey]Route{}}
}

// Key is an object identity with an order (the keys of this package).
type Key[K any] interface {
	comparable
	Less(K) bool
}

// SortedKeys returns a map's keys in their order: plans and output are
// stable whatever the map order.
func SortedKeys[K Key[K], V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Less(keys[j]) })
	return keys
}

// ServiceKeys returns the service keys in stable order.
func (s *State) ServiceKeys() []ServiceKey { return SortedKeys(s.Services) }

// AddressKeys returns the address keys in stable order.
func (s *State) AddressKeys() []AddressKey { return SortedKeys(s.Addresses) }

// RealKeys returns a service's real server keys in stable order.
func (s *Service) RealKeys() []RealKey { return SortedKeys(s.Reals) }

// Clone returns a deep copy of the service.
func (s *Service) Clone() *Service {
	c := *s
	c.Reals = make(map[RealKey]Real, len(s.Reals))
	for k, r := range s.Reals {
		c.Reals[k] = r
	}
	return &c
}

// Clone returns a deep copy of the state.
func (s *State) Clone() *State {
	c := New()
	for k, svc := range s.Services {
		c.Services[k] = svc.Clone()
	}
	for k, a := range s.Addresses {
		c.Addresses[k] = a
	}
	for k, r := range s.Routes {
		r.Nexthops = slices.Clone(r.Nexthops)
		c.Routes[k] = r
	}
	for k, dups := range s.RouteDuplicates {
		if c.RouteDuplicates == nil {
			c.RouteDuplicates = map[RouteKey][]Route{}
		}
		for _, r := range dups {
			r.Nexthops = slices.Clone(r.Nexthops)
			c.RouteDuplicates[k] = append(c.RouteDuplicates[k], r)
		}
	}
	c.Sysctls = cloneSysctls(s.Sysctls)
	return c
}

// DefaultNetmaskBits is the persistence granularity the kernel uses when none
// is given: a single client address.
func DefaultNetmaskBits(f Family) int {
	if f == IPv6 {
		return 128
	}
	return 32
}

// FamilyOf returns the family of an address.
func FamilyOf(a netip.Addr) Family {
	if a.Is4() || a.Is4In6() {
		return IPv4
	}
	return IPv6
}

// ParseServiceKey parses the String form of a ServiceKey.
func ParseServiceKey(s string) (ServiceKey, error) {
	proto, rest, ok := strings.Cut(s, "/")
	if !ok {
		return ServiceKey{}, fmt.Errorf("service %q: want PROTO/ADDR:PORT or fwmark4/N", s)
	}
	if proto == "fwmark4" || proto == "fwmark6" {
		n, err := strconv.ParseUint(rest, 10, 32)
		if err != nil || n == 0 {
			return ServiceKey{}, fmt.Errorf("service %q: bad fwmark", s)
		}
		f := IPv4
		if proto == "fwmark6" {
			f = IPv6
		}
		return ServiceKey{FWMark: uint32(n), Family: f}, nil
	}
	p := Protocol(proto)
	if p.IPProto() == 0 {
		return ServiceKey{}, fmt.Errorf("service %q: unknown protocol %q", s, proto)
	}
	ap, err := netip.ParseAddrPort(rest)
	if err != nil {
		return ServiceKey{}, fmt.Errorf("service %q: %v", s, err)
	}
	return ServiceKey{Protocol: p, Addr: ap.Addr(), Port: ap.Port(), Family: FamilyOf(ap.Addr())}, nil
}

// SyncRole is an IPVS connection sync daemon's role: the kernel runs at
// most one daemon of each.
type SyncRole string

const (
	SyncMaster SyncRole = "master" // sends the connection table
	SyncBackup SyncRole = "backup" // receives it
)

// SyncDaemon is an IPVS connection sync daemon (ipvsadm --start-daemon).
// In a wanted daemon, zero MaxLen, Port and TTL and an invalid Group mean
// "the kernel's default" (SyncDefault*); a daemon read from the kernel
// has them all.
type SyncDaemon struct {
	Role      SyncRole   `json:"role"`
	Interface string     `json:"interface"`
	SyncID    int        `json:"sync_id"`
	MaxLen    int        `json:"max_len,omitempty"`
	Group     netip.Addr `json:"group,omitempty"`
	Port      int        `json:"port,omitempty"`
	TTL       int        `json:"ttl,omitempty"`
}

// The kernel's sync daemon defaults (ip_vs_sync.c); max_len's is
// SyncDefaultMaxLen.
var SyncDefaultGroup = netip.MustParseAddr("224.0.0.81")

const (
	SyncDefaultPort = 8848
	SyncDefaultTTL  = 1
)

// SyncHeaderLen is what the kernel takes off 1500 (or the MTU) for a sync
// message's payload: IPv4 or IPv6, and UDP.
func SyncHeaderLen(group netip.Addr) int {
	if group.Is6() {
		return 40 + 8
	}
	return 20 + 8
}

// SatisfiedBy reports whether the running daemon live is the wanted d:
// the same role, interface, sync id and settings, a setting d leaves out
// being the kernel's default. live may be a daemon as the kernel reports
// it, or as lbx asked for it (apply.SyncDaemonMemory: its left-out
// settings zero too).
func (d SyncDaemon) SatisfiedBy(live SyncDaemon) bool {
	w, l := d.withDefaults(), live.withDefaults()
	return w.Role == l.Role && w.Interface == l.Interface && w.SyncID == l.SyncID &&
		w.Group == l.Group && w.Port == l.Port && w.TTL == l.TTL && d.maxLenSatisfiedBy(live)
}

func (d SyncDaemon) withDefaults() SyncDaemon {
	if !d.Group.IsValid() {
		d.Group = SyncDefaultGroup
	}
	if d.Port == 0 {
		d.Port = SyncDefaultPort
	}
	if d.TTL == 0 {
		d.TTL = SyncDefaultTTL
	}
	return d
}

// SyncDefaultMaxLen is the kernel's max_len for a daemon started without
// one (ip_vs_sync.c): 1500 less the headers for a master, the interface's
// MTU (at least 1500) less them for a backup.
func SyncDefaultMaxLen(role SyncRole, group netip.Addr, mtu int) int {
	if role == SyncBackup {
		return max(mtu, 1500) - SyncHeaderLen(group)
	}
	return 1500 - SyncHeaderLen(group)
}

// maxLenSatisfiedBy: a given max_len is what live has; one left out is
// left out in live too, or the kernel's default there (exact for a
// master; a backup's follows the interface's MTU, so at least the one
// for 1500).
func (d SyncDaemon) maxLenSatisfiedBy(live SyncDaemon) bool {
	if d.MaxLen != 0 || live.MaxLen == 0 {
		return d.MaxLen == live.MaxLen
	}
	def := SyncDefaultMaxLen(d.Role, live.withDefaults().Group, 1500)
	if d.Role == SyncBackup {
		return live.MaxLen >= def
	}
	return live.MaxLen == def
}

func (d SyncDaemon) String() string {
	s := fmt.Sprintf("%s on %s, sync id %d", d.Role, d.Interface, d.SyncID)
	if d.MaxLen != 0 {
		s += fmt.Sprintf(", max len %d", d.MaxLen)
	}
	if d.Group.IsValid() {
		s += ", group " + d.Group.String()
	}
	if d.Port != 0 {
		s += fmt.Sprintf(", port %d", d.Port)
	}
	if d.TTL != 0 {
		s += fmt.Sprintf(", ttl %d", d.TTL)
	}
	return s
}

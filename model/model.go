// Package model is lbx's declarative configuration: the YAML schema, its
// strict loader (every error with file:line:column and field path) and the
// compiler that turns a model plus runtime facts into the desired state.
//
// The schema covers everything keepalived.conf can say that lbx runs; where
// a feature's runtime comes later (VRRP, checkers), its settings already have
// a home here. Defaults are keepalived's and live in defaults.go.
package model

// Version is the model format version this build reads.
const Version = 1

// Model is a whole lbx configuration file.
type Model struct {
	Version             int                   `yaml:"version"`
	Global              Global                `yaml:"global,omitempty"`
	Scripts             map[string]*Script    `yaml:"scripts,omitempty"`
	Addresses           []*StaticAddress      `yaml:"addresses,omitempty"`
	Routes              []*Route              `yaml:"routes,omitempty"`
	VRRPInstances       []*VRRPInstance       `yaml:"vrrp_instances,omitempty"`
	SyncGroups          []*SyncGroup          `yaml:"sync_groups,omitempty"`
	VirtualServerGroups []*VirtualServerGroup `yaml:"virtual_server_groups,omitempty"`
	VirtualServers      []*VirtualServer      `yaml:"virtual_servers,omitempty"`

	// Positions maps a field path (e.g. "virtual_servers[0].port") to where
	// it was written. Filled by Load; empty for models built in code.
	Positions Positions `yaml:"-"`
	// File is the name the model was loaded from.
	File string `yaml:"-"`
}

// Global holds settings that apply to the whole director (keepalived's
// global_defs).
type Global struct {
	RouterID string `yaml:"router_id,omitempty"`
	// EnableScriptSecurity refuses scripts writable by non-root users.
	EnableScriptSecurity *bool  `yaml:"enable_script_security,omitempty"`
	ScriptUser           string `yaml:"script_user,omitempty"`
	ScriptGroup          string `yaml:"script_group,omitempty"`
	// Notification settings kept from keepalived (used by notify scripts).
	NotificationEmail     []string  `yaml:"notification_email,omitempty"`
	NotificationEmailFrom string    `yaml:"notification_email_from,omitempty"`
	SMTPServer            string    `yaml:"smtp_server,omitempty"`
	SMTPConnectTimeout    *Duration `yaml:"smtp_connect_timeout,omitempty"`
	// VRRP defaults applied to every instance.
	VRRPGarpMasterDelay   *Duration `yaml:"vrrp_garp_master_delay,omitempty"`
	VRRPGarpMasterRepeat  *int      `yaml:"vrrp_garp_master_repeat,omitempty"`
	VRRPGarpMasterRefresh *Duration `yaml:"vrrp_garp_master_refresh,omitempty"`
	VRRPVersion           *int      `yaml:"vrrp_version,omitempty"`
	VRRPStrict            bool      `yaml:"vrrp_strict,omitempty"`
	// LVSSyncDaemon configures IPVS connection synchronisation.
	LVSSyncDaemon *LVSSyncDaemon `yaml:"lvs_sync_daemon,omitempty"`
	// ResyncInterval is how often `lbx watch` re-reads the kernel and
	// repairs drift that no notification reported (IPVS has none).
	ResyncInterval *Duration `yaml:"resync_interval,omitempty"`
	// IPVSOnStop says what `lbx watch` does with its IPVS services when it
	// stops: "keep" (default: traffic flows across restarts) or "remove".
	IPVSOnStop string `yaml:"ipvs_on_stop,omitempty"`
	// DrainTimeout is how long a removed real server is drained (weight 0)
	// before deletion, when its service does not say otherwise. 0: delete
	// at once.
	DrainTimeout *Duration `yaml:"drain_timeout,omitempty"`
}

// LVSSyncDaemon is the IPVS connection sync daemon (keepalived's
// lvs_sync_daemon INTERFACE VRRP_INSTANCE [id N] [maxlen N] [port N]
// [ttl N] [group ADDR]). lbx watch runs the master daemon while the
// instance is MASTER and the backup daemon otherwise, as keepalived.
type LVSSyncDaemon struct {
	Interface    string `yaml:"interface,omitempty"`
	VRRPInstance string `yaml:"vrrp_instance,omitempty"`
	// SyncID tells this pair's sync messages from another's on the same
	// network; absent: the instance's virtual_router_id (keepalived).
	SyncID *int `yaml:"sync_id,omitempty"`
	// MaxLen (UDP payload), Port (the multicast base port), TTL and Group
	// (the multicast group): absent, the kernel's defaults (1500 less the
	// headers for a master, the interface's MTU less them for a backup;
	// 8848, 1, 224.0.0.81). The kernel raises a backup's MaxLen to 1024.
	MaxLen int   `yaml:"max_len,omitempty"`
	Port   int   `yaml:"port,omitempty"`
	TTL    int   `yaml:"ttl,omitempty"`
	Group  *Addr `yaml:"group,omitempty"`
}

// Script is a tracking script (keepalived's vrrp_script).
type Script struct {
	Script   string    `yaml:"script,omitempty"`
	Interval *Duration `yaml:"interval,omitempty"`
	Timeout  *Duration `yaml:"timeout,omitempty"`
	// Weight is added to the priority while the script succeeds (> 0) or
	// subtracted while it fails (< 0). 0: failure puts the instance in FAULT.
	Weight   int    `yaml:"weight,omitempty"`
	Reverse  bool   `yaml:"weight_reverse,omitempty"`
	Rise     *int   `yaml:"rise,omitempty"`
	Fall     *int   `yaml:"fall,omitempty"`
	User     string `yaml:"user,omitempty"`
	Group    string `yaml:"group,omitempty"`
	InitFail bool   `yaml:"init_fail,omitempty"`
}

// StaticAddress is an interface address lbx keeps regardless of VRRP state
// (keepalived's static_ipaddress).
type StaticAddress struct {
	Address   Prefix `yaml:"address,omitempty"`
	Interface string `yaml:"interface,omitempty"`
	Label     string `yaml:"label,omitempty"`
	Scope     string `yaml:"scope,omitempty"`
}

// Route is a kernel route: in Model.Routes it is kept whatever the VRRP
// state (keepalived's static_routes), in an instance's virtual_routes
// only while the instance is MASTER. The table, destination and metric
// are its identity; the rest is changed in place.
type Route struct {
	To   Network `yaml:"to,omitempty"`
	Type string  `yaml:"type,omitempty"` // unicast (default), blackhole, unreachable, prohibit, throw
	// A single path (Via and/or Interface) or Nexthops (two or more).
	Via       *Addr      `yaml:"via,omitempty"`
	Interface string     `yaml:"interface,omitempty"`
	Nexthops  []*Nexthop `yaml:"nexthops,omitempty"`
	Src       *Addr      `yaml:"src,omitempty"`    // preferred source; must be local
	Table     *int       `yaml:"table,omitempty"`  // default main (254)
	Metric    *int       `yaml:"metric,omitempty"` // default the kernel's: 0 (IPv4), 1024 (IPv6)
	// Scope default as ip route's: link for a unicast route without a
	// gateway, global otherwise.
	Scope  string `yaml:"scope,omitempty"`
	OnLink bool   `yaml:"onlink,omitempty"`
}

// Nexthop is one path of a multipath route.
type Nexthop struct {
	Via       *Addr  `yaml:"via,omitempty"`
	Interface string `yaml:"interface,omitempty"`
	Weight    *int   `yaml:"weight,omitempty"` // 1..256, default 1
	OnLink    bool   `yaml:"onlink,omitempty"`
}

// VRRPInstance is one virtual router (keepalived's vrrp_instance).
type VRRPInstance struct {
	Name            string    `yaml:"name,omitempty"`
	State           string    `yaml:"state,omitempty"` // initial state: MASTER or BACKUP
	Interface       string    `yaml:"interface,omitempty"`
	VirtualRouterID int       `yaml:"virtual_router_id,omitempty"`
	Priority        *int      `yaml:"priority,omitempty"`
	AdvertInt       *Duration `yaml:"advert_int,omitempty"`
	Version         *int      `yaml:"version"`
	UnicastSrcIP    *Addr     `yaml:"unicast_src_ip,omitempty"`
	UnicastPeers    []Addr    `yaml:"unicast_peers,omitempty"`
	McastSrcIP      *Addr     `yaml:"mcast_src_ip,omitempty"`
	Authentication  *Auth     `yaml:"authentication,omitempty"`
	NoPreempt       bool      `yaml:"nopreempt,omitempty"`
	PreemptDelay    *Duration `yaml:"preempt_delay,omitempty"`
	// Garp settings: gratuitous ARP / unsolicited NA on becoming master.
	GarpMasterDelay          *Duration         `yaml:"garp_master_delay,omitempty"`
	GarpMasterRepeat         *int              `yaml:"garp_master_repeat,omitempty"`
	GarpMasterRefresh        *Duration         `yaml:"garp_master_refresh,omitempty"`
	GarpMasterRefreshRepeat  *int              `yaml:"garp_master_refresh_repeat,omitempty"`
	VirtualAddresses         []*VirtualAddress `yaml:"virtual_addresses,omitempty"`
	VirtualAddressesExcluded []*VirtualAddress `yaml:"virtual_addresses_excluded,omitempty"`
	// VirtualRoutes are in the kernel while the instance is MASTER.
	VirtualRoutes   []*Route          `yaml:"virtual_routes,omitempty"`
	TrackInterfaces []*TrackInterface `yaml:"track_interfaces,omitempty"`
	TrackScripts    []*TrackScript    `yaml:"track_scripts,omitempty"`
	Notify          Notify            `yaml:"notify,omitempty"`
	// SMTPAlert asks for e-mail on transitions (kept from keepalived).
	SMTPAlert bool `yaml:"smtp_alert,omitempty"`
}

// Auth is VRRP authentication. Only PASS runs; AH is accepted in the model
// and refused when the instance starts.
type Auth struct {
	Type string `yaml:"type,omitempty"` // PASS or AH
	Pass string `yaml:"pass,omitempty"`
}

// VirtualAddress is an address owned by a VRRP instance while it is MASTER.
type VirtualAddress struct {
	Address   Prefix `yaml:"address,omitempty"`
	Interface string `yaml:"interface,omitempty"` // default: the instance's interface
	Label     string `yaml:"label,omitempty"`
	Scope     string `yaml:"scope,omitempty"`
}

// TrackInterface makes an instance depend on a link.
type TrackInterface struct {
	Name string `yaml:"name,omitempty"`
	// Weight 0: link down puts the instance in FAULT. Otherwise, as
	// keepalived: a positive weight is added to the priority while the link
	// is up, a negative one while it is down.
	Weight int `yaml:"weight,omitempty"`
}

// TrackScript makes an instance depend on a script of Model.Scripts.
type TrackScript struct {
	Name   string `yaml:"name,omitempty"`
	Weight *int   `yaml:"weight,omitempty"` // overrides the script's weight
}

// Notify are the scripts run on transitions. Each is a command line; the
// generic Any script gets keepalived's arguments: INSTANCE|GROUP name state
// priority.
type Notify struct {
	Master string `yaml:"master,omitempty"`
	Backup string `yaml:"backup,omitempty"`
	Fault  string `yaml:"fault,omitempty"`
	Stop   string `yaml:"stop,omitempty"`
	Any    string `yaml:"any,omitempty"`
}

// SyncGroup makes VRRP instances change state together.
type SyncGroup struct {
	Name      string   `yaml:"name,omitempty"`
	Members   []string `yaml:"members,omitempty"`
	Notify    Notify   `yaml:"notify,omitempty"`
	SMTPAlert bool     `yaml:"smtp_alert,omitempty"`
}

// VirtualServerGroup is a set of virtual addresses (or fwmarks) sharing one
// real-server pool (keepalived's virtual_server_group).
type VirtualServerGroup struct {
	Name    string         `yaml:"name,omitempty"`
	Members []*GroupMember `yaml:"members,omitempty"`
}

// GroupMember is one entry of a group: an address (or a last-octet/hextet
// range like 10.0.0.10-12) with a port, or a fwmark.
type GroupMember struct {
	Address *AddrRange `yaml:"address,omitempty"`
	Port    int        `yaml:"port,omitempty"`
	FWMark  uint32     `yaml:"fwmark,omitempty"`
}

// VirtualServer is an IPVS virtual service and its real servers.
type VirtualServer struct {
	Name string `yaml:"name,omitempty"`
	// Identity: exactly one of address+port, fwmark, group.
	Address  *Addr  `yaml:"address,omitempty"`
	Port     int    `yaml:"port,omitempty"`
	FWMark   uint32 `yaml:"fwmark,omitempty"`
	Family   int    `yaml:"family,omitempty"` // fwmark services: 4 (default) or 6
	Group    string `yaml:"group,omitempty"`
	Protocol string `yaml:"protocol,omitempty"` // tcp (default), udp, sctp

	Scheduler      string       `yaml:"scheduler,omitempty"`
	SchedulerFlags []string     `yaml:"scheduler_flags,omitempty"` // sh-port sh-fallback mh-port mh-fallback flag-1 flag-2 flag-3
	OnePacket      bool         `yaml:"one_packet,omitempty"`
	Forwarding     string       `yaml:"forwarding,omitempty"` // default for real servers: nat, dr, tun
	Persistence    *Persistence `yaml:"persistence,omitempty"`

	SorryServer      *SorryServer `yaml:"sorry_server,omitempty"`
	InhibitOnFailure bool         `yaml:"inhibit_on_failure,omitempty"`
	Quorum           *Quorum      `yaml:"quorum,omitempty"`
	Alpha            bool         `yaml:"alpha,omitempty"`
	Omega            bool         `yaml:"omega,omitempty"`
	HASuspend        bool         `yaml:"ha_suspend,omitempty"`
	DelayLoop        *Duration    `yaml:"delay_loop,omitempty"`
	Virtualhost      string       `yaml:"virtualhost,omitempty"`
	// DrainTimeout: a real server removed from the model is first set to
	// weight 0 and deleted once idle or after this long (UDP at once).
	DrainTimeout *Duration `yaml:"drain_timeout,omitempty"`

	RealServers []*RealServer `yaml:"real_servers,omitempty"`
}

// Persistence makes a client stick to one real server.
type Persistence struct {
	Timeout     *Duration `yaml:"timeout,omitempty"`     // default 360s (keepalived)
	Granularity *Mask     `yaml:"granularity,omitempty"` // netmask or prefix length
}

// SorryServer receives traffic while no real server is up.
type SorryServer struct {
	Address    Addr   `yaml:"address,omitempty"`
	Port       int    `yaml:"port,omitempty"`
	Forwarding string `yaml:"forwarding,omitempty"`
	Inhibit    bool   `yaml:"inhibit,omitempty"`
}

// Quorum is the minimum total weight of live real servers for the service
// to be considered up; the scripts run on crossings.
type Quorum struct {
	Min        int    `yaml:"min,omitempty"` // 0: keepalived's default, 1
	Hysteresis int    `yaml:"hysteresis,omitempty"`
	UpScript   string `yaml:"up_script,omitempty"`
	DownScript string `yaml:"down_script,omitempty"`
}

// MinWeight is the quorum in force: Min, or keepalived's default when the
// model has no quorum or leaves min out.
func (q *Quorum) MinWeight() int {
	if q == nil || q.Min == 0 {
		return DefaultQuorum
	}
	return q.Min
}

// RealServer is one IPVS destination of a virtual server.
type RealServer struct {
	Name             string   `yaml:"name,omitempty"`
	Address          Addr     `yaml:"address,omitempty"`
	Port             int      `yaml:"port,omitempty"` // default: the virtual server's port
	Weight           *int     `yaml:"weight,omitempty"`
	Forwarding       string   `yaml:"forwarding,omitempty"` // default: the virtual server's
	Tunnel           *Tunnel  `yaml:"tunnel,omitempty"`
	UpperThreshold   uint32   `yaml:"upper_threshold,omitempty"`
	LowerThreshold   uint32   `yaml:"lower_threshold,omitempty"`
	InhibitOnFailure *bool    `yaml:"inhibit_on_failure,omitempty"`
	NotifyUp         string   `yaml:"notify_up,omitempty"`
	NotifyDown       string   `yaml:"notify_down,omitempty"`
	Checks           []*Check `yaml:"checks,omitempty"`
}

// Tunnel is the encapsulation of a TUN real server (Linux 5.3+ for gue and
// gre): ipip (default), gue over UDP port Port, or gre.
type Tunnel struct {
	Type     string `yaml:"type,omitempty"` // ipip (default), gue, gre
	Port     int    `yaml:"port,omitempty"`
	Checksum string `yaml:"checksum,omitempty"` // none, csum, remcsum
}

// Check is one health check of a real server. Type selects the checker;
// type-specific fields are refused on other types.
type Check struct {
	Type string `yaml:"type,omitempty"` // tcp, http_get, ssl_get, misc, smtp, dns, udp, ping, file

	// Common fields.
	ConnectIP        *Addr     `yaml:"connect_ip,omitempty"`
	ConnectPort      int       `yaml:"connect_port,omitempty"`
	BindTo           *Addr     `yaml:"bindto,omitempty"`
	BindPort         int       `yaml:"bind_port,omitempty"`
	BindInterface    string    `yaml:"bind_if,omitempty"`
	ConnectTimeout   *Duration `yaml:"connect_timeout,omitempty"`
	Retry            *int      `yaml:"retry,omitempty"`
	DelayBeforeRetry *Duration `yaml:"delay_before_retry,omitempty"`
	DelayLoop        *Duration `yaml:"delay_loop,omitempty"`
	Warmup           *Duration `yaml:"warmup,omitempty"`
	FWMark           uint32    `yaml:"fwmark,omitempty"`

	// http_get / ssl_get
	URLs        []*URL `yaml:"urls,omitempty"`
	Virtualhost string `yaml:"virtualhost,omitempty"`
	SNI         string `yaml:"sni,omitempty"`
	VerifyTLS   bool   `yaml:"verify_tls,omitempty"`
	// HTTPVersion is keepalived's http_protocol: "1.0" (the default),
	// "1.0C" (1.0 with Connection: close) or "1.1" (with Connection: close).
	HTTPVersion string `yaml:"http_protocol,omitempty"`

	// misc
	Path    string    `yaml:"path,omitempty"`
	Timeout *Duration `yaml:"timeout,omitempty"`
	Dynamic bool      `yaml:"dynamic,omitempty"`
	User    string    `yaml:"user,omitempty"`

	// smtp
	HeloName string `yaml:"helo_name,omitempty"`

	// dns
	DNSType string `yaml:"dns_type,omitempty"`
	DNSName string `yaml:"dns_name,omitempty"`

	// udp
	Payload      string `yaml:"payload,omitempty"`
	RequireReply bool   `yaml:"require_reply,omitempty"`

	// file
	File string `yaml:"file,omitempty"`
}

// URL is one URL an HTTP or SSL check fetches.
type URL struct {
	Path        string   `yaml:"path,omitempty"`
	Digest      string   `yaml:"digest,omitempty"`       // MD5 of the body, hex
	StatusCodes []string `yaml:"status_codes,omitempty"` // "200", "200-299"; default 200-299
	Virtualhost string   `yaml:"virtualhost,omitempty"`
}

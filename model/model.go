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
	Global              Global                `yaml:"global"`
	Scripts             map[string]*Script    `yaml:"scripts"`
	Addresses           []*StaticAddress      `yaml:"addresses"`
	VRRPInstances       []*VRRPInstance       `yaml:"vrrp_instances"`
	SyncGroups          []*SyncGroup          `yaml:"sync_groups"`
	VirtualServerGroups []*VirtualServerGroup `yaml:"virtual_server_groups"`
	VirtualServers      []*VirtualServer      `yaml:"virtual_servers"`

	// Positions maps a field path (e.g. "virtual_servers[0].port") to where
	// it was written. Filled by Load; empty for models built in code.
	Positions Positions `yaml:"-"`
	// File is the name the model was loaded from.
	File string `yaml:"-"`
}

// Global holds settings that apply to the whole director (keepalived's
// global_defs).
type Global struct {
	RouterID string `yaml:"router_id"`
	// EnableScriptSecurity refuses scripts writable by non-root users.
	EnableScriptSecurity *bool  `yaml:"enable_script_security"`
	ScriptUser           string `yaml:"script_user"`
	ScriptGroup          string `yaml:"script_group"`
	// Notification settings kept from keepalived (used by notify scripts).
	NotificationEmail     []string  `yaml:"notification_email"`
	NotificationEmailFrom string    `yaml:"notification_email_from"`
	SMTPServer            string    `yaml:"smtp_server"`
	SMTPConnectTimeout    *Duration `yaml:"smtp_connect_timeout"`
	// VRRP defaults applied to every instance.
	VRRPGarpMasterDelay   *Duration `yaml:"vrrp_garp_master_delay"`
	VRRPGarpMasterRepeat  *int      `yaml:"vrrp_garp_master_repeat"`
	VRRPGarpMasterRefresh *Duration `yaml:"vrrp_garp_master_refresh"`
	VRRPVersion           *int      `yaml:"vrrp_version"`
	VRRPStrict            bool      `yaml:"vrrp_strict"`
	// LVSSyncDaemon configures IPVS connection synchronisation.
	LVSSyncDaemon *LVSSyncDaemon `yaml:"lvs_sync_daemon"`
	// DrainTimeout is how long a removed real server is drained (weight 0)
	// before deletion, when its service does not say otherwise. 0: delete
	// at once.
	DrainTimeout *Duration `yaml:"drain_timeout"`
}

// LVSSyncDaemon is the IPVS connection sync daemon (keepalived's
// lvs_sync_daemon INTERFACE VRRP_INSTANCE [id N]).
type LVSSyncDaemon struct {
	Interface    string `yaml:"interface"`
	VRRPInstance string `yaml:"vrrp_instance"`
	SyncID       int    `yaml:"sync_id"`
}

// Script is a tracking script (keepalived's vrrp_script).
type Script struct {
	Script   string    `yaml:"script"`
	Interval *Duration `yaml:"interval"`
	Timeout  *Duration `yaml:"timeout"`
	// Weight is added to the priority while the script succeeds (> 0) or
	// subtracted while it fails (< 0). 0: failure puts the instance in FAULT.
	Weight   int    `yaml:"weight"`
	Reverse  bool   `yaml:"weight_reverse"`
	Rise     *int   `yaml:"rise"`
	Fall     *int   `yaml:"fall"`
	User     string `yaml:"user"`
	Group    string `yaml:"group"`
	InitFail bool   `yaml:"init_fail"`
}

// StaticAddress is an interface address lbx keeps regardless of VRRP state
// (keepalived's static_ipaddress).
type StaticAddress struct {
	Address   Prefix `yaml:"address"`
	Interface string `yaml:"interface"`
	Label     string `yaml:"label"`
	Scope     string `yaml:"scope"`
}

// VRRPInstance is one virtual router (keepalived's vrrp_instance).
type VRRPInstance struct {
	Name            string    `yaml:"name"`
	State           string    `yaml:"state"` // initial state: MASTER or BACKUP
	Interface       string    `yaml:"interface"`
	VirtualRouterID int       `yaml:"virtual_router_id"`
	Priority        *int      `yaml:"priority"`
	AdvertInt       *Duration `yaml:"advert_int"`
	Version         *int      `yaml:"version"`
	UnicastSrcIP    *Addr     `yaml:"unicast_src_ip"`
	UnicastPeers    []Addr    `yaml:"unicast_peers"`
	McastSrcIP      *Addr     `yaml:"mcast_src_ip"`
	Authentication  *Auth     `yaml:"authentication"`
	NoPreempt       bool      `yaml:"nopreempt"`
	PreemptDelay    *Duration `yaml:"preempt_delay"`
	// Garp settings: gratuitous ARP / unsolicited NA on becoming master.
	GarpMasterDelay          *Duration         `yaml:"garp_master_delay"`
	GarpMasterRepeat         *int              `yaml:"garp_master_repeat"`
	GarpMasterRefresh        *Duration         `yaml:"garp_master_refresh"`
	GarpMasterRefreshRepeat  *int              `yaml:"garp_master_refresh_repeat"`
	VirtualAddresses         []*VirtualAddress `yaml:"virtual_addresses"`
	VirtualAddressesExcluded []*VirtualAddress `yaml:"virtual_addresses_excluded"`
	TrackInterfaces          []*TrackInterface `yaml:"track_interfaces"`
	TrackScripts             []*TrackScript    `yaml:"track_scripts"`
	Notify                   Notify            `yaml:"notify"`
	// SMTPAlert asks for e-mail on transitions (kept from keepalived).
	SMTPAlert bool `yaml:"smtp_alert"`
}

// Auth is VRRP authentication. Only PASS runs; AH is accepted in the model
// and refused when the instance starts.
type Auth struct {
	Type string `yaml:"type"` // PASS or AH
	Pass string `yaml:"pass"`
}

// VirtualAddress is an address owned by a VRRP instance while it is MASTER.
type VirtualAddress struct {
	Address   Prefix `yaml:"address"`
	Interface string `yaml:"interface"` // default: the instance's interface
	Label     string `yaml:"label"`
	Scope     string `yaml:"scope"`
}

// TrackInterface makes an instance depend on a link.
type TrackInterface struct {
	Name string `yaml:"name"`
	// Weight 0: link down puts the instance in FAULT; otherwise the
	// weight is added to the priority while the link is down (negative
	// lowers it) — keepalived's semantics.
	Weight int `yaml:"weight"`
}

// TrackScript makes an instance depend on a script of Model.Scripts.
type TrackScript struct {
	Name   string `yaml:"name"`
	Weight *int   `yaml:"weight"` // overrides the script's weight
}

// Notify are the scripts run on transitions. Each is a command line; the
// generic Any script gets keepalived's arguments: INSTANCE|GROUP name state
// priority.
type Notify struct {
	Master string `yaml:"master"`
	Backup string `yaml:"backup"`
	Fault  string `yaml:"fault"`
	Stop   string `yaml:"stop"`
	Any    string `yaml:"any"`
}

// SyncGroup makes VRRP instances change state together.
type SyncGroup struct {
	Name      string   `yaml:"name"`
	Members   []string `yaml:"members"`
	Notify    Notify   `yaml:"notify"`
	SMTPAlert bool     `yaml:"smtp_alert"`
}

// VirtualServerGroup is a set of virtual addresses (or fwmarks) sharing one
// real-server pool (keepalived's virtual_server_group).
type VirtualServerGroup struct {
	Name    string         `yaml:"name"`
	Members []*GroupMember `yaml:"members"`
}

// GroupMember is one entry of a group: an address (or a last-octet/hextet
// range like 10.0.0.10-12) with a port, or a fwmark.
type GroupMember struct {
	Address *AddrRange `yaml:"address"`
	Port    int        `yaml:"port"`
	FWMark  uint32     `yaml:"fwmark"`
}

// VirtualServer is an IPVS virtual service and its real servers.
type VirtualServer struct {
	Name string `yaml:"name"`
	// Identity: exactly one of address+port, fwmark, group.
	Address  *Addr  `yaml:"address"`
	Port     int    `yaml:"port"`
	FWMark   uint32 `yaml:"fwmark"`
	Family   int    `yaml:"family"` // fwmark services: 4 (default) or 6
	Group    string `yaml:"group"`
	Protocol string `yaml:"protocol"` // tcp (default), udp, sctp

	Scheduler      string       `yaml:"scheduler"`
	SchedulerFlags []string     `yaml:"scheduler_flags"` // sh-port sh-fallback mh-port mh-fallback flag-1 flag-2 flag-3
	OnePacket      bool         `yaml:"one_packet"`
	Forwarding     string       `yaml:"forwarding"` // default for real servers: nat, dr, tun
	Persistence    *Persistence `yaml:"persistence"`

	SorryServer      *SorryServer `yaml:"sorry_server"`
	InhibitOnFailure bool         `yaml:"inhibit_on_failure"`
	Quorum           *Quorum      `yaml:"quorum"`
	Alpha            bool         `yaml:"alpha"`
	Omega            bool         `yaml:"omega"`
	HASuspend        bool         `yaml:"ha_suspend"`
	DelayLoop        *Duration    `yaml:"delay_loop"`
	Virtualhost      string       `yaml:"virtualhost"`
	// DrainTimeout: a real server removed from the model is first set to
	// weight 0 and deleted once idle or after this long (UDP at once).
	DrainTimeout *Duration `yaml:"drain_timeout"`

	RealServers []*RealServer `yaml:"real_servers"`
}

// Persistence makes a client stick to one real server.
type Persistence struct {
	Timeout     *Duration `yaml:"timeout"`     // default 360s (keepalived)
	Granularity *Mask     `yaml:"granularity"` // netmask or prefix length
}

// SorryServer receives traffic while no real server is up.
type SorryServer struct {
	Address    Addr   `yaml:"address"`
	Port       int    `yaml:"port"`
	Forwarding string `yaml:"forwarding"`
	Inhibit    bool   `yaml:"inhibit"`
}

// Quorum is the minimum total weight of live real servers for the service
// to be considered up; the scripts run on crossings.
type Quorum struct {
	Min        int    `yaml:"min"`
	Hysteresis int    `yaml:"hysteresis"`
	UpScript   string `yaml:"up_script"`
	DownScript string `yaml:"down_script"`
}

// RealServer is one IPVS destination of a virtual server.
type RealServer struct {
	Name             string   `yaml:"name"`
	Address          Addr     `yaml:"address"`
	Port             int      `yaml:"port"` // default: the virtual server's port
	Weight           *int     `yaml:"weight"`
	Forwarding       string   `yaml:"forwarding"` // default: the virtual server's
	Tunnel           *Tunnel  `yaml:"tunnel"`
	UpperThreshold   uint32   `yaml:"upper_threshold"`
	LowerThreshold   uint32   `yaml:"lower_threshold"`
	InhibitOnFailure *bool    `yaml:"inhibit_on_failure"`
	NotifyUp         string   `yaml:"notify_up"`
	NotifyDown       string   `yaml:"notify_down"`
	Checks           []*Check `yaml:"checks"`
}

// Tunnel is the encapsulation of a TUN real server. Only ipip is programmed
// today (moby/ipvs cannot set the tunnel type); gue and gre are validated and
// refused at apply.
type Tunnel struct {
	Type     string `yaml:"type"` // ipip (default), gue, gre
	Port     int    `yaml:"port"`
	Checksum string `yaml:"checksum"` // none, csum, remcsum
}

// Check is one health check of a real server. Type selects the checker;
// type-specific fields are refused on other types.
type Check struct {
	Type string `yaml:"type"` // tcp, http_get, ssl_get, misc, smtp, dns, udp, ping, file

	// Common fields.
	ConnectIP        *Addr     `yaml:"connect_ip"`
	ConnectPort      int       `yaml:"connect_port"`
	BindTo           *Addr     `yaml:"bindto"`
	BindPort         int       `yaml:"bind_port"`
	BindInterface    string    `yaml:"bind_if"`
	ConnectTimeout   *Duration `yaml:"connect_timeout"`
	Retry            *int      `yaml:"retry"`
	DelayBeforeRetry *Duration `yaml:"delay_before_retry"`
	DelayLoop        *Duration `yaml:"delay_loop"`
	Warmup           *Duration `yaml:"warmup"`
	FWMark           uint32    `yaml:"fwmark"`

	// http_get / ssl_get
	URLs        []*URL `yaml:"urls"`
	Virtualhost string `yaml:"virtualhost"`
	SNI         string `yaml:"sni"`
	VerifyTLS   bool   `yaml:"verify_tls"`
	HTTPVersion string `yaml:"http_protocol"`

	// misc
	Path    string    `yaml:"path"`
	Timeout *Duration `yaml:"timeout"`
	Dynamic bool      `yaml:"dynamic"`
	User    string    `yaml:"user"`

	// smtp
	HeloName string `yaml:"helo_name"`

	// dns
	DNSType string `yaml:"dns_type"`
	DNSName string `yaml:"dns_name"`

	// udp
	Payload      string `yaml:"payload"`
	RequireReply bool   `yaml:"require_reply"`

	// file
	File string `yaml:"file"`
}

// URL is one URL an HTTP or SSL check fetches.
type URL struct {
	Path        string   `yaml:"path"`
	Digest      string   `yaml:"digest"`       // MD5 of the body, hex
	StatusCodes []string `yaml:"status_codes"` // "200", "200-299"; default 200-299
	Virtualhost string   `yaml:"virtualhost"`
}

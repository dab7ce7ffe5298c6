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
	// Version is the format version: 1.
	Version int `yaml:"version"`
	// Global holds director-wide settings.
	Global Global `yaml:"global,omitempty"`
	// IPVS holds the director's IPVS kernel settings (sysctls) that plan and apply reconcile.
	IPVS *IPVS `yaml:"ipvs,omitempty"`
	// Scripts are tracking scripts by name, for track_scripts.
	Scripts map[string]*Script `yaml:"scripts,omitempty"`
	// Addresses are interface addresses kept whatever the VRRP state.
	Addresses []*StaticAddress `yaml:"addresses,omitempty"`
	// Routes are kernel routes kept whatever the VRRP state.
	Routes []*Route `yaml:"routes,omitempty"`
	// VRRPInstances are the virtual routers.
	VRRPInstances []*VRRPInstance `yaml:"vrrp_instances,omitempty"`
	// SyncGroups make VRRP instances change state together.
	SyncGroups []*SyncGroup `yaml:"sync_groups,omitempty"`
	// VirtualServerGroups are sets of virtual addresses sharing one pool, for a virtual server's group.
	VirtualServerGroups []*VirtualServerGroup `yaml:"virtual_server_groups,omitempty"`
	// VirtualServers are the IPVS services and their real servers.
	VirtualServers []*VirtualServer `yaml:"virtual_servers,omitempty"`
	// BGP announces VIPs to routers while this director can serve them (scale-out by ECMP).
	BGP *BGP `yaml:"bgp,omitempty"`
	// Nodes names every director of a fleet that runs this one model, each with the values that differ on it; --node NAME (default: the host name) selects the one a command runs as.
	Nodes map[string]*Node `yaml:"nodes,omitempty"`

	// Positions maps a field path (e.g. "virtual_servers[0].port") to where
	// it was written. Filled by Load; empty for models built in code.
	Positions Positions `yaml:"-"`
	// File is the name the model was loaded from.
	File string `yaml:"-"`
}

// Global holds settings that apply to the whole director (keepalived's
// global_defs).
type Global struct {
	// RouterID names this director in notifications (keepalived's router_id).
	RouterID string `yaml:"router_id,omitempty"`
	// EnableScriptSecurity refuses scripts writable by non-root users.
	EnableScriptSecurity *bool `yaml:"enable_script_security,omitempty"`
	// ScriptUser runs scripts that name no user of their own as this user
	// (default: keepalived_script if it exists, else root, with a warning).
	ScriptUser string `yaml:"script_user,omitempty"`
	// ScriptGroup runs scripts with this group.
	ScriptGroup string `yaml:"script_group,omitempty"`
	// Notification settings kept from keepalived (used by notify scripts).

	NotificationEmail []string `yaml:"notification_email,omitempty"`
	// NotificationEmailFrom is the sender of notification mail.
	NotificationEmailFrom string `yaml:"notification_email_from,omitempty"`
	// SMTPServer receives notification mail.
	SMTPServer string `yaml:"smtp_server,omitempty"`
	// SMTPConnectTimeout bounds the connection to smtp_server.
	SMTPConnectTimeout *Duration `yaml:"smtp_connect_timeout,omitempty"`
	// VRRP defaults applied to every instance.

	VRRPGarpMasterDelay *Duration `yaml:"vrrp_garp_master_delay,omitempty"`
	// VRRPGarpMasterRepeat is how many gratuitous ARPs an instance sends on becoming MASTER.
	VRRPGarpMasterRepeat *int `yaml:"vrrp_garp_master_repeat,omitempty"`
	// VRRPGarpMasterRefresh repeats them this often while MASTER (0: never).
	VRRPGarpMasterRefresh *Duration `yaml:"vrrp_garp_master_refresh,omitempty"`
	// VRRPVersion is the VRRP version of instances that do not set one.
	VRRPVersion *int `yaml:"vrrp_version,omitempty"`
	// VRRPStrict enforces RFC conformance as keepalived's vrrp_strict.
	VRRPStrict bool `yaml:"vrrp_strict,omitempty"`
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
	// Interface carries the sync messages.
	Interface string `yaml:"interface,omitempty"`
	// VRRPInstance is the instance whose state the daemon follows.
	VRRPInstance string `yaml:"vrrp_instance,omitempty"`
	// SyncID tells this pair's sync messages from another's on the same
	// network; absent: the instance's virtual_router_id (keepalived).
	SyncID *int `yaml:"sync_id,omitempty"`
	// MaxLen (UDP payload), Port (the multicast base port), TTL and Group
	// (the multicast group): absent, the kernel's defaults (1500 less the
	// headers for a master, the interface's MTU less them for a backup;
	// 8848, 1, 224.0.0.81). The kernel raises a backup's MaxLen to 1024.
	MaxLen int `yaml:"max_len,omitempty"`
	// Port is the multicast base port (kernel default 8848).
	Port int `yaml:"port,omitempty"`
	// TTL of the multicast sync messages (kernel default 1).
	TTL int `yaml:"ttl,omitempty"`
	// Group is the multicast group (kernel default 224.0.0.81).
	Group *Addr `yaml:"group,omitempty"`
}

// Script is a tracking script (keepalived's vrrp_script).
type Script struct {
	// Script is the command line to run; exit status 0 is success.
	Script string `yaml:"script,omitempty"`
	// Interval is the time between runs.
	Interval *Duration `yaml:"interval,omitempty"`
	// Timeout is how long a run may take before it counts as a failure.
	Timeout *Duration `yaml:"timeout,omitempty"`
	// Weight is added to the priority while the script succeeds (> 0) or
	// subtracted while it fails (< 0). 0: failure puts the instance in FAULT.
	Weight int `yaml:"weight,omitempty"`
	// Reverse inverts the weight: added while the script fails.
	Reverse bool `yaml:"weight_reverse,omitempty"`
	// Rise is the number of successes in a row that make the script up.
	Rise *int `yaml:"rise,omitempty"`
	// Fall is the number of failures in a row that make it down.
	Fall *int `yaml:"fall,omitempty"`
	// User runs the script as this user (default global.script_user).
	User string `yaml:"user,omitempty"`
	// Group runs the script with this group.
	Group string `yaml:"group,omitempty"`
	// InitFail starts the script in the failed state until it first succeeds.
	InitFail bool `yaml:"init_fail,omitempty"`
}

// StaticAddress is an interface address lbx keeps regardless of VRRP state
// (keepalived's static_ipaddress).
type StaticAddress struct {
	// Address is the address with its prefix length.
	Address Prefix `yaml:"address,omitempty"`
	// Interface carries the address.
	Interface string `yaml:"interface,omitempty"`
	// Label is the IPv4 address label; it must begin with the interface name.
	Label string `yaml:"label,omitempty"`
	// Scope of the address (default global).
	Scope string `yaml:"scope,omitempty"`
}

// Route is a kernel route: in Model.Routes it is kept whatever the VRRP
// state (keepalived's static_routes), in an instance's virtual_routes
// only while the instance is MASTER. The table, destination and metric
// are its identity; the rest is changed in place.
type Route struct {
	// To is the destination network.
	To Network `yaml:"to,omitempty"`
	// Type of the route.
	Type string `yaml:"type,omitempty"`
	// A single path (Via and/or Interface) or Nexthops (two or more).

	// Via is the gateway of a single-path route.
	Via *Addr `yaml:"via,omitempty"`
	// Interface is the output device of a single-path route.
	Interface string `yaml:"interface,omitempty"`
	// Nexthops are the paths of a multipath route (two or more), instead of via and interface.
	Nexthops []*Nexthop `yaml:"nexthops,omitempty"`
	// Src is the preferred source address; it must be local.
	Src *Addr `yaml:"src,omitempty"`
	// Table is the routing table (254 is main).
	Table *int `yaml:"table,omitempty"`
	// Metric is the route's priority; default the kernel's: 0 for IPv4, 1024 for IPv6.
	Metric *int `yaml:"metric,omitempty"`
	// Scope default as ip route's: link for a unicast route without a
	// gateway, global otherwise.
	Scope string `yaml:"scope,omitempty"`
	// OnLink treats the gateway as on the link even if no prefix covers it.
	OnLink bool `yaml:"onlink,omitempty"`
}

// Nexthop is one path of a multipath route.
type Nexthop struct {
	// Via is the path's gateway.
	Via *Addr `yaml:"via,omitempty"`
	// Interface is the path's device.
	Interface string `yaml:"interface,omitempty"`
	// Weight is the path's share of the traffic (default 1).
	Weight *int `yaml:"weight,omitempty"`
	// OnLink treats the gateway as on the link.
	OnLink bool `yaml:"onlink,omitempty"`
}

// VRRPInstance is one virtual router (keepalived's vrrp_instance).
type VRRPInstance struct {
	// Name identifies the instance in sync groups, logs and lbx status.
	Name string `yaml:"name,omitempty"`
	// State is the initial state.
	State string `yaml:"state,omitempty"`
	// Interface is the link VRRP runs on.
	Interface string `yaml:"interface,omitempty"`
	// VirtualRouterID is the VRID, unique per link and address family.
	VirtualRouterID int `yaml:"virtual_router_id,omitempty"`
	// Priority in the election; 255 means the address owner.
	Priority *int `yaml:"priority,omitempty"`
	// AdvertInt is the advertisement interval: whole seconds for VRRPv2, centiseconds for VRRPv3.
	AdvertInt *Duration `yaml:"advert_int,omitempty"`
	// Version is the VRRP version (default global.vrrp_version); IPv6 needs 3.
	Version *int `yaml:"version"`
	// AllowEqualPriority says that nodes running this instance with the
	// same priority is intended (the election then goes to the higher
	// primary address): lbx validate refuses it otherwise.
	AllowEqualPriority bool `yaml:"allow_equal_priority,omitempty"`
	// UnicastSrcIP is the source of unicast advertisements.
	UnicastSrcIP *Addr `yaml:"unicast_src_ip,omitempty"`
	// UnicastPeers, if any, receive advertisements by unicast instead of multicast.
	UnicastPeers []Addr `yaml:"unicast_peers,omitempty"`
	// McastSrcIP is the source of multicast advertisements.
	McastSrcIP *Addr `yaml:"mcast_src_ip,omitempty"`
	// Authentication is VRRPv2 authentication.
	Authentication *Auth `yaml:"authentication,omitempty"`
	// NoPreempt keeps a lower-priority MASTER in place; needs state BACKUP.
	NoPreempt bool `yaml:"nopreempt,omitempty"`
	// PreemptDelay waits this long after start before preempting.
	PreemptDelay *Duration `yaml:"preempt_delay,omitempty"`
	// Garp settings: gratuitous ARP / unsolicited NA on becoming master.

	// GarpMasterDelay is when the second burst of gratuitous ARPs (unsolicited NAs) follows becoming MASTER.
	GarpMasterDelay *Duration `yaml:"garp_master_delay,omitempty"`
	// GarpMasterRepeat is how many are sent in each burst.
	GarpMasterRepeat *int `yaml:"garp_master_repeat,omitempty"`
	// GarpMasterRefresh repeats them this often while MASTER (0: never).
	GarpMasterRefresh *Duration `yaml:"garp_master_refresh,omitempty"`
	// GarpMasterRefreshRepeat is how many each refresh sends.
	GarpMasterRefreshRepeat *int `yaml:"garp_master_refresh_repeat,omitempty"`
	// VirtualAddresses are held while MASTER and advertised (one address family).
	VirtualAddresses []*VirtualAddress `yaml:"virtual_addresses,omitempty"`
	// VirtualAddressesExcluded are held while MASTER but not advertised (any family).
	VirtualAddressesExcluded []*VirtualAddress `yaml:"virtual_addresses_excluded,omitempty"`
	// VirtualRoutes are in the kernel while the instance is MASTER.
	VirtualRoutes []*Route `yaml:"virtual_routes,omitempty"`
	// TrackInterfaces are links the instance depends on.
	TrackInterfaces []*TrackInterface `yaml:"track_interfaces,omitempty"`
	// TrackScripts are scripts of `scripts:` the instance depends on.
	TrackScripts []*TrackScript `yaml:"track_scripts,omitempty"`
	// Notify are scripts run on state changes.
	Notify Notify `yaml:"notify,omitempty"`
	// SMTPAlert asks for e-mail on transitions (kept from keepalived).
	SMTPAlert bool `yaml:"smtp_alert,omitempty"`
	// PromoteSecondaries sets net.ipv4.conf.INTERFACE.promote_secondaries
	// on the instance's interface while lbx watch runs (put back at stop),
	// as keepalived's keyword does: deleting the first IPv4 address of a
	// subnet then promotes another instead of deleting them all. lbx's
	// own deletes keep other addresses without it.
	PromoteSecondaries bool `yaml:"promote_secondaries,omitempty"`
}

// Auth is VRRP authentication. Only PASS runs; AH is accepted in the model
// and refused when the instance starts.
type Auth struct {
	// Type of authentication.
	Type string `yaml:"type,omitempty"`
	// Pass is the PASS password, 1 to 8 characters.
	Pass string `yaml:"pass,omitempty"`
}

// VirtualAddress is an address owned by a VRRP instance while it is MASTER.
type VirtualAddress struct {
	// Address is the address with its prefix length.
	Address Prefix `yaml:"address,omitempty"`
	// Interface carries the address (default: the instance's interface).
	Interface string `yaml:"interface,omitempty"`
	// Label is the IPv4 address label; it must begin with the interface name.
	Label string `yaml:"label,omitempty"`
	// Scope of the address (default global).
	Scope string `yaml:"scope,omitempty"`
}

// TrackInterface makes an instance depend on a link.
type TrackInterface struct {
	// Name is the interface.
	Name string `yaml:"name,omitempty"`
	// Weight 0: link down puts the instance in FAULT. Otherwise, as
	// keepalived: a positive weight is added to the priority while the link
	// is up, a negative one while it is down.
	Weight int `yaml:"weight,omitempty"`
}

// TrackScript makes an instance depend on a script of Model.Scripts.
type TrackScript struct {
	// Name is a script under `scripts:`.
	Name string `yaml:"name,omitempty"`
	// Weight overrides the script's weight.
	Weight *int `yaml:"weight,omitempty"`
}

// Notify are the scripts run on transitions. Each is a command line; the
// generic Any script gets keepalived's arguments: INSTANCE|GROUP name state
// priority.
type Notify struct {
	// Master runs on becoming MASTER.
	Master string `yaml:"master,omitempty"`
	// Backup runs on becoming BACKUP.
	Backup string `yaml:"backup,omitempty"`
	// Fault runs on entering FAULT.
	Fault string `yaml:"fault,omitempty"`
	// Stop runs when the instance stops.
	Stop string `yaml:"stop,omitempty"`
	// Any runs on every change, with arguments INSTANCE|GROUP name state priority.
	Any string `yaml:"any,omitempty"`
}

// SyncGroup makes VRRP instances change state together.
type SyncGroup struct {
	// Name identifies the group.
	Name string `yaml:"name,omitempty"`
	// Members are names of VRRP instances.
	Members []string `yaml:"members,omitempty"`
	// Notify are scripts run on the group's state changes.
	Notify Notify `yaml:"notify,omitempty"`
	// SMTPAlert asks for e-mail on transitions.
	SMTPAlert bool `yaml:"smtp_alert,omitempty"`
}

// VirtualServerGroup is a set of virtual addresses (or fwmarks) sharing one
// real-server pool (keepalived's virtual_server_group).
type VirtualServerGroup struct {
	// Name is what a virtual server's group refers to.
	Name string `yaml:"name,omitempty"`
	// Members are the group's addresses and fwmarks.
	Members []*GroupMember `yaml:"members,omitempty"`
}

// GroupMember is one entry of a group: an address (or a last-octet/hextet
// range like 10.0.0.10-12) with a port, or a fwmark.
type GroupMember struct {
	// Address is an address or a last-octet/hextet range.
	Address *AddrRange `yaml:"address,omitempty"`
	// Port goes with address.
	Port int `yaml:"port,omitempty"`
	// FWMark is a firewall mark, instead of address and port.
	FWMark uint32 `yaml:"fwmark,omitempty"`
	// Family of a fwmark member: 4 or 6; without it, the virtual server's.
	Family int `yaml:"family,omitempty"`
}

// VirtualServer is an IPVS virtual service and its real servers.
type VirtualServer struct {
	// Name labels the service in logs, lbx status and metrics.
	Name string `yaml:"name,omitempty"`
	// Identity: exactly one of address+port, fwmark, group.

	// Address is the virtual address, with port.
	Address *Addr `yaml:"address,omitempty"`
	// Port goes with address; 0 (all ports) needs persistence.
	Port int `yaml:"port,omitempty"`
	// FWMark selects the packets nftables or iptables marked, instead of address and port.
	FWMark uint32 `yaml:"fwmark,omitempty"`
	// Family of a fwmark service, or of the fwmark entries of a group: 4 or 6.
	Family int `yaml:"family,omitempty"`
	// Group is a virtual_server_group: the service exists once per member.
	Group string `yaml:"group,omitempty"`
	// Protocol of the service.
	Protocol string `yaml:"protocol,omitempty"`

	// Scheduler is the IPVS scheduler (keepalived's lb_algo).
	Scheduler string `yaml:"scheduler,omitempty"`
	// SchedulerFlags are IPVS scheduler flags; sh-* only with sh, mh-* only with mh.
	SchedulerFlags []string `yaml:"scheduler_flags,omitempty"`
	// OnePacket schedules each UDP datagram on its own (ops).
	OnePacket bool `yaml:"one_packet,omitempty"`
	// Forwarding is the default forwarding method of the real servers (keepalived's lb_kind).
	Forwarding string `yaml:"forwarding,omitempty"`
	// Persistence makes a client stick to one real server.
	Persistence *Persistence `yaml:"persistence,omitempty"`

	// SorryServer receives traffic while no real server is up.
	SorryServer *SorryServer `yaml:"sorry_server,omitempty"`
	// InhibitOnFailure sets a failed real server's weight to 0 instead of removing it.
	InhibitOnFailure bool `yaml:"inhibit_on_failure,omitempty"`
	// Quorum is the live weight below which the service counts as down.
	Quorum *Quorum `yaml:"quorum,omitempty"`
	// Alpha starts real servers down until their first check succeeds.
	Alpha bool `yaml:"alpha,omitempty"`
	// Omega runs the quorum down script when the service is removed.
	Omega bool `yaml:"omega,omitempty"`
	// HASuspend suspends checks while the virtual address is not local.
	HASuspend bool `yaml:"ha_suspend,omitempty"`
	// DelayLoop is the default interval between checks of the real servers.
	DelayLoop *Duration `yaml:"delay_loop,omitempty"`
	// Virtualhost is the default Host header of HTTP checks.
	Virtualhost string `yaml:"virtualhost,omitempty"`
	// DrainTimeout is how long a real server removed from the model is
	// drained: it is first set to weight 0 and deleted once idle or after
	// this long (UDP at once). Default global.drain_timeout.
	DrainTimeout *Duration `yaml:"drain_timeout,omitempty"`

	// RealServers are the service's destinations.
	RealServers []*RealServer `yaml:"real_servers,omitempty"`
}

// Persistence makes a client stick to one real server.
type Persistence struct {
	// Timeout is how long an idle client stays on its real server.
	Timeout *Duration `yaml:"timeout,omitempty"`
	// Granularity groups clients by network: a prefix length or a netmask.
	Granularity *Mask `yaml:"granularity,omitempty"`
}

// SorryServer receives traffic while no real server is up.
type SorryServer struct {
	// Address of the sorry server.
	Address Addr `yaml:"address,omitempty"`
	// Port (default the service's).
	Port int `yaml:"port,omitempty"`
	// Forwarding method (default the service's).
	Forwarding string `yaml:"forwarding,omitempty"`
	// Inhibit keeps the sorry server at weight 0 instead of removing it.
	Inhibit bool `yaml:"inhibit,omitempty"`
}

// Quorum is the minimum total weight of live real servers for the service
// to be considered up; the scripts run on crossings.
type Quorum struct {
	// Min is the minimum total weight of live real servers.
	Min int `yaml:"min,omitempty"`
	// Hysteresis is the margin around min before the state changes.
	Hysteresis int `yaml:"hysteresis,omitempty"`
	// UpScript runs when the quorum is gained.
	UpScript string `yaml:"up_script,omitempty"`
	// DownScript runs when it is lost.
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
	// Name labels the real server in logs, lbx status and metrics.
	Name string `yaml:"name,omitempty"`
	// Address of the real server.
	Address Addr `yaml:"address,omitempty"`
	// Port (default: the virtual server's port).
	Port int `yaml:"port,omitempty"`
	// Weight is the server's share of new connections; 0 drains it.
	Weight *int `yaml:"weight,omitempty"`
	// Forwarding method (default: the virtual server's).
	Forwarding string `yaml:"forwarding,omitempty"`
	// Tunnel is the encapsulation of a tun real server.
	Tunnel *Tunnel `yaml:"tunnel,omitempty"`
	// UpperThreshold stops new connections above this many (0: no limit).
	UpperThreshold uint32 `yaml:"upper_threshold,omitempty"`
	// LowerThreshold resumes them below this many.
	LowerThreshold uint32 `yaml:"lower_threshold,omitempty"`
	// InhibitOnFailure overrides the service's inhibit_on_failure.
	InhibitOnFailure *bool `yaml:"inhibit_on_failure,omitempty"`
	// NotifyUp runs when the real server comes up.
	NotifyUp string `yaml:"notify_up,omitempty"`
	// NotifyDown runs when it goes down.
	NotifyDown string `yaml:"notify_down,omitempty"`
	// Checks are health checks; the server is up while all succeed.
	Checks []*Check `yaml:"checks,omitempty"`
}

// Tunnel is the encapsulation of a TUN real server (Linux 5.3+ for gue and
// gre): ipip (default), gue over UDP port Port, or gre.
type Tunnel struct {
	// Type of encapsulation.
	Type string `yaml:"type,omitempty"`
	// Port is the UDP port of gue, where the real server decapsulates.
	Port int `yaml:"port,omitempty"`
	// Checksum of gue and gre.
	Checksum string `yaml:"checksum,omitempty"`
}

// Check is one health check of a real server. Type selects the checker;
// type-specific fields are refused on other types.
type Check struct {
	// Type selects the checker.
	Type string `yaml:"type,omitempty"`

	// Common fields.

	// ConnectIP is the address to check (default the real server's).
	ConnectIP *Addr `yaml:"connect_ip,omitempty"`
	// ConnectPort is the port to check (default the real server's).
	ConnectPort int `yaml:"connect_port,omitempty"`
	// BindTo is the source address of the check.
	BindTo *Addr `yaml:"bindto,omitempty"`
	// BindPort is the source port.
	BindPort int `yaml:"bind_port,omitempty"`
	// BindInterface is the source interface.
	BindInterface string `yaml:"bind_if,omitempty"`
	// ConnectTimeout bounds each attempt.
	ConnectTimeout *Duration `yaml:"connect_timeout,omitempty"`
	// Retry is how many more attempts make a failure (default 1; 3 for dns, 0 for misc).
	Retry *int `yaml:"retry,omitempty"`
	// DelayBeforeRetry is the pause between attempts (default 1s; 3s for http_get and ssl_get; delay_loop for dns).
	DelayBeforeRetry *Duration `yaml:"delay_before_retry,omitempty"`
	// DelayLoop is the interval between checks (default the virtual server's).
	DelayLoop *Duration `yaml:"delay_loop,omitempty"`
	// Warmup delays the first check by a random time up to this.
	Warmup *Duration `yaml:"warmup,omitempty"`
	// FWMark marks the check's packets.
	FWMark uint32 `yaml:"fwmark,omitempty"`

	// http_get / ssl_get

	// URLs are fetched by http_get and ssl_get checks.
	URLs []*URL `yaml:"urls,omitempty"`
	// Virtualhost is the Host header (http_get, ssl_get).
	Virtualhost string `yaml:"virtualhost,omitempty"`
	// SNI is the TLS server name (ssl_get).
	SNI string `yaml:"sni,omitempty"`
	// VerifyTLS checks the server certificate (ssl_get).
	VerifyTLS bool `yaml:"verify_tls,omitempty"`
	// HTTPVersion is keepalived's http_protocol: "1.0" (the default),
	// "1.0C" (1.0 with Connection: close) or "1.1" (with Connection: close).
	HTTPVersion string `yaml:"http_protocol,omitempty"`

	// misc

	// Path is the command line of a misc check.
	Path string `yaml:"path,omitempty"`
	// Timeout bounds a misc check (default delay_loop).
	Timeout *Duration `yaml:"timeout,omitempty"`
	// Dynamic takes the real server's new weight from a misc check's exit status.
	Dynamic bool `yaml:"dynamic,omitempty"`
	// User runs a misc check as this user ("user" or "user group"; default
	// global.script_user's default).
	User string `yaml:"user,omitempty"`

	// smtp

	// HeloName is the HELO of an smtp check.
	HeloName string `yaml:"helo_name,omitempty"`

	// dns

	// DNSType is the query type of a dns check.
	DNSType string `yaml:"dns_type,omitempty"`
	// DNSName is the name a dns check queries.
	DNSName string `yaml:"dns_name,omitempty"`

	// udp

	// Payload is what a udp check sends, in hex.
	Payload string `yaml:"payload,omitempty"`
	// RequireReply makes a udp check wait for an answer.
	RequireReply bool `yaml:"require_reply,omitempty"`

	// file

	// File is the file a file check watches.
	File string `yaml:"file,omitempty"`
}

// URL is one URL an HTTP or SSL check fetches.
type URL struct {
	// Path to fetch, such as /health.
	Path string `yaml:"path,omitempty"`
	// Digest is the MD5 of the expected body, in hex.
	Digest string `yaml:"digest,omitempty"`
	// StatusCodes are the accepted statuses: codes or ranges such as 200-299.
	StatusCodes []string `yaml:"status_codes,omitempty"`
	// Virtualhost overrides the check's Host header.
	Virtualhost string `yaml:"virtualhost,omitempty"`
}

package model

import (
	"time"

	"github.com/lbx-dev/lbx/check/checkspec"
	"github.com/lbx-dev/lbx/state"
)

// keepalived's defaults, in one place. Each is what keepalived 2.x uses when
// the keyword is absent; lbx convert writes them out explicitly and the
// model reference (docs/model.md, the JSON Schema and lbx.yaml(5)) lists them. One deliberate difference: a
// virtual server without a protocol is TCP in lbx, while keepalived 2.2
// logs "no protocol set - defaulting to UDP"; lbx convert therefore always
// writes the protocol.
const (
	DefaultProtocol   = "tcp"
	DefaultScheduler  = "wlc" // lb_algo
	DefaultForwarding = "nat" // lb_kind
	DefaultWeight     = 1

	// persistence_timeout written without a value.
	DefaultPersistenceTimeout = 360 * time.Second

	// Checkers.
	DefaultDelayLoop        = 60 * time.Second
	DefaultConnectTimeout   = 5 * time.Second
	DefaultRetry            = 1               // most checkers; see RetryDefault
	DefaultDelayBeforeRetry = 1 * time.Second // most checkers; see DelayBeforeRetryDefault
	DefaultMiscTimeout      = 0               // 0 = delay_loop, as keepalived
	DefaultHTTPStatus       = checkspec.DefaultHTTPStatus

	// VRRP.
	DefaultPriority          = 100
	DefaultAdvertInt         = 1 * time.Second
	DefaultVRRPVersion       = 2
	DefaultGarpMasterDelay   = 5 * time.Second
	DefaultGarpMasterRepeat  = 5
	DefaultGarpMasterRefresh = 0 // no periodic refresh
	DefaultGarpRefreshRepeat = 1

	// vrrp_script.
	DefaultScriptInterval = 1 * time.Second
	DefaultScriptRise     = 1
	DefaultScriptFall     = 1

	// Quorum.
	DefaultQuorum = 1

	// lbx watch.
	DefaultResyncInterval = 10 * time.Second

	// MaxWeight is ipvsadm's upper bound for a real server weight.
	MaxWeight = 65535
)

// Schedulers the kernel ships (net/netfilter/ipvs/ip_vs_*.c); twos needs
// Linux 6.2 or later.
var Schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}

// RetryDefault is keepalived's retry count for a checker type: 1, but 3
// for DNS_CHECK and 0 for MISC_CHECK (checked against keepalived 2.2.7).
func RetryDefault(checkType string) int {
	switch checkType {
	case "dns":
		return 3
	case "misc", "file":
		// FILE_CHECK: keepalived changes the state on the read that
		// differs (inotify), with no retry.
		return 0
	}
	return DefaultRetry
}

// DelayBeforeRetryDefault is keepalived's pause between retries for a
// checker type: 3s for HTTP_GET/SSL_GET, the delay_loop for DNS_CHECK,
// 1s otherwise.
func DelayBeforeRetryDefault(checkType string, delayLoop time.Duration) time.Duration {
	switch checkType {
	case "http_get", "ssl_get":
		return 3 * time.Second
	case "dns":
		return delayLoop
	}
	return DefaultDelayBeforeRetry
}

// SchedulerFlags are the flag names accepted in scheduler_flags; the
// sh-/mh- names only with their scheduler.
var SchedulerFlags = []string{"flag-1", "flag-2", "flag-3", "sh-fallback", "sh-port", "mh-fallback", "mh-port"}

// CheckTypes are the health checkers the model knows.
var CheckTypes = []string{"tcp", "http_get", "ssl_get", "misc", "smtp", "dns", "udp", "ping", "file"}

// HTTPVersions are the values of http_protocol, as keepalived spells them:
// HTTP/1.0 (the default), HTTP/1.0 with "Connection: close", and HTTP/1.1
// with "Connection: close" (one request per connection in every case).
var HTTPVersions = []string{"1.0", "1.0C", "1.1"}

// The value tables below are what the validator accepts, and what the JSON
// Schema and lbx.yaml(5) (internal/schema) list as the allowed values.
var (
	Protocols       = []string{string(state.TCP), string(state.UDP), string(state.SCTP)}
	Forwardings     = []string{"nat", "dr", "tun"}
	InitialStates   = []string{"MASTER", "BACKUP"}
	AuthTypes       = []string{"PASS", "AH"}
	VRRPVersions    = []int{2, 3}
	IPVSOnStopModes = []string{"keep", "remove"}
	ServiceFamilies = []int{4, 6}
	TunnelTypes     = []string{"ipip", "gue", "gre"}
	TunnelChecksums = []string{"none", "csum", "remcsum"}
	// AddressScopes are an interface address's scopes; RouteScopes a
	// route's (nowhere is for deleted routes only).
	AddressScopes = []string{"global", "site", "link", "host", "nowhere"}
	RouteScopes   = []string{"global", "site", "link", "host"}
	// DNSTypes are the query types DNS_CHECK sends.
	DNSTypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "SOA", "TXT"}
)

// FieldDefaults names, per model field ("Type.yaml_key"), the value lbx
// uses when the key is absent, for the JSON Schema and lbx.yaml(5). The
// values are the constants the code uses, so the documents cannot drift
// from it; a default that depends on other fields (retry, metric, a real
// server's port) is not here but in the field's comment.
var FieldDefaults = map[string]any{
	"Global.vrrp_version":                     DefaultVRRPVersion,
	"Global.vrrp_garp_master_delay":           DefaultGarpMasterDelay,
	"Global.vrrp_garp_master_repeat":          DefaultGarpMasterRepeat,
	"Global.resync_interval":                  DefaultResyncInterval,
	"Global.ipvs_on_stop":                     IPVSOnStopModes[0],
	"Script.interval":                         DefaultScriptInterval,
	"Script.rise":                             DefaultScriptRise,
	"Script.fall":                             DefaultScriptFall,
	"Route.type":                              state.RouteUnicast,
	"Route.table":                             state.TableMain,
	"VRRPInstance.state":                      InitialStates[1],
	"VRRPInstance.priority":                   DefaultPriority,
	"VRRPInstance.advert_int":                 DefaultAdvertInt,
	"VRRPInstance.garp_master_delay":          DefaultGarpMasterDelay,
	"VRRPInstance.garp_master_repeat":         DefaultGarpMasterRepeat,
	"VRRPInstance.garp_master_refresh_repeat": DefaultGarpRefreshRepeat,
	"VirtualServer.protocol":                  DefaultProtocol,
	"VirtualServer.scheduler":                 DefaultScheduler,
	"VirtualServer.forwarding":                DefaultForwarding,
	"VirtualServer.family":                    ServiceFamilies[0],
	"VirtualServer.delay_loop":                DefaultDelayLoop,
	"Persistence.timeout":                     DefaultPersistenceTimeout,
	"Quorum.min":                              DefaultQuorum,
	"RealServer.weight":                       DefaultWeight,
	"Tunnel.type":                             TunnelTypes[0],
	"Check.connect_timeout":                   DefaultConnectTimeout,
	"Check.http_protocol":                     HTTPVersions[0],
	"URL.status_codes":                        []string{DefaultHTTPStatus},
	"BGP.announcer":                           AnnouncerGoBGP,
	"BGPPeer.port":                            DefaultBGPPort,
	"BGPPeer.hold_time":                       DefaultBGPHoldTime,
	"Announcement.interface":                  DefaultAnnounceIface,
}

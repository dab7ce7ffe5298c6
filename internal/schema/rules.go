package schema

import (
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// Rule is what a field's value must be beyond its type: what the
// validator checks of the value alone. Checks that relate a value to other
// fields or objects (duplicates, references, families, "only with") are
// not rules: a schema sees one value at a time, lbx validate the whole.
type Rule struct {
	Required bool
	Enum     []any  // allowed values
	Min, Max *int64 // inclusive bounds of an integer
	Not      []any  // values excluded from the bounds
	MinItems int    // lists
	Unique   bool   // lists: no value twice
	Items    *Rule  // lists: the rule of each element
	MaxLen   int    // strings
	Pattern  string // strings: a regular expression both RE2 and ECMAScript read alike
}

func enum[T any](values []T) Rule {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return Rule{Enum: out}
}

func between(lo, hi int64) Rule { return Rule{Min: &lo, Max: &hi} }

func atLeast(lo int64) Rule { return Rule{Min: &lo} }

var (
	required = Rule{Required: true}
	port     = between(0, 65535)
	// A track weight adds to or subtracts from a priority of 1..254.
	trackWeight = between(-253, 253)
	repeat      = between(0, 255)
	// ifName is validIfName: 1-15 characters, none of / : space tab.
	ifName = Rule{Pattern: `^[^/: \t]{1,15}$`}
	// labels are interface names too.
	label = Rule{MaxLen: 15}
)

func with(r Rule, f func(*Rule)) Rule { f(&r); return r }

func req(r Rule) Rule { r.Required = true; return r }

// rules holds, per field ("Type.yaml_key"), the checks model's validator
// makes of that value alone, with the values taken from the validator's
// own tables where it has them (model.Schedulers, model.Forwardings...).
// describe fails on a key that names no field.
var rules = map[string]Rule{
	"Model.version": {Required: true, Enum: []any{model.Version}},

	"Global.vrrp_version":            enum(model.VRRPVersions),
	"Global.vrrp_garp_master_repeat": repeat,
	"Global.ipvs_on_stop":            enum(model.IPVSOnStopModes),
	"LVSSyncDaemon.interface":        req(ifName),
	"LVSSyncDaemon.vrrp_instance":    required,
	"LVSSyncDaemon.sync_id":          between(0, 255),
	"LVSSyncDaemon.max_len":          between(0, 65507),
	"LVSSyncDaemon.port":             port,
	"LVSSyncDaemon.ttl":              between(0, 255),

	"IPVSSysctls.conn_reuse_mode": enum(model.ConnReuseModes),

	"Script.script": req(Rule{Pattern: `\S`}),
	"Script.weight": trackWeight,
	"Script.rise":   atLeast(1),
	"Script.fall":   atLeast(1),

	"StaticAddress.address":   required,
	"StaticAddress.interface": req(ifName),
	"StaticAddress.label":     label,
	"StaticAddress.scope":     enum(model.AddressScopes),

	"Route.to":       required,
	"Route.type":     enum(state.RouteTypes),
	"Route.table":    with(between(1, 1<<32-1), func(r *Rule) { r.Not = []any{state.TableLocal} }),
	"Route.metric":   between(0, 1<<32-1),
	"Route.scope":    enum(model.RouteScopes),
	"Route.nexthops": {MinItems: 2},
	"Nexthop.weight": between(1, 256),

	"VRRPInstance.name":                       required,
	"VRRPInstance.interface":                  req(ifName),
	"VRRPInstance.virtual_router_id":          req(between(1, 255)),
	"VRRPInstance.state":                      enum(model.InitialStates),
	"VRRPInstance.priority":                   between(1, 255),
	"VRRPInstance.version":                    enum(model.VRRPVersions),
	"VRRPInstance.garp_master_repeat":         repeat,
	"VRRPInstance.garp_master_refresh_repeat": repeat,
	"Auth.type":                               req(enum(model.AuthTypes)),
	"VirtualAddress.address":                  required,
	"VirtualAddress.interface":                ifName,
	"VirtualAddress.label":                    label,
	"VirtualAddress.scope":                    enum(model.AddressScopes),
	"TrackInterface.name":                     req(ifName),
	"TrackInterface.weight":                   trackWeight,
	"TrackScript.name":                        required,
	"TrackScript.weight":                      trackWeight,

	"SyncGroup.name":             required,
	"SyncGroup.members":          req(Rule{MinItems: 1}),
	"VirtualServerGroup.name":    required,
	"VirtualServerGroup.members": req(Rule{MinItems: 1}),
	"GroupMember.port":           port,
	"GroupMember.family":         enum(model.ServiceFamilies),

	"VirtualServer.port":            port,
	"VirtualServer.family":          enum(model.ServiceFamilies),
	"VirtualServer.protocol":        enum(model.Protocols),
	"VirtualServer.scheduler":       enum(model.Schedulers),
	"VirtualServer.scheduler_flags": {Unique: true, Items: ptr(enum(model.SchedulerFlags))},
	"VirtualServer.forwarding":      enum(model.Forwardings),
	"SorryServer.address":           required,
	"SorryServer.port":              port,
	"SorryServer.forwarding":        enum(model.Forwardings),
	"Quorum.min":                    atLeast(0),
	"Quorum.hysteresis":             atLeast(0),
	"RealServer.address":            required,
	"RealServer.port":               port,
	"RealServer.weight":             between(0, model.MaxWeight),
	"RealServer.forwarding":         enum(model.Forwardings),
	"Tunnel.type":                   enum(model.TunnelTypes),
	"Tunnel.port":                   port,
	"Tunnel.checksum":               enum(model.TunnelChecksums),

	"Check.type":          req(enum(model.CheckTypes)),
	"Check.connect_port":  port,
	"Check.bind_port":     port,
	"Check.retry":         atLeast(0),
	"Check.http_protocol": enum(model.HTTPVersions),
	"Check.dns_type":      enum(model.DNSTypes),
	"Check.payload":       {Pattern: `^([0-9A-Fa-f]{2})*$`},
	"URL.path":            req(Rule{Pattern: `.`}),
	"URL.digest":          {Pattern: `^[0-9A-Fa-f]{32}$`},
	"URL.status_codes":    {Items: &Rule{Pattern: `^[1-5][0-9][0-9](-[1-5][0-9][0-9])?$`}},

	"BGP.announcer":                 enum([]string{model.AnnouncerGoBGP, model.AnnouncerKernel}),
	"BGP.local_as":                  between(1, 1<<32-1),
	"BGPKernel.table":               with(between(1, 1<<32-1), func(r *Rule) { r.Not = []any{state.TableLocal} }),
	"BGPPeer.address":               required,
	"BGPPeer.as":                    req(between(1, 1<<32-1)),
	"BGPPeer.port":                  port,
	"BGPPeer.ebgp_multihop":         between(1, 255),
	"Announcement.prefix":           required,
	"Announcement.interface":        ifName,
	"AnnounceCondition.min_healthy": atLeast(1),
}

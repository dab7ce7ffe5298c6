package schema

import (
	"regexp"

	"github.com/lbx-dev/lbx/model"
)

// errorClass is a kind of lbx error, recognised by its message (and, where
// one message serves two kinds, its path).
type errorClass struct {
	name string
	// schema: a JSON Schema can say it, so the schema must reject a model
	// with this error. Otherwise the error is semantic: it relates a value
	// to other fields or objects, or to what the value means, and only lbx
	// validate (which sees the whole model) can find it.
	schema bool
	msg    *regexp.Regexp
	path   *regexp.Regexp // nil: any
}

// classes are every kind of error the broken models of the test suite
// produce; the first that matches wins. A new kind of error makes
// TestSchemaAndLbxAgreeOnBrokenModels fail until it is classified here.
//
// Schema-expressible: unknown keys, wrong types, the syntax of the model's
// value types (addresses, prefixes, durations, ranges, hex), values outside
// a fixed range or set (the validator's tables), missing keys that are
// always required, lists too short or with a value twice, and the check
// fields that belong to other check types.
//
// Semantic: duplicates across objects (services, real servers, addresses,
// routes, VRIDs), references to names (scripts, instances, groups),
// conditions between fields (a port 0 service needs persistence, a label
// must begin with its interface, families must agree, a gue tunnel needs
// a port, a blackhole route has no gateway, hysteresis below the quorum)
// and what a value means (host bits in a network, a multicast group, an
// IPv4-mapped IPv6 address, an unspecified gateway, a range that ends
// below its start).
//
// YAML: syntax errors, an empty file, several documents: the YAML parser
// refuses them before any schema applies.
var classes = []errorClass{
	{"YAML", false, re(`^(YAML syntax: |more than one YAML document)`), nil},
	{"unknown key", true, re(`^unknown field `), nil},
	{"wrong type", true, re(`^want (an integer|a non-negative integer up to \d+|a string|true or false|a list|a mapping|a single value),`), nil},
	{"value syntax", true, re(`^(want (an IP address|an address with|an address or a range|a network such as|a duration|a prefix length|hex bytes|an MD5 digest|a status code)|"default" has no address family|netmask .* is not contiguous)`), nil},
	{"version", true, re(`^version \d+ is not supported`), nil},
	{"always required", true, re(`^missing: `), re(`^(version|global\.lvs_sync_daemon\.(interface|vrrp_instance)|scripts\.[^.]+\.script|addresses\[\d+\]\.(address|interface)|routes\[\d+\]\.to|vrrp_instances\[\d+\]\.(name|interface)|.*\.urls\[\d+\]\.path|.*real_servers\[\d+\]\.address|.*sorry_server\.address)$`)},
	{"fixed range", true, re(`^want -?\d+\.\.\d+( \([^)]*\))?(, got .*| except .*)?$`), nil},
	{"length", true, re(`is longer than \d+ characters`), nil},
	{"fixed set", true, re(`^(want one of |unknown (scheduler|scope|route type|flag) |want (\S+, )*\S+ or \S+( \(.*\))?, got )`), nil},
	{"list length", true, re(`^a multipath route needs at least two nexthops`), nil},
	{"list duplicate", true, re(`^flag ".*" given twice`), nil},
	{"field of another check type", true, re(`^\S+ is not a field of a \S+ check`), nil},

	{"duplicate", false, re(`already declared|already used|already in sync group|declared twice|the same path twice`), nil},
	{"reference", false, re(`^no (script|vrrp_instance|virtual_server_group) named`), nil},
	{"condition between fields", false, re(`^missing: |needs? |not both|exactly one|must begin with|family|below quorum\.min|has no (via|src|interface|nexthops|onlink|port)|have no scope`), nil},
	{"meaning of a value", false, re(`host bits|not a multicast address|cannot be a (source|gateway)|ends below its start|covers more than \d+ addresses|an IPv4-mapped IPv6`), nil},
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// classify returns the class of e, or nil.
func classify(e *model.FieldError) *errorClass {
	for i, c := range classes {
		if c.msg.MatchString(e.Msg) && (c.path == nil || c.path.MatchString(e.Path)) {
			return &classes[i]
		}
	}
	return nil
}

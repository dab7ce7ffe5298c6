package schema

import (
	"fmt"
	"net/netip"
	"strings"
)

// valueTypeNames are the model's own scalar types: each decodes one YAML
// scalar (model/values.go) and has its own schema and description.
var valueTypeNames = []string{"Duration", "Addr", "Prefix", "Network", "Mask", "AddrRange"}

// The patterns mirror the parsers in model/values.go (netip, time), which
// TestPatternsMatchParsers checks sample by sample. They are written for
// both RE2 (that test) and ECMAScript (ajv, editors): no look-around.
const (
	hextet  = `[0-9A-Fa-f]{1,4}`
	octet   = `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	ipv4    = `(` + octet + `\.){3}` + octet
	bits4   = `(3[0-2]|[12]?[0-9])`
	bits6   = `(12[0-8]|1[01][0-9]|[1-9]?[0-9])`
	seconds = `([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)`
)

// ipv6 is every textual form netip.ParseAddr reads, without a zone: eight
// hextets, or fewer around one "::", optionally ending in an IPv4 address
// that stands for the last two.
var ipv6 = func() string {
	alts := []string{fmt.Sprintf(`(%s:){7}%s`, hextet, hextet), fmt.Sprintf(`(%s:){6}%s`, hextet, ipv4)}
	for left := 0; left <= 7; left++ {
		l := ""
		if left > 0 {
			l = fmt.Sprintf(`(%s:){%d}%s`, hextet, left-1, hextet)
		}
		if right := 7 - left; right > 0 {
			alts = append(alts, fmt.Sprintf(`%s::((%s:){0,%d}%s)?`, l, hextet, right-1, hextet))
		} else {
			alts = append(alts, l+"::")
		}
		if right := 5 - left; right >= 0 {
			alts = append(alts, fmt.Sprintf(`%s::(%s:){0,%d}%s`, l, hextet, right, ipv4))
		}
	}
	return "(" + strings.Join(alts, "|") + ")"
}()

func anchored(s string) string { return "^(" + s + ")$" }

// netmasks are the contiguous dotted IPv4 masks keepalived writes for a
// persistence granularity.
func netmasks() []any {
	out := make([]any, 0, 33)
	for bits := 0; bits <= 32; bits++ {
		var b [4]byte
		for i := 0; i < bits; i++ {
			b[i/8] |= 0x80 >> (i % 8)
		}
		out = append(out, netip.AddrFrom4(b).String())
	}
	return out
}

// valueSchema is the JSON Schema of one of the model's value types.
func valueSchema(name string) obj {
	switch name {
	case "Duration":
		return obj{{"anyOf", []any{
			obj{{"type", "string"}, {"pattern", anchored(`\+?(0|(` + seconds + `)+)`)}},
			obj{{"type", "number"}, {"minimum", 0}, {"maximum", 1e9}},
		}}}
	case "Addr":
		return obj{{"type", "string"}, {"pattern", anchored(ipv4 + "|" + ipv6)}}
	case "Prefix", "Network":
		return obj{{"type", "string"}, {"pattern", anchored(ipv4 + "(/" + bits4 + ")?|" + ipv6 + "(/" + bits6 + ")?")}}
	case "Mask":
		return obj{{"anyOf", []any{
			obj{{"type", "integer"}, {"minimum", 0}, {"maximum", 128}},
			obj{{"type", "string"}, {"pattern", anchored("/?" + bits6)}},
			obj{{"enum", netmasks()}},
		}}}
	case "AddrRange":
		return obj{{"type", "string"}, {"pattern", anchored(ipv4 + "(-" + octet + ")?|" + ipv6 + "(-" + hextet + ")?")}}
	}
	panic("schema: no schema for value type " + name)
}

// valueSummary is the short type name lbx.yaml(5) shows for a value type.
var valueSummary = map[string]string{
	"Duration":  "duration",
	"Addr":      "address",
	"Prefix":    "address[/length]",
	"Network":   "network",
	"Mask":      "mask",
	"AddrRange": "address range",
}

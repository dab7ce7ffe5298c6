package model

import "testing"

// TestWordsText pins the "one of these words" texts to those written out
// by hand before oneOf existed.
func TestWordsText(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"or, string", WordsText(WantOr, "x", IPVSOnStopModes), `want keep or remove, got "x"`},
		{"or, three", WordsText(WantOr, "", TunnelChecksums), `want none, csum or remcsum, got ""`},
		{"or, int", WordsText(WantOr, 5, VRRPVersions), "want 2 or 3, got 5"},
		{"or, lower case", WordsText(WantOrLowerCase, "TCP", Protocols), `want tcp, udp or sctp (lower case), got "TCP"`},
		{"one of", WordsText(WantOneOf, "AXFR", DNSTypes), `want one of A AAAA CNAME MX NS SOA TXT, got "AXFR"`},
		{"unknown scope", WordsText(unknownScope, "x", RouteScopes), `unknown scope "x"; want one of global, site, link, host`},
		{"one word", WordsText(WantOr, "b", []string{"a"}), `want a, got "b"`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestOneOf(t *testing.T) {
	tests := []struct {
		name     string
		optional bool
		got      string
		ok       bool
	}{
		{"member", false, "keep", true},
		{"stranger", false, "x", false},
		{"empty, required", false, "", false},
		{"empty, optional", true, "", true},
		{"stranger, optional", true, "x", false},
	}
	for _, tt := range tests {
		v := &validator{m: &Model{}}
		check := oneOf[string]
		if tt.optional {
			check = optionalOneOf[string]
		}
		ok := check(v, "global.ipvs_on_stop", tt.got, IPVSOnStopModes, WantOr)
		if ok != tt.ok || len(v.errs) != map[bool]int{true: 0, false: 1}[tt.ok] {
			t.Errorf("%s: ok %v with %d errors, want ok %v", tt.name, ok, len(v.errs), tt.ok)
		}
	}
}

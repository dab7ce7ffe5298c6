package schema

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

const committed = "../../schema/lbx.schema.json"

// TestCommittedSchemaIsCurrent: the shipped schema is what the model's
// types and comments say now.
func TestCommittedSchemaIsCurrent(t *testing.T) {
	m, err := Describe()
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("schema/lbx.schema.json is stale: the model changed. Regenerate it from the repository root with\n" +
			"  go run ./internal/schema/gen -schema schema/lbx.schema.json\nand commit it.")
	}
}

// TestPatternsMatchParsers: each value type's pattern accepts what the
// parser behind the model's decoder accepts, sample by sample.
func TestPatternsMatchParsers(t *testing.T) {
	addr := func(s string) bool { a, err := netip.ParseAddr(s); return err == nil && a.Zone() == "" }
	prefix := func(s string) bool {
		if addr(s) {
			return true
		}
		_, err := netip.ParsePrefix(s)
		return err == nil
	}
	duration := func(s string) bool { d, err := time.ParseDuration(s); return err == nil && d >= 0 }
	cases := []struct {
		name    string
		parse   func(string) bool
		samples []string
	}{
		{"Addr", addr, []string{"192.0.2.1", "0.0.0.0", "255.255.255.255", "::", "::1", "2001:db8::1", "fe80::1:2:3:4:5", "1:2:3:4:5:6:7:8", "1::", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "::ffff:192.0.2.1", "1:2:3:4:5:6:192.0.2.1", "64:ff9b::10.0.0.1",
			"192.0.2.256", "010.0.0.1", "1.2.3", "1:2:3:4:5:6:7:8:9", "1::2::3", "fe80::1%eth0", "12345::", "gg::1", "1:2:3:4:5:6:7:192.0.2.1", "", "default"}},
		{"Prefix", prefix, []string{"10.0.0.1/24", "10.0.0.1", "10.0.0.0/0", "10.0.0.0/32", "2001:db8::/32", "::/0", "::1/128",
			"10.0.0.1/33", "2001:db8::/129", "10.0.0.1/", "10.0.0.1/08", "/24"}},
		{"Duration", duration, []string{"1s", "1.5s", "100ms", "2h45m", "1m30s", "0", ".5s", "1.s", "10us", "10µs", "10μs", "+1s",
			"5", "1 s", "1d", "s", "-1s", ".s", ""}},
	}
	for _, c := range cases {
		schema := valueSchema(c.name)
		pattern := findPattern(schema)
		re, err := regexp.Compile(pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, s := range c.samples {
			if got, want := re.MatchString(s), c.parse(s); got != want {
				t.Errorf("%s %q: pattern says %v, the parser %v", c.name, s, got, want)
			}
		}
	}
}

// findPattern is the first pattern in a value schema.
func findPattern(o obj) string {
	for _, e := range o {
		switch v := e.v.(type) {
		case string:
			if e.k == "pattern" {
				return v
			}
		case []any:
			for _, x := range v {
				if p := findPattern(x.(obj)); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

// TestManRenders: lbx.yaml(5) formats without a groff warning.
func TestManRenders(t *testing.T) {
	if _, err := exec.LookPath("groff"); err != nil {
		skip(t, "groff is not installed (apt-get install groff-base)")
	}
	m, err := Describe()
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ReadExamples("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("groff", "-man", "-ww", "-z", "-Tutf8")
	cmd.Stdin = bytes.NewReader(m.Man(ex))
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("groff -man -ww: %v\n%s", err, out)
	}
}

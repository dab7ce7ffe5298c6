package model

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// sameTree says where two trees first differ in what the loader reads
// (kind, tag, value, line, column, aliases), or "" if they do not.
func sameTree(a, b *ynode, at string) string {
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value ||
		a.Line != b.Line || a.Column != b.Column || (a.Alias == nil) != (b.Alias == nil) || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s: fast {%d %s %q at %d:%d, %d children} yaml.v3 {%d %s %q at %d:%d, %d children}",
			at, a.Kind, a.Tag, a.Value, a.Line, a.Column, len(a.Content),
			b.Kind, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if d := sameTree(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", at, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkFast: the fast path either declines data or builds yaml.v3's tree;
// it reports whether it was taken.
func checkFast(t *testing.T, data []byte) bool {
	t.Helper()
	fast, nodes, ok := fastYAML(string(data))
	if !ok {
		return false
	}
	want, err := yamlv3Tree(string(data), "f.yaml")
	if err != nil {
		t.Fatalf("fast path accepted what yaml.v3 refuses (%v):\n%s", err, data)
	}
	if d := sameTree(fast, fromYAML(want), ""); d != "" {
		t.Fatalf("trees differ at %s\ninput:\n%s", d, data)
	}
	if n := countNodes(fromYAML(want)); nodes != n {
		t.Fatalf("fast path counted %d nodes, yaml.v3's tree has %d", nodes, n)
	}
	return true
}

// repoModels is every model written in the repository: the examples,
// convert's goldens and the loader's fuzz corpus.
func repoModels(t testing.TB) map[string][]byte {
	out := map[string][]byte{"big": bigModel()}
	for _, glob := range []string{"../examples/*.yaml", "../convert/testdata/golden/*.yaml", "testdata/fuzz/FuzzParse/*"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(glob, "testdata/fuzz") {
				b = fuzzCorpusBytes(t, b)
			}
			out[f] = b
		}
	}
	return out
}

// fuzzCorpusBytes decodes a "go test fuzz v1" file holding one []byte.
func fuzzCorpusBytes(t testing.TB, b []byte) []byte {
	_, arg, ok := strings.Cut(string(b), "\n")
	arg = strings.TrimSpace(arg)
	if !ok || !strings.HasPrefix(arg, "[]byte(") {
		t.Fatalf("unexpected corpus file: %q", b)
	}
	var s string
	if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(arg, "[]byte("), ")"), "%q", &s); err != nil {
		t.Fatalf("corpus file: %v", err)
	}
	return []byte(s)
}

// TestFastYAMLRepoModels: every model in the repository decodes to
// yaml.v3's tree, and the ones written in the plain block style the docs
// use take the fast path (a decline there would quietly lose the speed).
func TestFastYAMLRepoModels(t *testing.T) {
	for name, data := range repoModels(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			took := checkFast(t, data)
			sameLoad(t, data)
			// Anchors and aliases are left to yaml.v3.
			mustTake := !strings.Contains(name, "testdata/fuzz") && !bytes.ContainsAny(data, "&*")
			if mustTake && !took {
				t.Errorf("fast path declined %s", name)
			}
		})
	}
}

// TestFastYAMLCases: shapes at the edge of the subset, each either taken
// with yaml.v3's exact tree or declined as the table says.
func TestFastYAMLCases(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		take       bool
	}{
		{"scalars", "a: 1\nb: x\nc: true\nd: ~\ne: 1.5\nf: 0x1F\ng: 2026-12-05\nh: 010\ni: -3\nj: .inf\nk: yes\nl: 1_000\n", true},
		{"quoted", "a: 'it''s'\nb: \"x y\"\nc: '1'\nd: \"\"\n", true},
		{"comments", "# head\na: 1 # line\n\n  # indented\nb:\n  # between\n  c: 2\n", true},
		{"empty value", "a:\nb: 1\nc:   \n", true},
		{"empty value at end", "a: 1\nb:", true},
		{"document start", "---\na: 1\n", true},
		{"indentless list", "a:\n- x\n- y\nb: 1\n", true},
		{"list of mappings", "a:\n  - b: 1\n    c: 2\n  -   d: 3\n  -\n    e: 4\n", true},
		{"flow", "a: {b: 1, c: 'x', d: \"y\"}\ne: [1, two, 'three']\nf: {}\ng: []\n", true},
		{"flow spaces", "a: { b: 1 ,  c: 2 }  # c\n", true},
		{"ipv6 and ranges", "a: 2001:db8::1\nb: [2001:db8::1-ffff, 10.0.0.1-5]\nc: 10.0.0.0/8\n", true},
		{"colon in value", "a: http://x:80/y\n", true},
		{"hash in value", "a: b#c\n", true},
		{"root list", "- a\n- b: 1\n", true},
		{"anchor", "a: &x 1\nb: *x\n", false},
		{"merge", "a: {b: 1}\nc:\n  <<: {d: 1}\n", false},
		{"tag", "a: !!str 1\n", false},
		{"block scalar", "a: |\n  x\n", false},
		{"multi-line plain", "a: b\n  c\n", false},
		{"multi-line flow", "a: {b: 1,\n  c: 2}\n", false},
		{"nested flow", "a: {b: [1, {c: d}], e: {}}\n", true},
		{"flow key", "a: {[b]: 1}\n", false},
		{"escape", "a: \"\\t\"\n", false},
		{"quoted key", "'a': 1\n", false},
		{"tab", "a:\t1\n", false},
		{"crlf", "a: 1\r\n", false},
		{"two documents", "a: 1\n---\nb: 2\n", false},
		{"bad indentation", "a:\n    b: 1\n  c: 2\n", false},
		{"mapping in value", "a: b: c\n", false},
		{"empty item", "a:\n- \n- x\n", false},
		{"compact nested list", "- - a\n", false},
		{"empty", "# nothing\n", false},
		{"key without colon", "a\n", false},
		{"utf-8 value", "a: é\n", false},
		{"utf-8 comment", "a: 1 # é — ok\nb: 2\n", true},
		{"line separator in comment", "a: 1 # \u2028\nb: 2\n", false},
		{"trailing comma", "a: {b: 1,}\n", false},
		{"comment without space", "a: 'x'#c\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if took := checkFast(t, []byte(tc.yaml)); took != tc.take {
				t.Errorf("fast path taken = %v, want %v", took, tc.take)
			}
			sameLoad(t, []byte(tc.yaml))
		})
	}
}

// TestFastYAMLDepth: nesting deeper than the loader's limit is left to
// yaml.v3 and the decoder's own limit, whose message tests pin.
func TestFastYAMLDepth(t *testing.T) {
	var b strings.Builder
	for i := 0; i <= maxDepth; i++ {
		fmt.Fprintf(&b, "%sa:\n", strings.Repeat(" ", i))
	}
	b.WriteString(strings.Repeat(" ", maxDepth+1) + "b: 1\n")
	if _, _, ok := fastYAML(b.String()); ok {
		t.Fatal("fast path took a model nested beyond maxDepth")
	}
}

// FuzzFastYAML: on any input the fast path declines or builds exactly
// yaml.v3's tree. Seeded with every model in the repository.
func FuzzFastYAML(f *testing.F) {
	for _, b := range repoModels(f) {
		f.Add(b)
	}
	f.Add([]byte("a:\n- {b: 1, c: 'x'}\n-   d: [1, 2]\n    e:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if checkFast(t, data) {
			sameLoad(t, data)
		}
	})
}

// sameLoad: loading data through the fast path gives what loading it
// through yaml.v3 gives, model or errors (with their positions).
func sameLoad(t *testing.T, data []byte) {
	t.Helper()
	m1, _, err1 := parseWith(yamlTree, data, "f.yaml")
	m2, _, err2 := parseWith(yamlv3Only, data, "f.yaml")
	if fmt.Sprint(err1) != fmt.Sprint(err2) {
		t.Fatalf("errors differ:\nfast:    %v\nyaml.v3: %v\ninput:\n%s", err1, err2, data)
	}
	if m1 == nil || m2 == nil {
		return
	}
	m1.Positions, m2.Positions = Positions{}, Positions{}
	if !reflect.DeepEqual(m1, m2) {
		t.Fatalf("models differ:\nfast:    %+v\nyaml.v3: %+v\ninput:\n%s", m1, m2, data)
	}
}

// plainTag answers what yaml.v3 answers, on the shapes it short-cuts
// (integers, IPv4 addresses, durations, words) and beside them (numbers
// with letters, timestamps).
func TestPlainTag(t *testing.T) {
	for _, v := range []string{
		"0", "7", "80", "0777", "123456789012345678", "1234567890123456789", "1_000",
		"10.0.0.1", "10.0.0", "1.5", "1.", "1e5", "1.5E3", "1e", "0x1f", "0X1F", "0o17", "0b101", "0xg",
		"10s", "500ms", "1m30s", "3h", "2s", "1d", "12abc", "1p2", "1inf", "1nan",
		"2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43Z", "2001-12-14 21:59:43.10",
		"10:30", "1-2", "192.168.1.1/24", "fe80::1", "2001:db8::1",
		"true", "True", "yes", "no", "on", "off", "null", "Null", "y", "n", "wlc", "nat", "tcp", "eth0", "VI_1",
	} {
		want := (&yaml.Node{Kind: yaml.ScalarNode, Value: v}).ShortTag()
		if got := plainTag(v); got != want {
			t.Errorf("plainTag(%q) = %s; yaml.v3 says %s", v, got, want)
		}
	}
}

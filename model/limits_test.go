package model

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/safefile/safefiletest"
)

// mergeBomb nests levels mappings, each merging the one before fanout times
// (fanout^levels nodes once expanded), and decodes the last as global.
func mergeBomb(levels, fanout int) string {
	var b strings.Builder
	b.WriteString("version: 1\nx:\n  - &a0 {vrrp_version: x}\n")
	for l := 1; l <= levels; l++ {
		refs := strings.Repeat(fmt.Sprintf("*a%d,", l-1), fanout)
		fmt.Fprintf(&b, "  - &a%d {<<: [%s]}\n", l, strings.TrimSuffix(refs, ","))
	}
	fmt.Fprintf(&b, "global: *a%d\n", levels)
	return b.String()
}

// listBomb expands through typed lists without any merge key:
// virtual_servers -> real_servers -> checks -> urls -> status_codes, each
// list fanout aliases of one anchored element.
func listBomb(fanout int) string {
	list := func(anchor string) string {
		return "[" + strings.TrimSuffix(strings.Repeat("*"+anchor+",", fanout), ",") + "]"
	}
	return "version: 1\nx:\n" +
		"  - &u {path: /, status_codes: " + list("s") + "}\n" +
		"  - &c {type: http_get, urls: " + list("u") + "}\n" +
		"  - &r {address: 10.1.0.1, checks: " + list("c") + "}\n" +
		"  - &v {address: 10.0.0.1, port: 80, real_servers: " + list("r") + "}\n" +
		"virtual_servers: " + list("v") + "\n"
}

// TestAliasAndDepthBounds: alias, merge and nesting bombs are refused with
// one error at their position, after work bounded by the document's size.
func TestAliasAndDepthBounds(t *testing.T) {
	chain := "version: 1\nx:\n  - &a0 {router_id: r}\n"
	for l := 1; l <= 200; l++ {
		chain += fmt.Sprintf("  - &a%d {<<: *a%d}\n", l, l-1)
	}
	chain += "global: *a200\n"
	cases := []struct {
		name, yaml string
		want       string // substring of the error, with its position
	}{
		{"merge bomb 10^7", mergeBomb(7, 10), "m.yaml:11:9: global: aliases and merges (<<) here expand to more than"},
		{"list alias bomb 30^5", strings.Replace(listBomb(30), "x:\n", "x:\n  - &s \"200\"\n", 1), "aliases and merges (<<) here expand to more than"},
		{"merge chain 200 deep", chain, "nested more than 64 levels deep"},
		{"merge cycle", "version: 1\nglobal: &g {<<: *g}\n", "m.yaml:2:17: global: nested more than 64 levels deep"},
		{"list cycle", "version: 1\nvirtual_servers: &l [*l]\n", "virtual_servers[0]: want a mapping, got a list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, w, err := parse([]byte(tc.yaml), "m.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
			if limit := w.nodes + aliasBudget(w.nodes); w.visits > limit+1 {
				t.Errorf("%d nodes decoded for a document of %d nodes; the budget is %d", w.visits, w.nodes, limit)
			}
			if es, _ := AsErrors(err); len(es) > maxErrors+1 {
				t.Errorf("%d errors reported, want at most %d and a count of the rest", len(es), maxErrors)
			}
		})
	}
}

// TestSharedAnchorsStillLoad: the bound leaves room for the ordinary use
// of anchors (one pool of real servers shared by many services).
func TestSharedAnchorsStillLoad(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nx:\n  - &pool [")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "{address: 10.1.0.%d, weight: 2}, ", i+1)
	}
	b.WriteString("]\n  - &chk {type: tcp, connect_timeout: 3}\nvirtual_servers:\n")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "  - {address: 10.0.0.%d, port: 80, real_servers: *pool}\n", i+1)
	}
	_, err := Parse([]byte(b.String()), "m.yaml")
	if err == nil || !strings.Contains(err.Error(), `unknown field "x"`) || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("want only the unknown field x, got %v", err)
	}
}

// TestErrorWork: many errors cost work linear in their number (they were
// quadratic: each validation error was checked against every decode
// error, and each position lookup scanned a whole mapping), and at most
// maxErrors are reported, with a count of the rest.
func TestErrorWork(t *testing.T) {
	const n = 5000
	entries := func(format string) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, format, i, i/256, i%256)
		}
		return b.String()
	}
	cases := []struct {
		name, yaml string
		errors     int // found in all
	}{
		{"decode error under each service", "version: 1\nvirtual_servers:\n" + entries("  - {address: 10.%[2]d.%[3]d.1, port: eighty} # %[1]d\n"), n},
		{"validation error in each script", "version: 1\nscripts:\n" + entries("  s%d: {script: /bin/true, weight: 300} # %d %d\n"), n},
		{"unknown field in each service", "version: 1\nvirtual_servers:\n" + entries("  - {address: 10.%[2]d.%[3]d.1, port: 80, schedular: rr} # %[1]d\n"), n},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, w, err := parse([]byte(tc.yaml), "m.yaml")
			es, ok := AsErrors(err)
			if !ok {
				t.Fatalf("error %v, want Errors", err)
			}
			if w.errorSteps > 50*n {
				t.Errorf("%d steps for %d errors: not linear", w.errorSteps, n)
			}
			if len(es) != maxErrors+1 {
				t.Fatalf("%d errors reported, want %d and a count", len(es), maxErrors)
			}
			more := fmt.Sprintf("m.yaml: and %d more errors", tc.errors-maxErrors)
			if last := es[len(es)-1].Error(); !strings.HasPrefix(last, more) {
				t.Errorf("last error %q, want it to start with %q", last, more)
			}
			if es[0].Pos.Line != 3 || es[maxErrors-1].Pos.Line != maxErrors+2 {
				t.Errorf("errors shown from line %d to %d, want the first ones in the file (3 to %d)", es[0].Pos.Line, es[maxErrors-1].Pos.Line, maxErrors+2)
			}
		})
	}
}

// TestYAMLEncodingErrorsHavePositions: yaml.v3 reports bad bytes and control
// characters without a line; the loader finds the byte itself.
func TestYAMLEncodingErrorsHavePositions(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"invalid byte", "version: 1\nglobal:\n  router_id: a\xffb\n", "m.yaml:3:15: YAML syntax: invalid UTF-8 (byte 0xff)"},
		{"control character", "version: 1\nglobal:\n  router_id: a\x07\n", "m.yaml:3:15: YAML syntax: control character U+0007"},
		{"truncated sequence at the end", "version: 1\nx: a\xc3", "m.yaml:2:5: YAML syntax: invalid UTF-8 (byte 0xc3)"},
		{"non-character", "version: 1\nx: \"\xef\xbf\xbe\"\n", "m.yaml:2:5: YAML syntax: character U+FFFE"},
		{"CRLF line ends", "version: 1\r\nx: 1\r\ny: \x01\r\n", "m.yaml:3:4: YAML syntax: control character U+0001"},
		{"columns count characters", "x: \"é\x01\"\n", "m.yaml:1:6: YAML syntax: control character U+0001"},
		{"in a flow list", "version: 1\nx: [1,\n\x01]\n", "m.yaml:3:1: YAML syntax: control character U+0001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "m.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestLoadFileRefusesSpecialFiles: only regular files of at most
// MaxFileSize are read; a FIFO or device is refused at once (it used to
// hang or read without end).
func TestLoadFileRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo, big := safefiletest.Specials(t, dir, ".yaml", MaxFileSize)
	cases := []struct{ path, want string }{
		{fifo, fifo + ": a named pipe (FIFO), not a regular file"},
		{"/dev/zero", "/dev/zero: a character device, not a regular file"},
		{dir, dir + ": a directory, not a regular file"},
		{big, big + ": larger than 64 MiB"},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			_, err := LoadFile(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

package keepalived

import (
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"
)

// memFS is an in-memory file system for include tests.
type memFS map[string]string

func (m memFS) opts(id string) Options {
	return Options{
		ConfigID: id,
		ReadFile: func(name string) ([]byte, error) {
			if s, ok := m[path.Clean(name)]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
		Glob: func(pattern string) ([]string, error) {
			var out []string
			for name := range m {
				if ok, err := path.Match(pattern, name); err != nil {
					return nil, err
				} else if ok {
					out = append(out, name)
				}
			}
			sort.Strings(out)
			return out, nil
		},
		Getenv: func(k string) string { return "env-" + k },
	}
}

// dump renders a tree as one line per statement: "file:line name args" with
// two spaces of indent per level; blocks end with "}".
func dump(n *Node, depth int, b *strings.Builder) {
	for _, c := range n.Children {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(c.Pos.String() + " " + c.Name)
		for _, a := range c.Args {
			if a.Quoted {
				b.WriteString(" \"" + a.Text + "\"")
			} else {
				b.WriteString(" " + a.Text)
			}
		}
		if c.Block {
			b.WriteString(" {")
		}
		b.WriteString("\n")
		if c.Block {
			dump(c, depth+1, b)
			b.WriteString(strings.Repeat("  ", depth) + "}\n")
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		files memFS // "main.conf" is parsed
		id    string
		main  string // default main.conf
		want  string // dump of the tree
		warn  string // substring of a warning, if any
	}{
		{
			name:  "comments with # and ! anywhere outside quotes",
			files: memFS{"main.conf": "! header\na 1 # trailing\nb \"x # y ! z\" ! gone\n  # indented comment\n"},
			want:  "main.conf:2 a 1\nmain.conf:3 b \"x # y ! z\"\n",
		},
		{
			name:  "brace on the keyword line",
			files: memFS{"main.conf": "vs 1.2.3.4 80 {\n  lb_algo rr\n}\n"},
			want:  "main.conf:1 vs 1.2.3.4 80 {\n  main.conf:2 lb_algo rr\n}\n",
		},
		{
			name:  "brace on the next line",
			files: memFS{"main.conf": "global_defs\n{\n  router_id X\n}\n"},
			want:  "main.conf:1 global_defs {\n  main.conf:3 router_id X\n}\n",
		},
		{
			name:  "several braces on one line",
			files: memFS{"main.conf": "real_server 1.2.3.4 80 { TCP_CHECK { connect_timeout 3 } }\nnext\n"},
			want:  "main.conf:1 real_server 1.2.3.4 80 {\n  main.conf:1 TCP_CHECK {\n    main.conf:1 connect_timeout 3\n  }\n}\nmain.conf:2 next\n",
		},
		{
			name:  "braces glued to words",
			files: memFS{"main.conf": "a{b}\n"},
			want:  "main.conf:1 a {\n  main.conf:1 b\n}\n",
		},
		{
			name:  "empty block",
			files: memFS{"main.conf": "x {}\n"},
			want:  "main.conf:1 x {\n}\n",
		},
		{
			name:  "quoted strings keep spaces and braces, join adjacent text",
			files: memFS{"main.conf": "script \"/bin/x {a} b\" user\nk ab\"c d\"e\n"},
			want:  "main.conf:1 script \"/bin/x {a} b\" user\nmain.conf:2 k \"abc de\"\n",
		},
		{
			name:  "include relative to the including file, nested",
			files: memFS{"main.conf": "a\ninclude sub/one.conf\nz\n", "sub/one.conf": "b\ninclude two.conf\n", "sub/two.conf": "c\n"},
			want:  "main.conf:1 a\nsub/one.conf:1 b\nsub/two.conf:1 c\nmain.conf:3 z\n",
		},
		{
			name:  "include glob in sorted order",
			files: memFS{"main.conf": "include d/*.conf\n", "d/b.conf": "b\n", "d/a.conf": "a\n", "d/c.txt": "no\n"},
			want:  "d/a.conf:1 a\nd/b.conf:1 b\n",
		},
		{
			name:  "include with braces",
			files: memFS{"main.conf": "include {x,y}.conf\n", "x.conf": "x\n", "y.conf": "y\n"},
			want:  "x.conf:1 x\ny.conf:1 y\n",
		},
		{
			name:  "missing include is a warning",
			files: memFS{"main.conf": "include nothere.conf\na\n"},
			want:  "main.conf:2 a\n",
			warn:  "main.conf:1: include nothere.conf matches no file",
		},
		{
			name:  "conditional lines",
			files: memFS{"main.conf": "@main a\n@backup b\n@^main c\n@^backup d\ne\n"},
			id:    "main",
			want:  "main.conf:1 a\nmain.conf:4 d\nmain.conf:5 e\n",
		},
		{
			name:  "definitions: $NAME and ${NAME}, recursive at use time",
			files: memFS{"main.conf": "$BASE=10.2.${SUB}\n$SUB=0\naddr ${BASE}.100/32\n$SUB=10\naddr ${BASE}.100/32\nprio $P\n$P=5\nprio $P\n"},
			want:  "main.conf:3 addr 10.2.0.100/32\nmain.conf:5 addr 10.2.10.100/32\nmain.conf:6 prio $P\nmain.conf:8 prio 5\n",
		},
		{
			name:  "$NAME must be followed by white space",
			files: memFS{"main.conf": "$A=x\nk $Ab $A\n"},
			want:  "main.conf:2 k $Ab x\n",
		},
		{
			name:  "conditional definition",
			files: memFS{"main.conf": "@main $PRIO=240\n@backup $PRIO=200\npriority $PRIO\n"},
			id:    "backup",
			want:  "main.conf:3 priority 200\n",
		},
		{
			name:  "multi-line definition with backslash",
			files: memFS{"main.conf": "$INST= \\\nvrrp_instance VI_${NUM} { \\\n  @high priority 130 \\\n  @low priority 120 \\\n}\n$NUM=0\n$INST\n$NUM=1\n$INST\n"},
			id:    "low",
			want:  "main.conf:7 vrrp_instance VI_0 {\n  main.conf:7 priority 120\n}\nmain.conf:9 vrrp_instance VI_1 {\n  main.conf:9 priority 120\n}\n",
		},
		{
			name:  "predefined _HASH, _BANG, _INSTANCE, _ENV",
			files: memFS{"main.conf": "k \"${_HASH}x ${_BANG}\" ${_INSTANCE} ${_ENV HOME}\n"},
			id:    "me",
			want:  "main.conf:1 k \"#x !\" me env-HOME\n",
			warn:  "main.conf:1: ${_ENV HOME} is expanded from lbx's environment as keepalived 2.4 does; keepalived 2.2.7 has no ${_ENV}",
		},
		{
			name:  "${_HASH} outside quotes starts a comment, as keepalived's decomment after replace_param",
			files: memFS{"main.conf": "$OFF=${_HASH}\n$OFF a 1\nb 2 ${_BANG} c\n$ON=\n$ON d 3\n"},
			want:  "main.conf:3 b 2\nmain.conf:5 d 3\n",
		},
		{
			name:  "a comment in a multi-line definition keeps its final backslash: the definition goes on, as keepalived's decomment",
			files: memFS{"main.conf": "$D= \\\na 1 # note \\\n# b 2 \\\nc 3\n$D\n"},
			want:  "main.conf:5 a 1\nmain.conf:5 c 3\n",
		},
		{
			name:  "a replacement is rescanned in its pass, and a ~SEQ value ends the pass: $OFF $GEN with OFF=${_HASH} generates nothing",
			files: memFS{"main.conf": "$OFF=${_HASH}\n$RS= \\\nr ${N} { \\\n}\n$GEN= \\\n ~SEQ(N,1,2) $RS\na {\n$OFF\t$GEN\n$GEN\n b 1\n}\n"},
			want:  "main.conf:7 a {\n  main.conf:9 r 1 {\n  }\n  main.conf:9 r 2 {\n  }\n  main.conf:10 b 1\n}\n",
		},
		{
			name:  "a block left open at the end: keepalived closes it there",
			files: memFS{"main.conf": "a {\n b\n"},
			want:  "main.conf:1 a {\n  main.conf:2 b\n}\n",
			warn:  "main.conf:1: block \"a\" opened here is never closed with '}': keepalived reports \"There are 1 missing '}'s or extra '{'s\"",
		},
		{
			name:  "a comment that is not UTF-8 is no error",
			files: memFS{"main.conf": "a 1 # \x93\xfa\x96\x7b\n"},
			want:  "main.conf:1 a 1\n",
		},
		{
			name:  "U+00A0 in a comment is no warning",
			files: memFS{"main.conf": "a 1 # a no-break\u00a0space\n"},
			want:  "main.conf:1 a 1\n",
		},
		{
			name:  "~SEQ with default start and step",
			files: memFS{"main.conf": "~SEQ(N, 3) ip 10.0.${N}.1\n"},
			want:  "main.conf:1 ip 10.0.1.1\nmain.conf:1 ip 10.0.2.1\nmain.conf:1 ip 10.0.3.1\n",
		},
		{
			name:  "~SEQ start, step, end; counts down",
			files: memFS{"main.conf": "~SEQ(N, 0, 3)\n~SEQ(M, 5, -2, 1) m $M\n"},
			want:  "main.conf:2 m 5\nmain.conf:2 m 3\nmain.conf:2 m 1\n",
		},
		{
			name:  "~SEQx in hex, nested",
			files: memFS{"main.conf": "~SEQx(A, 0x90, 0x10, 0xa0) ~SEQ(B, 1, 2) fe80::${A}:${B}\n"},
			want:  "main.conf:1 fe80::90:1\nmain.conf:1 fe80::90:2\nmain.conf:1 fe80::a0:1\nmain.conf:1 fe80::a0:2\n",
		},
		{
			name:  "~LST with several variables",
			files: memFS{"main.conf": "~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}\n"},
			want:  "main.conf:1 192.168.10.1\nmain.conf:1 192.168.20.4\n",
		},
		{
			name:  "include ${_PWD}: expanded before the include is read, as keepalived's read_line",
			files: memFS{"/k/main.conf": "include ${_PWD}/conf.d/*.conf\nb 2\n", "/k/conf.d/a.conf": "a 1\n"},
			main:  "/k/main.conf",
			want:  "/k/conf.d/a.conf:1 a 1\n/k/main.conf:2 b 2\n",
		},
		{
			name:  "include through a definition and a conditional",
			files: memFS{"main.conf": "$D=conf.d\n@host include ${D}/a.conf\n@other include ${D}/b.conf\n", "conf.d/a.conf": "a 1\n", "conf.d/b.conf": "b 1\n"},
			want:  "conf.d/a.conf:1 a 1\n",
		},
		{
			name:  "stray closing brace: keepalived's \"Extra '}' found\", ignored",
			files: memFS{"main.conf": "vs {\n a 1\n}\n b 2\n}\n"},
			want:  "main.conf:1 vs {\n  main.conf:2 a 1\n}\nmain.conf:4 b 2\n",
			warn:  "main.conf:5: extra '}': keepalived reports \"Extra '}' found\" and ignores it, so does lbx; probably a '}' above closes a block too soon: vs opened at main.conf:1 ends at main.conf:3",
		},
		{
			name:  "U+00A0 is part of a word, as in keepalived (indentation pasted from a web page)",
			files: memFS{"main.conf": "vs {\n\u00a0\u00a0priority 100\n a\u00a0b\n}\n"},
			want:  "main.conf:1 vs {\n  main.conf:2 \u00a0\u00a0priority 100\n  main.conf:3 a\u00a0b\n}\n",
			warn:  "main.conf:2: line holds U+00A0 (no-break space), which keepalived reads as part of a word",
		},
		{
			name:  "CRLF line ends",
			files: memFS{"main.conf": "a 1\r\nb {\r\n c\r\n}\r\n"},
			want:  "main.conf:1 a 1\nmain.conf:2 b {\n  main.conf:3 c\n}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.id
			if id == "" {
				id = "host"
			}
			main := tt.main
			if main == "" {
				main = "main.conf"
			}
			res, err := ParseFile(main, tt.files.opts(id))
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			var b strings.Builder
			dump(res.Root, 0, &b)
			if b.String() != tt.want {
				t.Errorf("tree:\n%s\nwant:\n%s", b.String(), tt.want)
			}
			var warns []string
			for _, w := range res.Warnings {
				warns = append(warns, w.String())
			}
			all := strings.Join(warns, "\n")
			if tt.warn == "" && all != "" {
				t.Errorf("unexpected warnings: %s", all)
			}
			if tt.warn != "" && !strings.Contains(all, tt.warn) {
				t.Errorf("warnings %q lack %q", all, tt.warn)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		files memFS
		want  string // substring of the error, with file:line
	}{
		{"text that is not UTF-8 outside a comment", memFS{"main.conf": "a \x93\xfa\n"}, "main.conf:1: error: line is not valid UTF-8 text (outside its comment)"},
		{"include with an unexpanded variable matching nothing", memFS{"main.conf": "include $CONF_DIR/*.conf\n"}, "main.conf:1: error: include $CONF_DIR/*.conf matches no file and holds a $ variable lbx did not expand"},
		{"include with an unknown built-in matching nothing", memFS{"main.conf": "include ${_CONFDIR}/a.conf\n"}, "main.conf:1: error: include ${_CONFDIR}/a.conf matches no file and holds a $ variable"},
		{"brace without keyword", memFS{"main.conf": "{\n}\n"}, "main.conf:1: error: '{' without a keyword"},
		{"include loop", memFS{"main.conf": "include a.conf\n", "a.conf": "include b.conf\n", "b.conf": "include a.conf\n"}, "b.conf:1: error: include loop"},
		{"self include", memFS{"main.conf": "include main.conf\n"}, "main.conf:1: error: include loop"},
		{"definition using itself", memFS{"main.conf": "$A=x $A \nk $A \n"}, "main.conf:2: error: definitions expand more than"},
		{"seq step 0", memFS{"main.conf": "~SEQ(A, 1, 0, 5) x\n"}, "main.conf:1: error: ~SEQ: step 0"},
		{"seq too long", memFS{"main.conf": "~SEQ(A, 1, 10000000) x\n"}, "main.conf:1: error: ~SEQ generates more than"},
		{"seq bad number", memFS{"main.conf": "~SEQ(A, one) x\n"}, "main.conf:1: error: ~SEQ: \"one\" is not a number"},
		{"missing main file", memFS{}, "main.conf: error: cannot read configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile("main.conf", tt.files.opts("host"))
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

func TestExpandBraces(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a", "a"},
		{"{a,b}", "a b"},
		{"x{a,b}y", "xay xby"},
		{"{foo/{,cat,dog},bar}", "foo/ foo/cat foo/dog bar"},
		{"{unclosed", "{unclosed"},
	}
	for _, tt := range tests {
		if got := strings.Join(expandBraces(tt.in, 0), " "); got != tt.want {
			t.Errorf("expandBraces(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseBoundedWork(t *testing.T) {
	// 10^10 iterations that each produce nothing must stop at the work
	// limit; the error proves the bound (no wall-clock assertion: shared
	// machines make those flaky).
	files := memFS{"main.conf": "~SEQ(A, 1, 99999) ~SEQ(B, 1, 99999) $X=1\n"}
	_, err := ParseFile("main.conf", files.opts("h"))
	if err == nil || !strings.Contains(err.Error(), "main.conf:1: error: configuration expands to more than") {
		t.Fatalf("err = %v, want a work-limit error at main.conf:1", err)
	}
}

// TestReshape: a '{' after a keyword that opens no block is read as
// keepalived's process_stream reads it.
func TestReshape(t *testing.T) {
	// Only "vs" (at the top) and "rs" (in vs) open blocks.
	opens := func(path []string, kw string) bool {
		in := ""
		if len(path) > 0 {
			in = path[len(path)-1]
		}
		return in == "" && kw == "vs" || in == "vs" && kw == "rs"
	}
	tests := []struct {
		name, conf, want string
		diags            []string
	}{
		{
			name: "nothing to change",
			conf: "vs {\n rs {\n  a 1\n }\n}\n",
			want: "main.conf:1 vs {\n  main.conf:2 rs {\n    main.conf:3 a 1\n  }\n}\n",
		},
		{
			name:  "a block that is none: its lines one level up, its '}' closes the enclosing block",
			conf:  "vs {\n rs {\n  chk {\n   a 1\n  }\n  w 2\n }\n}\n",
			want:  "main.conf:1 vs {\n  main.conf:2 rs {\n    main.conf:3 chk\n    main.conf:4 a 1\n  }\n  main.conf:6 w 2\n}\n",
			diags: []string{"main.conf:3: \"chk\" opens no block in rs", "main.conf:8: this '}' is left at the top level"},
		},
		{
			name:  "at the top level",
			conf:  "x {\n a 1\n}\nvs {\n}\n",
			want:  "main.conf:1 x\nmain.conf:2 a 1\nmain.conf:4 vs {\n}\n",
			diags: []string{"main.conf:1: \"x\" opens no block in the top level", "main.conf:3: this '}' is left at the top level"},
		},
		{
			name:  "nested blocks that are none",
			conf:  "vs {\n x {\n  y {\n   a 1\n  }\n  b 2\n }\n c 3\n}\n",
			want:  "main.conf:1 vs {\n  main.conf:2 x\n  main.conf:3 y\n  main.conf:4 a 1\n}\nmain.conf:6 b 2\nmain.conf:8 c 3\n",
			diags: []string{"main.conf:2: \"x\" opens no block in vs", "main.conf:3: \"y\" opens no block in vs", "main.conf:7: this '}'", "main.conf:9: this '}'"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse([]byte(tt.conf), "main.conf", Options{ConfigID: "host"})
			if err != nil {
				t.Fatal(err)
			}
			diags := Reshape(res.Root, opens)
			var b strings.Builder
			dump(res.Root, 0, &b)
			if b.String() != tt.want {
				t.Errorf("tree:\n%s\nwant:\n%s", b.String(), tt.want)
			}
			var got []string
			for _, d := range diags {
				got = append(got, d.String())
				if !d.Corrected {
					t.Errorf("%s: not marked as a correction", d)
				}
			}
			all := strings.Join(got, "\n")
			if len(got) != len(tt.diags) {
				t.Errorf("%d diagnostics, want %d:\n%s", len(got), len(tt.diags), all)
			}
			for _, d := range tt.diags {
				if !strings.Contains(all, d) {
					t.Errorf("diagnostics lack %q:\n%s", d, all)
				}
			}
		})
	}
}

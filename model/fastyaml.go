package model

import (
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// fastYAML builds the tree yaml.v3 would build (same Kind, Tag, Value,
// Line and Column, as the loader's ynode) for the block-style YAML that models are written in, in one pass
// over the bytes and a few allocations per thousand nodes. yaml.v3 spends
// about 20 allocations and most of a load's time per node (its scanner,
// parser and event copies); a 2,000-service model took 76 ms, 2/3 of it there.
//
// It declines (ok false) anything outside its subset, and the caller then
// asks yaml.v3, so correctness never rests on it: non-ASCII or control
// bytes, tabs, CR, directives, several documents, anchors, aliases, tags,
// merge keys, block scalars, multi-line scalars and flows, nested flows,
// escapes in double quotes, quoted or complex keys, empty list items, odd
// indentation, nesting beyond maxDepth, and every syntax error. The
// differential fuzz target FuzzFastYAML holds it to yaml.v3's tree.
func fastYAML(src string) (doc *ynode, nodes int, ok bool) {
	if !fastBytes(src) {
		return nil, 0, false
	}
	defer func() {
		if r := recover(); r != nil {
			if r != errDecline {
				panic(r)
			}
			doc, nodes, ok = nil, 0, false
		}
	}()
	p := &fastParser{src: src}
	p.next()
	if p.eof {
		return nil, 0, false // empty: yaml.v3 says so
	}
	doc = p.node(yaml.DocumentNode, "", "", p.line, p.ind+1)
	if p.ind == 0 && p.rest() == "---" {
		p.next()
		if p.eof {
			return nil, 0, false
		}
	}
	root := p.block(p.ind)
	if !p.eof {
		return nil, 0, false // a line less indented than the root, or a second document
	}
	doc.Content = p.list([]*ynode{root})
	return doc, p.nodes, true
}

// fastBytes: data is printable ASCII and newlines, with other UTF-8
// characters allowed only where they cannot move a column or a line:
// scalars holding them decline (yaml.v3 counts columns in characters),
// so they stay in comments. Characters yaml.v3 reads as line breaks
// (U+2028, U+2029) or refuses (BOM, non-characters) decline here.
func fastBytes(data string) bool {
	for i := 0; i < len(data); {
		c := data[i]
		if c >= 0x20 && c <= 0x7e || c == '\n' {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(data[i:])
		if r == utf8.RuneError || r < 0xa0 || r > 0xd7ff && r < 0xe000 || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff {
			return false
		}
		i += size
	}
	return true
}

// ascii: s has no byte a column count could disagree on.
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// declineError stops the fast path from any depth; fastYAML recovers it.
type declineError struct{}

var errDecline = &declineError{}

func decline() { panic(errDecline) }

// fastParser reads src line by line. The current line is
// src[start:end]; its content begins ind columns in (after a "- " of a
// list item, ind is where the item's mapping begins).
type fastParser struct {
	src        string // the file: scalars are slices of it
	start, end int
	line, ind  int
	eof        bool
	depth      int
	slab       []ynode  // nodes are carved from here, a chunk at a time
	ptrs       []*ynode // Content slices likewise
	stack      []*ynode // children of the open collections
	nodes      int      // made so far
}

const fastSlab = 1024

func (p *fastParser) node(kind yaml.Kind, tag, value string, line, col int) *ynode {
	if len(p.slab) == 0 {
		p.slab = make([]ynode, fastSlab)
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	p.nodes++
	n.Kind, n.Tag, n.Value, n.Line, n.Column = kind, tag, value, line, col
	return n
}

// list returns nodes as a Content slice carved from a shared chunk (its
// capacity is cut so that an append cannot write into a neighbour).
func (p *fastParser) list(nodes []*ynode) []*ynode {
	if len(nodes) > len(p.ptrs) {
		p.ptrs = make([]*ynode, max(fastSlab, len(nodes)))
	}
	l := p.ptrs[:len(nodes):len(nodes)]
	copy(l, nodes)
	p.ptrs = p.ptrs[len(nodes):]
	return l
}

// children returns the children pushed on the stack since base as a
// Content slice, and pops them.
func (p *fastParser) children(base int) []*ynode {
	l := p.list(p.stack[base:])
	clear(p.stack[base:])
	p.stack = p.stack[:base]
	return l
}

// next moves to the next line with content, skipping blank and
// comment-only lines; a document marker other than the first "---" and a
// directive decline.
func (p *fastParser) next() {
	for {
		if p.line > 0 {
			p.start = p.end + 1
		}
		if p.start >= len(p.src) {
			p.eof, p.start, p.end = true, len(p.src), len(p.src)
			p.ind = -1
			return
		}
		p.line++
		p.end = p.start
		for p.end < len(p.src) && p.src[p.end] != '\n' {
			p.end++
		}
		i := p.start
		for i < p.end && p.src[i] == ' ' {
			i++
		}
		if i == p.end || p.src[i] == '#' {
			continue
		}
		p.ind = i - p.start
		if p.ind == 0 && p.line > 1 && (p.hasPrefix("---") || p.hasPrefix("...")) || p.src[p.start] == '%' {
			decline()
		}
		return
	}
}

func (p *fastParser) hasPrefix(s string) bool {
	return p.end-p.start >= len(s) && p.src[p.start:p.start+len(s)] == s
}

// rest is the current line's content, trailing spaces cut.
func (p *fastParser) rest() string {
	e := p.end
	for e > p.start+p.ind && p.src[e-1] == ' ' {
		e--
	}
	return p.src[p.start+p.ind : e]
}

// isItem: the content at column ind is a list item ("-" then space or end).
func (p *fastParser) isItem() bool {
	i := p.start + p.ind
	return p.src[i] == '-' && (i+1 == p.end || p.src[i+1] == ' ')
}

// block parses the mapping or list whose first line is the current one.
func (p *fastParser) block(ind int) *ynode {
	if p.depth++; p.depth > maxDepth {
		decline()
	}
	defer func() { p.depth-- }()
	if p.isItem() {
		return p.sequence(ind)
	}
	return p.mapping(ind)
}

func (p *fastParser) sequence(ind int) *ynode {
	n := p.node(yaml.SequenceNode, "!!seq", "", p.line, ind+1)
	base := len(p.stack)
	for !p.eof && p.ind == ind && p.isItem() {
		c := p.start + ind + 1
		for c < p.end && p.src[c] == ' ' {
			c++
		}
		switch {
		case c == p.end || p.src[c] == '#':
			if c < p.end && p.src[c-1] != ' ' {
				decline()
			}
			p.next()
			if p.eof || p.ind <= ind {
				decline() // an empty item
			}
			p.stack = append(p.stack, p.block(p.ind))
		case p.src[c] == '-' && (c+1 == p.end || p.src[c+1] == ' '):
			decline() // "- - x"
		case p.keyEnd(c) > 0:
			p.ind = c - p.start
			p.stack = append(p.stack, p.block(p.ind))
		default:
			p.stack = append(p.stack, p.inline(c))
			p.next()
		}
		if !p.eof && p.ind > ind {
			decline()
		}
	}
	n.Content = p.children(base)
	return n
}

func (p *fastParser) mapping(ind int) *ynode {
	n := p.node(yaml.MappingNode, "!!map", "", p.line, ind+1)
	base := len(p.stack)
	for !p.eof && p.ind == ind {
		k := p.start + ind
		if p.isItem() {
			decline() // a list item where a key belongs
		}
		colon := p.keyEnd(k)
		if colon < 0 {
			decline()
		}
		key := p.plain(k, colon)
		c := colon + 1
		for c < p.end && p.src[c] == ' ' {
			c++
		}
		var val *ynode
		if c == p.end || p.src[c] == '#' {
			if c < p.end && p.src[c-1] != ' ' {
				decline()
			}
			line, col := p.line, colon-p.start+2 // yaml.v3 places an empty value just after the colon
			p.next()
			switch {
			case !p.eof && p.ind > ind:
				val = p.block(p.ind)
			case !p.eof && p.ind == ind && p.isItem():
				val = p.block(ind) // a list at its key's indentation
			default:
				val = p.node(yaml.ScalarNode, "!!null", "", line, col)
			}
		} else {
			val = p.inline(c)
			p.next()
			if !p.eof && p.ind > ind {
				decline() // a continued scalar, or a mapping in a scalar's place
			}
		}
		p.stack = append(p.stack, key, val)
	}
	n.Content = p.children(base)
	return n
}

// keyEnd: if a plain key starts at i (a simple key on this line, ended by
// ": " or ":" at the end of the line), the offset of its colon; else -1.
func (p *fastParser) keyEnd(i int) int {
	if !plainStart(p.src, i, p.end, false) {
		return -1
	}
	for j := i; j < p.end; j++ {
		switch p.src[j] {
		case ':':
			if j+1 == p.end || p.src[j+1] == ' ' {
				if j-i > 1000 {
					decline() // yaml.v3 limits simple keys to 1024 characters
				}
				return j
			}
		case '#':
			if p.src[j-1] == ' ' {
				return -1
			}
		}
	}
	return -1
}

// plainStart: a plain scalar may begin at i (not with an indicator, except
// - followed by a non-space, and outside flows ? and : likewise).
func plainStart(data string, i, end int, flow bool) bool {
	switch data[i] {
	case '?', ':':
		return !flow && i+1 < end && data[i+1] != ' '
	case '-':
		return i+1 < end && data[i+1] != ' '
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

// plain makes the plain scalar data[i:j], trailing spaces cut.
func (p *fastParser) plain(i, j int) *ynode {
	for j > i && p.src[j-1] == ' ' {
		j--
	}
	if !ascii(p.src[i:j]) {
		decline()
	}
	v := p.src[i:j]
	if v == "<<" {
		decline() // a merge key: yaml.v3 tags it !!merge
	}
	return p.node(yaml.ScalarNode, plainTag(v), v, p.line, i-p.start+1)
}

// inline parses the value that begins at c and ends the line: a plain or
// quoted scalar, or a one-line flow mapping or list.
func (p *fastParser) inline(c int) *ynode {
	var n *ynode
	var e int
	switch p.src[c] {
	case '{', '[':
		n, e = p.flow(c)
	case '\'', '"':
		n, e = p.quoted(c)
	default:
		if !plainStart(p.src, c, p.end, false) {
			decline()
		}
		e = c
		for e < p.end && !(p.src[e] == '#' && p.src[e-1] == ' ') {
			if p.src[e] == ':' && (e+1 == p.end || p.src[e+1] == ' ') {
				decline() // a mapping where a value belongs
			}
			e++
		}
		return p.plain(c, e)
	}
	p.lineEnd(e)
	return n
}

// lineEnd checks that only spaces and a comment follow offset e.
func (p *fastParser) lineEnd(e int) {
	s := e
	for e < p.end && p.src[e] == ' ' {
		e++
	}
	if e < p.end && (p.src[e] != '#' || e == s) {
		decline()
	}
}

// quoted parses a one-line quoted scalar at c; e is just after it.
func (p *fastParser) quoted(c int) (n *ynode, e int) {
	q := p.src[c]
	var b []byte // only for a single-quoted scalar with '' in it
	i := c + 1
	for ; ; i++ {
		if i >= p.end || q == '"' && p.src[i] == '\\' {
			decline() // a multi-line or escaped scalar
		}
		if p.src[i] == q {
			if q == '\'' && i+1 < p.end && p.src[i+1] == '\'' {
				if b == nil {
					b = append([]byte{}, p.src[c+1:i]...)
				}
				b = append(b, '\'')
				i++
				continue
			}
			break
		}
		if b != nil {
			b = append(b, p.src[i])
		}
	}
	v := p.src[c+1 : i]
	if b != nil {
		v = string(b)
	}
	if !ascii(v) {
		decline()
	}
	return p.node(yaml.ScalarNode, "!!str", v, p.line, c-p.start+1), i + 1
}

// flow parses a one-line flow mapping or list of scalars at c.
func (p *fastParser) flow(c int) (n *ynode, e int) {
	mapping := p.src[c] == '{'
	closer := byte(']')
	if mapping {
		closer = '}'
		n = p.node(yaml.MappingNode, "!!map", "", p.line, c-p.start+1)
	} else {
		n = p.node(yaml.SequenceNode, "!!seq", "", p.line, c-p.start+1)
	}
	base := len(p.stack)
	i := p.skip(c + 1)
	if i < p.end && p.src[i] == closer {
		n.Content = p.children(base)
		return n, i + 1
	}
	for {
		if mapping {
			if i < p.end && (p.src[i] == '\'' || p.src[i] == '"') {
				decline() // a quoted key
			}
			k, j := p.flowScalar(i, true)
			if j >= p.end || p.src[j] != ':' {
				decline()
			}
			p.stack = append(p.stack, k)
			i = p.skip(j + 1)
		}
		v, j := p.flowValue(i)
		p.stack = append(p.stack, v)
		i = p.skip(j)
		if i >= p.end {
			decline()
		}
		if p.src[i] == closer {
			n.Content = p.children(base)
			return n, i + 1
		}
		if p.src[i] != ',' {
			decline()
		}
		i = p.skip(i + 1)
	}
}

func (p *fastParser) skip(i int) int {
	for i < p.end && p.src[i] == ' ' {
		i++
	}
	return i
}

// flowValue parses a value inside a flow: a nested flow or a scalar.
func (p *fastParser) flowValue(i int) (*ynode, int) {
	if i < p.end && (p.src[i] == '{' || p.src[i] == '[') {
		if p.depth++; p.depth > maxDepth {
			decline()
		}
		defer func() { p.depth-- }()
		return p.flow(i)
	}
	return p.flowScalar(i, false)
}

// flowScalar parses a scalar inside a flow at i; j is just after it (a
// key's colon, which must be followed by a space, is left at j).
func (p *fastParser) flowScalar(i int, key bool) (n *ynode, j int) {
	if i >= p.end {
		decline()
	}
	if p.src[i] == '\'' || p.src[i] == '"' {
		return p.quoted(i)
	}
	if !plainStart(p.src, i, p.end, true) {
		decline()
	}
	j = i
	for ; j < p.end; j++ {
		switch p.src[j] {
		case ',', '[', ']', '{', '}':
			return p.plain(i, j), j
		case '?':
			decline()
		case '#':
			if p.src[j-1] == ' ' {
				decline() // a comment inside the flow: it goes on to the next line
			}
		case ':':
			// yaml.v3 ends a plain scalar at ": " only; "2001:db8::1" is one.
			if j+1 < p.end && p.src[j+1] == ' ' {
				if !key {
					decline()
				}
				return p.plain(i, j), j
			}
			if j+1 == p.end || strings.IndexByte(",[]{}", p.src[j+1]) >= 0 {
				decline()
			}
		}
	}
	decline()
	return nil, 0
}

// numberLetters are the letters of what yaml.v3 resolves a scalar that
// starts with a digit to, other than a string: hexadecimal digits and the
// base prefixes of an integer (0x, 0o, 0b), a float's exponent and a
// timestamp's T and Z.
const numberLetters = "abcdefABCDEFxXoOtTzZ"

// plainTag is the tag yaml.v3 resolves a plain scalar to. The shapes a
// model is made of are answered here; the rest by yaml.v3 itself.
func plainTag(v string) string {
	c := v[0]
	switch {
	case c >= '0' && c <= '9':
		digits, dots, unit := 0, 0, false
		for i := 0; i < len(v); i++ {
			switch b := v[i]; {
			case b >= '0' && b <= '9':
				digits++
			case b == '.':
				dots++
			case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z':
				unit = unit || !strings.ContainsRune(numberLetters, rune(b))
			}
		}
		if digits == len(v) && (c != '0' || len(v) == 1) && len(v) < 19 {
			return "!!int"
		}
		if digits+dots == len(v) && dots > 1 {
			return "!!str" // an IPv4 address: not a number, not a date
		}
		if unit {
			// A duration (10s, 500ms): yaml.v3 would try it as a
			// number three ways, each failure an allocated error.
			return "!!str"
		}
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		if !isResolveHint(c) {
			return "!!str"
		}
	}
	return (&yaml.Node{Kind: yaml.ScalarNode, Value: v}).ShortTag()
}

// isResolveHint: yaml.v3 looks a plain scalar starting with c up in its
// table of booleans and nulls (yes/no are strings in YAML 1.2).
func isResolveHint(c byte) bool {
	switch c {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O':
		return true
	}
	return false
}

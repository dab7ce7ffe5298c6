package model

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Pos is a place in the model file.
type Pos struct{ Line, Col int }

// Positions finds where a field path (e.g. "virtual_servers[0].port") was
// written. It walks the YAML tree on demand: only errors need positions, so
// a valid 10,000-object model pays nothing for them.
type Positions struct {
	root *ynode
	x    *posIndex
	// src, once the load is done: the file, parsed again on the first
	// lookup. The tree is most of a large model's memory (150 bytes a
	// node) and a valid model looks up nothing, so it is not kept.
	src *posSource
}

// posSource builds a model's tree again for positions asked after its load.
type posSource struct {
	once sync.Once
	data string
	pos  Positions
}

// sourcePositions is a loaded model's Positions: the source, not the tree.
func sourcePositions(src string) Positions {
	return Positions{src: &posSource{data: src}}
}

// tree returns p with its tree, building it again if need be.
func (p Positions) tree() Positions {
	if p.root != nil || p.src == nil {
		return p
	}
	s := p.src
	s.once.Do(func() {
		w := &work{}
		if root, _ := yamlTree(s.data, "", w); root != nil {
			s.pos = newPositions(root, w)
		}
	})
	return s.pos
}

// posIndex makes many lookups cost linear time in all: a large mapping
// (a thousand scripts) gets a key index on its first lookup, and searches
// through merge keys share one budget, after which a path takes the
// position of its nearest ancestor found.
type posIndex struct {
	w          *work
	keys       map[*ynode]map[string]*ynode
	mergeSteps int
}

// indexAbove: mappings with more keys than this get an index.
const indexAbove = 16

func newPositions(root *ynode, w *work) Positions {
	return Positions{root: root, x: &posIndex{w: w, keys: map[*ynode]map[string]*ynode{}, mergeSteps: aliasBudget(w.nodes)}}
}

// At returns the position of path, or of its nearest written ancestor.
func (p Positions) At(path string) Pos {
	p = p.tree()
	n := p.root
	if n == nil {
		return Pos{}
	}
	x := p.x
	if x == nil {
		x = newPositions(n, &work{}).x
	}
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	best := Pos{n.Line, n.Column}
	for path != "" && n != nil {
		var seg string
		var idx = -1
		switch {
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return best
			}
			i, err := strconv.Atoi(path[1:end])
			if err != nil {
				return best
			}
			idx, path = i, path[end+1:]
		default:
			path = strings.TrimPrefix(path, ".")
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			seg, path = path[:end], path[end:]
		}
		n = x.child(n, seg, idx, 0)
		if n != nil {
			best = Pos{n.Line, n.Column}
		}
	}
	return best
}

// child returns a mapping's value for key (following merge keys) or a
// sequence's element.
func (x *posIndex) child(n *ynode, key string, idx, depth int) *ynode {
	x.w.errorSteps++
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if idx >= 0 {
		if n.Kind == yaml.SequenceNode && idx < len(n.Content) {
			return n.Content[idx]
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	if c := x.key(n, key); c != nil {
		return c
	}
	for i := 0; i+1 < len(n.Content) && depth < maxDepth; i += 2 {
		if n.Content[i].Tag != "!!merge" {
			continue
		}
		merged := n.Content[i+1]
		if merged.Kind == yaml.AliasNode && merged.Alias != nil {
			merged = merged.Alias
		}
		list := []*ynode{merged}
		if merged.Kind == yaml.SequenceNode {
			list = merged.Content // <<: [*a, *b]
		}
		for _, m := range list {
			if x.mergeSteps--; x.mergeSteps < 0 {
				return nil
			}
			if c := x.child(m, key, idx, depth+1); c != nil {
				return c
			}
		}
	}
	return nil
}

// key returns mapping n's value for key, not following merges.
func (x *posIndex) key(n *ynode, key string) *ynode {
	if len(n.Content) <= 2*indexAbove {
		for i := 0; i+1 < len(n.Content); i += 2 {
			x.w.errorSteps++
			if n.Content[i].Value == key && n.Content[i].Tag != "!!merge" {
				return n.Content[i+1]
			}
		}
		return nil
	}
	m, ok := x.keys[n]
	if !ok {
		m = make(map[string]*ynode, len(n.Content)/2)
		for i := len(n.Content) - 2; i >= 0; i -= 2 { // backwards: the first of duplicates wins
			x.w.errorSteps++
			if n.Content[i].Tag != "!!merge" {
				m[n.Content[i].Value] = n.Content[i+1]
			}
		}
		x.keys[n] = m
	}
	x.w.errorSteps++
	return m[key]
}

// FieldError is one problem in a model file.
type FieldError struct {
	File string
	Pos  Pos
	Path string // e.g. virtual_servers[0].real_servers[2].weight
	Msg  string
	// Node is the node (of the model's nodes) whose view has the error;
	// empty for the model as a whole.
	Node string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Pos.Line, e.Pos.Col)
	}
	b.WriteString(": ")
	if e.Node != "" && !strings.HasPrefix(e.Path, "nodes."+e.Node+".") {
		b.WriteString("node " + e.Node + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file, in file order.
type Errors []*FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Pos.Line != es[j].Pos.Line {
			return es[i].Pos.Line < es[j].Pos.Line
		}
		return es[i].Pos.Col < es[j].Pos.Col
	})
}

// AsErrors returns the list of field errors inside err, if any.
func AsErrors(err error) (Errors, bool) {
	var es Errors
	if errors.As(err, &es) {
		return es, true
	}
	return nil, false
}

// decoder walks a YAML tree (ynode) into Go values with reflection, refusing
// unknown keys and wrong types and collecting every error with its position.
// yaml.v3's own strict mode stops at the first error and reports no column
// or field path, which is why this exists.
type decoder struct {
	file   string
	errs   errorList
	failed pathIndex // paths with a decode error
	segs   []pathSeg // where it is: see path
	w      *work
	depth  int
	// Alias expansion: how deep inside aliases the decoder is, where the
	// outermost one began, and how many nodes it may still decode.
	aliasDepth int
	aliasAt    *ynode
	aliasPath  string
	budget     int
	stopped    bool // a limit was reached: decode nothing more
	// release: a list's items are cut from the tree once decoded, so that
	// the collector can take them while the rest decodes. Only for a tree
	// without aliases (the fast path's), where nothing reaches a node
	// twice; positions come from the source (parseWith).
	release bool
}

// pathSeg is one step of the field path the decoder is at: a field or map
// key, or a list index.
type pathSeg struct {
	name   string
	index  int  // >= 0: a list index
	mapKey bool // a map's key: joined with "." even first
}

func (d *decoder) push(s pathSeg) { d.segs = append(d.segs, s) }
func (d *decoder) pop()           { d.segs = d.segs[:len(d.segs)-1] }

// path is the field path being decoded, e.g. "virtual_servers[0].port".
// It is made only when an error needs it: a string per node decoded was a
// tenth of a large model's load.
func (d *decoder) path() string {
	var b strings.Builder
	for _, s := range d.segs {
		switch {
		case s.index >= 0:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case s.mapKey || b.Len() > 0:
			b.WriteByte('.')
			b.WriteString(s.name)
		default:
			b.WriteString(s.name)
		}
	}
	return b.String()
}

// structFields caches, per struct type, its YAML names and field indexes.
var structFields sync.Map // reflect.Type -> *fieldIndex

type fieldIndex struct {
	byName map[string]int
	names  []string
}

func fieldsOf(t reflect.Type) *fieldIndex {
	if fi, ok := structFields.Load(t); ok {
		return fi.(*fieldIndex)
	}
	fi := &fieldIndex{byName: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		fi.byName[tag] = i
		fi.names = append(fi.names, tag)
	}
	structFields.Store(t, fi)
	return fi
}

func (d *decoder) errorf(n *ynode, format string, args ...any) {
	if d.aliasDepth > 0 {
		d.w.aliasVisits += aliasErrorCost
	}
	path := d.path()
	d.failed.add(path)
	d.errs.add(&FieldError{File: d.file, Pos: Pos{n.Line, n.Column}, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// enter counts one node decoded and checks the limits on depth and alias
// expansion; false: do not decode it. After true, call leave.
func (d *decoder) enter(n *ynode) bool {
	if !d.count() {
		return false
	}
	if d.depth >= maxDepth {
		d.errorf(n, "nested more than %d levels deep, counting merges (<<); an alias or merge that includes itself?", maxDepth)
		return false
	}
	d.depth++
	return true
}

func (d *decoder) leave() { d.depth-- }

// count counts one node decoded (a mapping key is one too) against the
// alias budget; false: a limit was reached, decode nothing more.
func (d *decoder) count() bool {
	if d.stopped {
		return false
	}
	d.w.visits++
	if d.aliasDepth > 0 {
		if d.w.aliasVisits++; d.w.aliasVisits > d.budget {
			d.stopped = true
			n := d.aliasAt
			d.errs.limit = &FieldError{File: d.file, Pos: Pos{n.Line, n.Column}, Path: d.aliasPath,
				Msg: fmt.Sprintf("aliases and merges (<<) here expand to more than %d nodes (the file itself has %d); write the repeated parts out, or nest anchors less deeply", d.budget, d.w.nodes)}
			return false
		}
	}
	return true
}

// enterAlias notes that decoding continues through an alias; call
// leaveAlias after.
func (d *decoder) enterAlias(n *ynode) {
	if d.aliasDepth == 0 {
		d.aliasAt, d.aliasPath = n, d.path()
	}
	d.aliasDepth++
}

func (d *decoder) leaveAlias() { d.aliasDepth-- }

var scalarType = reflect.TypeOf((*scalar)(nil)).Elem()

var scalarTypes sync.Map // reflect.Type -> bool

// isScalar reports whether *t decodes itself from one scalar (cached:
// reflect's Implements is slow enough to show in a 10,000-object load).
func isScalar(t reflect.Type) bool {
	if v, ok := scalarTypes.Load(t); ok {
		return v.(bool)
	}
	is := reflect.PointerTo(t).Implements(scalarType)
	scalarTypes.Store(t, is)
	return is
}

func kindName(n *ynode) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (d *decoder) decode(n *ynode, v reflect.Value) {
	if !d.enter(n) {
		return
	}
	defer d.leave()
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.errorf(n, "unknown alias")
			return
		}
		d.enterAlias(n)
		defer d.leaveAlias()
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // absent: keep the zero value
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem())
		return
	}
	if isScalar(v.Type()) {
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, "want a single value, got %s", kindName(n))
			return
		}
		if err := v.Addr().Interface().(scalar).decodeScalar(n.Value, n.Tag); err != nil {
			d.errorf(n, "%v", err)
		}
		return
	}
	d.decodeKind(n, v)
}

// decodeKind decodes n, resolved to its value, into v by v's kind.
func (d *decoder) decodeKind(n *ynode, v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v)
	case reflect.Map:
		d.decodeMap(n, v)
	case reflect.Slice:
		d.decodeSlice(n, v)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, "want a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n, "want true or false, got %s", kindName(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	case reflect.Int, reflect.Int64, reflect.Int32:
		x, err := strconv.ParseInt(n.Value, 0, 64)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil || v.OverflowInt(x) {
			d.errorf(n, "want an integer, got %s", kindName(n))
			return
		}
		v.SetInt(x)
	case reflect.Uint32, reflect.Uint16, reflect.Uint64:
		x, err := strconv.ParseUint(n.Value, 0, 64)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil || v.OverflowUint(x) {
			d.errorf(n, "want a non-negative integer up to %d, got %s", uint64(1)<<(v.Type().Bits())-1, kindName(n))
			return
		}
		v.SetUint(x)
	default:
		d.errorf(n, "cannot decode into %s", v.Type())
	}
}

// decodeSlice decodes a YAML list into the slice v.
func (d *decoder) decodeSlice(n *ynode, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "want a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.push(pathSeg{index: i})
		d.decode(c, s.Index(i))
		d.pop()
		if d.release {
			n.Content[i] = nil
		}
	}
	v.Set(s)
}

func (d *decoder) decodeStruct(n *ynode, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "want a mapping, got %s", kindName(n))
		return
	}
	fi := fieldsOf(v.Type())
	var seen fieldSet
	for i := 0; i+1 < len(n.Content) && d.count(); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			d.decodeMerge(val, v)
			continue
		}
		d.push(pathSeg{name: k.Value, index: -1})
		d.decodeField(fi, &seen, k, val, v)
		d.pop()
	}
}

// decodeField decodes the value of key k into its field of struct v.
func (d *decoder) decodeField(fi *fieldIndex, seen *fieldSet, k, val *ynode, v reflect.Value) {
	key := k.Value
	idx, ok := fi.byName[key]
	if !ok {
		msg := fmt.Sprintf("unknown field %q", key)
		if s := suggest(key, fi.names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		d.errorf(k, "%s", msg)
		return
	}
	if !seen.add(idx) {
		d.errorf(k, "field %q given twice", key)
		return
	}
	d.decode(val, v.Field(idx))
}

// fieldSet is the fields of one struct given so far, by index: a bit
// each, without allocating for the first 64 (a map per struct was the
// decoder's largest allocation in a 10,000-object model).
type fieldSet struct {
	low  uint64
	high map[int]bool
}

// add adds field i; false: it was there already.
func (s *fieldSet) add(i int) bool {
	if i < 64 {
		had := s.low&(1<<i) != 0
		s.low |= 1 << i
		return !had
	}
	if s.high[i] {
		return false
	}
	if s.high == nil {
		s.high = map[int]bool{}
	}
	s.high[i] = true
	return true
}

// decodeMerge applies a YAML merge key (<<: *anchor) so that shared check
// settings can be written once.
func (d *decoder) decodeMerge(val *ynode, v reflect.Value) {
	if !d.enter(val) {
		return
	}
	defer d.leave()
	if val.Kind == yaml.AliasNode && val.Alias != nil {
		d.enterAlias(val)
		defer d.leaveAlias()
		val = val.Alias
	}
	switch val.Kind {
	case yaml.MappingNode:
		d.decodeStruct(val, v)
	case yaml.SequenceNode:
		for _, c := range val.Content {
			d.decodeMerge(c, v)
		}
	default:
		d.errorf(val, "merge (<<) wants a mapping, got %s", kindName(val))
	}
}

func (d *decoder) decodeMap(n *ynode, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "want a mapping, got %s", kindName(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.errorf(n, "cannot decode into %s", v.Type())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content) && d.count(); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			d.errorf(k, "want a name as key, got %s", kindName(k))
			continue
		}
		d.push(pathSeg{name: k.Value, index: -1, mapKey: true})
		d.decodeEntry(k, val, v)
		d.pop()
	}
}

// decodeEntry decodes the value of key k into map v.
func (d *decoder) decodeEntry(k, val *ynode, v reflect.Value) {
	key := reflect.ValueOf(k.Value)
	if v.MapIndex(key).IsValid() {
		d.errorf(k, "%q given twice", k.Value)
		return
	}
	e := reflect.New(v.Type().Elem()).Elem()
	d.decode(val, e)
	v.SetMapIndex(key, e)
}

// suggest returns the known name closest to key, if close enough to be a
// typo.
func suggest(key string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if dd := editDistance(key, n); dd < bestD {
			best, bestD = n, dd
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

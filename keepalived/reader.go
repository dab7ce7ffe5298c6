package keepalived

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lbx-dev/lbx/internal/safefile"
)

// Options controls reading. The zero value reads the real file system with
// the short host name as config id.
type Options struct {
	// ConfigID selects @id / @^id lines (keepalived -i). Empty: the short
	// host name, as keepalived.
	ConfigID string
	// ReadFile and Glob default to safefile.ReadFile (regular files of at
	// most maxFileBytes) and filepath.Glob; tests and the fuzzer replace
	// them.
	ReadFile func(name string) ([]byte, error)
	Glob     func(pattern string) ([]string, error)
	// Getenv resolves ${_ENV NAME}; default os.Getenv.
	Getenv func(string) string
}

// Limits that keep any input finite. keepalived has no such bounds (a
// self-referencing definition makes it loop); lbx refuses instead.
const (
	maxIncludeDepth = 32
	maxExpandDepth  = 16
	maxLines        = 500000
	maxLineBytes    = 1 << 20
	maxSeqSteps     = 100000
	// maxWork bounds the lines processed in total (including ones that
	// expand to nothing, such as nested ~SEQ over definitions); each file
	// included counts as includeWork lines, so files that include each
	// other many times stop after at most maxWork/includeWork includes.
	maxWork     = 2000000
	includeWork = 200
	// maxFileBytes bounds one file; maxTotalBytes all files read,
	// includes read again included.
	maxFileBytes  = 16 << 20
	maxTotalBytes = 64 << 20
	// keepalived's read buffer; longer lines are cut by some versions.
	keepalivedMaxLine = 1024
)

// Result is a parsed configuration.
type Result struct {
	Root     *Node
	Warnings []Diagnostic
	// Files lists every file read, in include order.
	Files []string
}

// ParseFile reads a keepalived configuration and everything it includes.
// On fatal problems (unbalanced braces, include loops, runaway expansion) the
// error is an *Error listing each with file:line.
func ParseFile(path string, opt Options) (*Result, error) {
	r := newReader(opt)
	r.includeFile(path, Pos{File: path}, true, false)
	return r.finish(path)
}

// Parse reads configuration text; name is used in positions and as the base
// for relative includes.
func Parse(data []byte, name string, opt Options) (*Result, error) {
	r := newReader(opt)
	r.files = append(r.files, name)
	r.stack = append(r.stack, absPath(name))
	r.readText(data, name)
	return r.finish(name)
}

type definition struct {
	lines []string
}

type reader struct {
	opt      Options
	defs     map[string]definition
	lines    [][]Word
	warnings []Diagnostic
	errs     []Diagnostic
	stack    []string // absolute paths of files being read (loop detection)
	files    []string
	aborted  bool
	work     int
	bytes    int64 // read in total
}

func newReader(opt Options) *reader {
	if opt.ReadFile == nil {
		opt.ReadFile = func(name string) ([]byte, error) { return safefile.ReadFile(name, maxFileBytes) }
	}
	if opt.Glob == nil {
		opt.Glob = filepath.Glob
	}
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	if opt.ConfigID == "" {
		opt.ConfigID = DefaultConfigID()
	}
	return &reader{opt: opt, defs: map[string]definition{}}
}

// DefaultConfigID is keepalived's default: the host name up to the first dot.
func DefaultConfigID() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	h, _, _ = strings.Cut(h, ".")
	return h
}

func (r *reader) finish(name string) (*Result, error) {
	root, warns, errs := buildTree(r.lines, name)
	if !r.aborted {
		r.errs = append(r.errs, errs...)
		r.warnings = append(r.warnings, warns...)
	}
	if len(r.errs) > 0 {
		return nil, &Error{Diags: r.errs}
	}
	return &Result{Root: root, Warnings: r.warnings, Files: r.files}, nil
}

func (r *reader) warnf(p Pos, format string, args ...any) {
	r.warnings = append(r.warnings, Diagnostic{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (r *reader) errorf(p Pos, format string, args ...any) {
	r.errs = append(r.errs, Diagnostic{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// abort stops all further reading after a runaway expansion.
func (r *reader) abort(p Pos, format string, args ...any) {
	if !r.aborted {
		r.errorf(p, format, args...)
	}
	r.aborted = true
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// includeFile reads one file. top: the main file, which must exist.
// exact: an include of a path without wildcards, which keepalived skips
// in silence when it cannot be read (include reports no match). It returns
// whether the file was there (read, or refused for what it is).
func (r *reader) includeFile(path string, from Pos, top, exact bool) bool {
	if r.aborted {
		return true
	}
	if r.work += includeWork; r.work > maxWork {
		r.abort(from, "configuration expands to more than %d lines of work (each file included counts as %d: files that include each other many times?)", maxWork, includeWork)
		return true
	}
	abs := absPath(path)
	for _, s := range r.stack {
		if s == abs {
			r.errorf(from, "include loop: %s includes itself (through %s)", path, strings.Join(r.stack, " -> "))
			return true
		}
	}
	if len(r.stack) >= maxIncludeDepth {
		r.errorf(from, "includes nested deeper than %d files", maxIncludeDepth)
		return true
	}
	data, err := r.opt.ReadFile(path)
	if err == nil && len(data) > maxFileBytes { // a ReadFile from Options
		err = &safefile.Error{Path: path, Err: safefile.ErrTooLarge, Reason: "larger than " + safefile.Size(maxFileBytes) + ", the limit for one file"}
	}
	var refused *safefile.Error
	switch {
	case err == nil:
	case errors.As(err, &refused) && top:
		r.errorf(from, "cannot read configuration %v", err)
		return true
	case errors.As(err, &refused):
		r.errorf(from, "cannot include %v", err)
		return true
	case top:
		r.errorf(from, "cannot read configuration: %v", err)
		return false
	case exact:
		return false
	case errors.Is(err, fs.ErrNotExist):
		r.warnf(from, "included file %s does not exist; ignored (as keepalived's plain include does)", path)
		return false
	default:
		r.warnf(from, "cannot read included file: %v; ignored (as keepalived's plain include does)", err)
		return false
	}
	if r.bytes += int64(len(data)); r.bytes > maxTotalBytes {
		r.abort(from, "the configuration and its included files add up to more than %s (a file included many times?)", safefile.Size(maxTotalBytes))
		return true
	}
	r.files = append(r.files, path)
	r.stack = append(r.stack, abs)
	r.readText(data, path)
	r.stack = r.stack[:len(r.stack)-1]
	return true
}

// readText processes one file's lines.
func (r *reader) readText(data []byte, file string) {
	raw := strings.Split(string(data), "\n")
	var defName string // multi-line definition in progress
	var defLines []string
	var defPos Pos
	for i := 0; i < len(raw) && !r.aborted; i++ {
		pos := Pos{File: file, Line: i + 1}
		line := strings.TrimRight(raw[i], "\r")
		if len(line) > keepalivedMaxLine {
			r.warnf(pos, "line is longer than %d bytes; some keepalived versions cut it", keepalivedMaxLine)
		}
		// decomment keeps a line's final '\' even after a comment, so a
		// commented line or one ending "# note \" goes on with a
		// multi-line definition.
		commentCont := strings.HasSuffix(line, "\\")
		line = stripComment(line)
		if !utf8.ValidString(line) {
			// keepalived reads bytes; the model is YAML, which is UTF-8.
			// Comments in another encoding (Shift-JIS, Latin-1) are gone
			// by now; settings in one cannot be carried.
			r.errorf(pos, "line is not valid UTF-8 text (outside its comment)")
			continue
		}
		r.checkSpaces(line, pos)
		line = trimBlank(line)
		if defName != "" {
			cont := commentCont || strings.HasSuffix(line, "\\")
			line = trimBlank(strings.TrimSuffix(line, "\\"))
			if line != "" {
				defLines = append(defLines, line)
			}
			if !cont {
				r.defs[defName] = definition{lines: defLines}
				defName, defLines = "", nil
			}
			continue
		}
		if line == "" {
			continue
		}
		// A multi-line definition starts with a trailing backslash.
		if !r.condOK(&line) {
			continue
		}
		if name, val, ok := parseDef(line); ok && (commentCont || strings.HasSuffix(val, "\\")) {
			first := trimBlank(strings.TrimSuffix(val, "\\"))
			defName, defLines, defPos = name, nil, pos
			if first != "" {
				defLines = append(defLines, first)
			}
			continue
		}
		r.process(line, pos, file, 0)
	}
	if defName != "" {
		r.warnf(defPos, "multi-line definition $%s is not ended (its last line must not end with '\\')", defName)
		r.defs[defName] = definition{lines: defLines}
	}
}

// trimBlank trims the white space keepalived trims: ASCII only (decomment
// and alloc_strvec in keepalived's lib/parser.c). Go's strings.TrimSpace
// would also trim U+00A0 and other Unicode spaces, which keepalived reads
// as part of a word.
func trimBlank(s string) string { return strings.Trim(s, asciiSpace) }

// asciiSpace is keepalived's WHITE_SPACE_STR.
const asciiSpace = " \t\f\n\r\v"

// checkSpaces warns about Unicode white space in a line: keepalived splits
// words at ASCII white space only, so a line indented with U+00A0 (no-break
// space, common in text pasted from web pages) is one unknown keyword to
// keepalived, and its setting is lost. lbx reads it the same way.
func (r *reader) checkSpaces(line string, pos Pos) {
	for _, c := range line {
		if c > 127 && unicode.IsSpace(c) {
			r.warnf(pos, "line holds %U (%s), which keepalived reads as part of a word, not as white space: the word it touches is not the keyword or value it looks like, and keepalived ignores or refuses it (so does lbx); replace it with a plain space if the setting was meant", c, spaceName(c))
			return
		}
	}
}

func spaceName(c rune) string {
	if c == '\u00a0' {
		return "no-break space"
	}
	return "Unicode white space"
}

// includeLine recognises keepalived's include lines (is_include in
// lib/parser.c: the keyword, then a space or tab) and returns the keyword
// and the pattern.
func includeLine(line string) (kw, pattern string, ok bool) {
	i := strings.IndexAny(line, " \t")
	if i < 0 || !isInclude(line[:i]) {
		return "", "", false
	}
	return line[:i], trimBlank(line[i+1:]), true
}

func isInclude(w string) bool {
	switch w {
	case "include", "includer", "includem", "includew", "includeb", "includea":
		return true
	}
	return false
}

func (r *reader) include(pattern, kw string, pos Pos, file string) {
	if pattern == "" {
		r.errorf(pos, "%s without a file name", kw)
		return
	}
	if w := unquote(pattern); w != "" {
		pattern = w
	}
	written := pattern
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(file), pattern)
	}
	pats := expandBraces(pattern, 0)
	found := false
	for _, p := range pats {
		if !strings.ContainsAny(p, "*?[") {
			found = r.includeFile(p, pos, false, true) || found
			continue
		}
		matches, err := r.opt.Glob(p)
		if err != nil {
			r.errorf(pos, "bad include pattern %q: %v", p, err)
			continue
		}
		for _, m := range matches {
			found = true
			r.includeFile(m, pos, false, false)
			if r.aborted {
				return
			}
		}
	}
	switch {
	case found:
	case strings.Contains(pattern, "$"):
		// keepalived would have expanded a variable lbx does not know (a
		// newer built-in, or a definition lbx read differently) and read
		// files lbx would silently lose.
		r.errorf(pos, "include %s matches no file and holds a $ variable lbx did not expand (keepalived 2.2.7's built-ins are ${_PWD}, ${_INSTANCE}, ${_RANDOM}, ${_HASH} and ${_BANG}; others need a $NAME=value definition before the include): write the path out", written)
	default:
		r.warnf(pos, "include %s matches no file; ignored (as keepalived's plain include does)", pattern)
	}
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return ""
}

// expandBraces expands csh-style {a,b} alternatives, as glob(GLOB_BRACE).
func expandBraces(s string, depth int) []string {
	if depth > 8 {
		return []string{s}
	}
	open := strings.IndexByte(s, '{')
	if open < 0 {
		return []string{s}
	}
	level, close := 0, -1
	var commas []int
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			level++
		case '}':
			level--
		case ',':
			if level == 1 {
				commas = append(commas, i)
			}
		}
		if level == 0 {
			close = i
			break
		}
	}
	if close < 0 {
		return []string{s}
	}
	pre, post := s[:open], s[close+1:]
	var alts []string
	start := open + 1
	for _, c := range commas {
		alts = append(alts, s[start:c])
		start = c + 1
	}
	alts = append(alts, s[start:close])
	var out []string
	for _, a := range alts {
		for _, e := range expandBraces(pre+a+post, depth+1) {
			if len(out) >= 1024 {
				return out
			}
			out = append(out, e)
		}
	}
	return out
}

// stripComment cuts a line at the first # or ! outside double quotes.
func stripComment(s string) string {
	inq := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if inq {
				i++
			}
		case '"':
			inq = !inq
		case '#', '!':
			if !inq {
				return s[:i]
			}
		}
	}
	return s
}

// condOK applies an @id / @^id prefix: false drops the line; otherwise the
// prefix is removed from *line.
func (r *reader) condOK(line *string) bool {
	s := *line
	if !strings.HasPrefix(s, "@") {
		return true
	}
	word, rest, _ := strings.Cut(s, " ")
	if i := strings.IndexByte(word, '\t'); i >= 0 {
		word, rest = word[:i], word[i+1:]+" "+rest
	}
	neg := strings.HasPrefix(word, "@^")
	id := strings.TrimPrefix(strings.TrimPrefix(word, "@^"), "@")
	match := id == r.opt.ConfigID
	if match == neg {
		return false
	}
	*line = trimBlank(rest)
	return true
}

func isNameChar(c byte, first bool) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || !first && c >= '0' && c <= '9'
}

// parseDef recognises $NAME=VALUE.
func parseDef(line string) (name, val string, ok bool) {
	if len(line) < 3 || line[0] != '$' || !isNameChar(line[1], true) {
		return "", "", false
	}
	i := 2
	for i < len(line) && isNameChar(line[i], false) {
		i++
	}
	if i >= len(line) || line[i] != '=' {
		return "", "", false
	}
	return line[1:i], trimBlank(line[i+1:]), true
}

// process runs one logical line through conditionals, definitions,
// sequence generators and substitution, and appends the resulting lines.
func (r *reader) process(line string, pos Pos, file string, depth int) {
	if r.aborted {
		return
	}
	if r.work++; r.work > maxWork {
		r.abort(pos, "configuration expands to more than %d lines of work (nested ~SEQ?)", maxWork)
		return
	}
	if depth > maxExpandDepth {
		r.abort(pos, "definitions expand more than %d levels deep (a definition that uses itself?)", maxExpandDepth)
		return
	}
	line = trimBlank(line)
	if line == "" || !r.condOK(&line) || line == "" {
		return
	}
	if name, val, ok := parseDef(line); ok {
		r.defs[name] = definition{lines: []string{val}}
		return
	}
	if strings.HasPrefix(line, "~SEQ") || strings.HasPrefix(line, "~LST") {
		r.generate(line, pos, file, depth)
		return
	}
	out, changed := r.substitute(line, pos, file)
	if r.aborted {
		return
	}
	if changed {
		// read_line runs decomment again after replace_param: a
		// definition that expands to ${_HASH} (#) or ${_BANG} (!) turns
		// the rest of the line into a comment, a common way to switch
		// settings off.
		for _, l := range out {
			r.process(stripComment(l), pos, file, depth+1)
		}
		return
	}
	// keepalived looks for include after conditionals, definitions and
	// substitution (read_line's loop ends with check_include), so that
	// `include ${_PWD}/conf.d/*.conf` and `@node1 include x` work.
	if kw, pattern, ok := includeLine(line); ok {
		r.include(pattern, kw, pos, file)
		return
	}
	if len(r.lines) >= maxLines {
		r.abort(pos, "configuration expands to more than %d lines", maxLines)
		return
	}
	words, unterminated := tokenize(line, pos)
	if unterminated {
		r.warnf(pos, "unterminated double quote; the string runs to the end of the line")
	}
	if len(words) > 0 {
		r.lines = append(r.lines, words)
	}
}

// substitute replaces $NAME (followed by white space or the end) and
// ${NAME}; undefined names stay as written, as keepalived. A multi-line
// definition splits the line. changed reports whether anything was
// replaced; the caller re-processes the result (recursive replacement).
// maxRescans bounds the replacements rescanned in one line.
const maxRescans = 10000

func (r *reader) substitute(line string, pos Pos, file string) ([]string, bool) {
	var cur strings.Builder
	var out []string
	changed, rescans := false, 0
	for i := 0; i < len(line); {
		if cur.Len() > maxLineBytes {
			r.abort(pos, "a line expands to more than %d bytes", maxLineBytes)
			return nil, false
		}
		c := line[i]
		if c != '$' || i+1 >= len(line) {
			cur.WriteByte(c)
			i++
			continue
		}
		var name, arg string
		var end int
		if line[i+1] == '{' {
			j := strings.IndexByte(line[i+2:], '}')
			if j < 0 {
				cur.WriteByte(c)
				i++
				continue
			}
			inner := line[i+2 : i+2+j]
			name, arg, _ = strings.Cut(inner, " ")
			end = i + 2 + j + 1
		} else {
			j := i + 1
			for j < len(line) && isNameChar(line[j], j == i+1) {
				j++
			}
			// find_definition: $NAME ends at white space, ',', ')' or the
			// end of the line; $NAME/x is no use of NAME.
			if j == i+1 || j < len(line) && !strings.ContainsRune(" \t,)", rune(line[j])) {
				cur.WriteByte(c)
				i++
				continue
			}
			name, end = line[i+1:j], j
		}
		val, ok := r.lookup(name, trimBlank(arg), pos, file)
		if !ok {
			cur.WriteString(line[i:end])
			i = end
			continue
		}
		changed = true
		if len(val) == 1 && !strings.HasPrefix(strings.TrimLeft(val[0], " \t"), "~") {
			// replace_param rescans a replacement in the same pass, so
			// that `$OFF $GEN` with OFF=${_HASH} is "#" before $GEN is
			// read (and a ~SEQ value then stops the pass, below).
			if rescans++; rescans > maxRescans {
				r.abort(pos, "definitions expand more than %d times in one line (a definition that uses itself?)", maxRescans)
				return nil, false
			}
			line = line[:i] + val[0] + line[end:]
			continue
		}
		for k, l := range val {
			if k > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			cur.WriteString(l)
		}
		i = end
		if len(val) > 0 && strings.HasPrefix(strings.TrimLeft(val[0], " \t"), "~") {
			// replace_param stops at a value that starts with '~' (a
			// ~SEQ or ~LST to generate): the rest of the line is left as
			// written, for the generator, so `$OFF $GEN` with OFF=# is a
			// comment as a whole, its lines never generated.
			cur.WriteString(line[i:])
			break
		}
	}
	out = append(out, cur.String())
	return out, changed
}

func (r *reader) lookup(name, arg string, pos Pos, file string) ([]string, bool) {
	if d, ok := r.defs[name]; ok && arg == "" {
		return d.lines, true
	}
	switch name {
	case "_PWD":
		return []string{filepath.Dir(absPath(file))}, true
	case "_INSTANCE":
		return []string{r.opt.ConfigID}, true
	case "_HASH":
		return []string{"#"}, true
	case "_BANG":
		return []string{"!"}, true
	case "_ENV":
		if arg == "" {
			return nil, false
		}
		r.warnf(pos, "${_ENV %s} is expanded from lbx's environment as keepalived 2.4 does; keepalived 2.2.7 has no ${_ENV} and leaves the text as written", arg)
		return []string{r.opt.Getenv(arg)}, true
	case "_RANDOM":
		lo, hi := 0, 32767
		f := strings.Fields(arg)
		if len(f) > 0 {
			lo, _ = strconv.Atoi(f[0])
		}
		if len(f) > 1 {
			hi, _ = strconv.Atoi(f[1])
		}
		if hi < lo {
			hi = lo
		}
		// keepalived draws a new value on every start; lbx fixes it to MIN
		// so that the same input always converts to the same output.
		r.warnf(pos, "${_RANDOM} differs on every keepalived start; converted as its minimum %d", lo)
		return []string{strconv.Itoa(lo)}, true
	}
	return nil, false
}

// generate expands ~SEQ(var, [start,] [step,] end), ~SEQx(...) and
// ~LST(var, v1, v2, ...) / ~LST({a,b}, {1,2}, ...).
func (r *reader) generate(line string, pos Pos, file string, depth int) {
	kind := line[:4]
	rest := line[4:]
	hex := false
	if kind == "~SEQ" && strings.HasPrefix(rest, "x") {
		hex, rest = true, rest[1:]
	}
	if !strings.HasPrefix(rest, "(") {
		r.errorf(pos, "%s wants (arguments) right after it", kind)
		return
	}
	// Find the matching parenthesis (LST values may hold braces, not parens).
	closeAt := strings.IndexByte(rest, ')')
	if closeAt < 0 {
		r.errorf(pos, "%s: missing ')'", kind)
		return
	}
	inner, body := rest[1:closeAt], trimBlank(rest[closeAt+1:])
	// Arguments may themselves use definitions.
	if out, changed := r.substitute(inner, pos, file); changed && len(out) == 1 {
		inner = out[0]
	}
	run := func(assign map[string]string) { r.withDefs(assign, func() { r.process(body, pos, file, depth+1) }) }
	if kind == "~LST" {
		r.generateLST(inner, pos, run)
		return
	}
	r.generateSeq(inner, hex, pos, run)
}

// withDefs runs f with the definitions in assign in force, then restores
// the ones they hid.
func (r *reader) withDefs(assign map[string]string, f func()) {
	saved := map[string]definition{}
	had := map[string]bool{}
	for k, v := range assign {
		saved[k], had[k] = r.defs[k]
		r.defs[k] = definition{lines: []string{v}}
	}
	f()
	for k := range assign {
		if had[k] {
			r.defs[k] = saved[k]
		} else {
			delete(r.defs, k)
		}
	}
}

func (r *reader) generateLST(inner string, pos Pos, run func(map[string]string)) {
	vars, sets, err := parseLST(inner)
	if err != nil {
		r.errorf(pos, "~LST: %v", err)
		return
	}
	for _, set := range sets {
		if r.aborted {
			return
		}
		if len(set) != len(vars) {
			r.errorf(pos, "~LST: %d variables but a value set with %d values", len(vars), len(set))
			return
		}
		a := map[string]string{}
		for i, v := range vars {
			a[v] = set[i]
		}
		run(a)
	}
}

func (r *reader) generateSeq(inner string, hex bool, pos Pos, run func(map[string]string)) {
	name, start, step, end, ok := r.seqArgs(inner, pos)
	if !ok {
		return
	}
	steps := 0
	for v := start; step > 0 && v <= end || step < 0 && v >= end; v += step {
		if steps++; steps > maxSeqSteps {
			r.abort(pos, "~SEQ generates more than %d lines", maxSeqSteps)
			return
		}
		if r.aborted {
			return
		}
		s := strconv.FormatInt(v, 10)
		if hex {
			s = strconv.FormatInt(v, 16)
		}
		run(map[string]string{name: s})
	}
}

// seqArgs reads ~SEQ's (var, [start,] [step,] end).
func (r *reader) seqArgs(inner string, pos Pos) (name string, start, step, end int64, ok bool) {
	args := strings.Split(inner, ",")
	for i := range args {
		args[i] = trimBlank(args[i])
	}
	if len(args) < 2 || len(args) > 4 || !validName(args[0]) {
		r.errorf(pos, "~SEQ wants (var, [start,] [step,] end), got (%s)", inner)
		return "", 0, 0, 0, false
	}
	nums := make([]int64, len(args)-1)
	for i, a := range args[1:] {
		n, err := strconv.ParseInt(a, 0, 64)
		if err != nil || n > 1<<40 || n < -(1<<40) {
			r.errorf(pos, "~SEQ: %q is not a number", a)
			return "", 0, 0, 0, false
		}
		nums[i] = n
	}
	switch len(nums) {
	case 1:
		end = nums[0]
		start = 1
		if end < 0 {
			start = -1
		}
	case 2:
		start, end = nums[0], nums[1]
	case 3:
		start, step, end = nums[0], nums[1], nums[2]
	}
	if len(nums) < 3 {
		step = 1
		if end < start {
			step = -1
		}
	}
	if step == 0 {
		r.errorf(pos, "~SEQ: step 0 never ends")
		return "", 0, 0, 0, false
	}
	return args[0], start, step, end, true
}

func validName(s string) bool {
	if s == "" || !isNameChar(s[0], true) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i], false) {
			return false
		}
	}
	return true
}

// parseLST splits "var, v1, v2" or "{a,b}, {1,2}, {3,4}".
func parseLST(s string) ([]string, [][]string, error) {
	var items []string
	level, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			level++
		case '}':
			level--
		case ',':
			if level == 0 {
				items = append(items, trimBlank(s[start:i]))
				start = i + 1
			}
		}
	}
	items = append(items, trimBlank(s[start:]))
	if len(items) < 2 {
		return nil, nil, fmt.Errorf("wants (var, value, ...)")
	}
	group := func(x string) []string {
		x = strings.TrimSuffix(strings.TrimPrefix(x, "{"), "}")
		f := strings.Split(x, ",")
		for i := range f {
			f[i] = trimBlank(f[i])
		}
		return f
	}
	vars := group(items[0])
	for _, v := range vars {
		if !validName(v) {
			return nil, nil, fmt.Errorf("%q is not a variable name", v)
		}
	}
	var sets [][]string
	for _, it := range items[1:] {
		if len(vars) == 1 && !strings.HasPrefix(it, "{") {
			sets = append(sets, []string{it})
		} else {
			sets = append(sets, group(it))
		}
	}
	return vars, sets, nil
}

// tokenize splits a line into words: white space separates, double quotes
// group (and may join with adjacent text), braces outside quotes are words
// of their own.
func tokenize(line string, pos Pos) ([]Word, bool) {
	var words []Word
	var cur strings.Builder
	inWord, quoted, inq := false, false, false
	flush := func() {
		if inWord {
			words = append(words, Word{Text: cur.String(), Quoted: quoted, Pos: pos})
		}
		cur.Reset()
		inWord, quoted = false, false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inq && c == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\'):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			inq = !inq
			inWord, quoted = true, true
		case inq:
			cur.WriteByte(c)
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			flush()
		case c == '{' || c == '}':
			flush()
			words = append(words, Word{Text: string(c), Pos: pos})
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	flush()
	return words, inq
}

// Package keepalived parses keepalived's configuration language into a tree
// of statements, each word keeping the file and line it came from.
//
// It implements the preprocessor keepalived applies before its keyword
// handlers see a line: comments, include (globs, braces, nesting, loops),
// @id / @^id conditional lines, $NAME=value definitions (multi-line with a
// trailing backslash) and their $NAME / ${NAME} uses, and ~SEQ / ~SEQx / ~LST
// line generators. It knows no keywords: mapping statements to meaning is
// the converter's job. Every input, however malformed, gives a tree or an
// error; the preprocessor's expansions are bounded so that no input hangs.
package keepalived

import (
	"fmt"
	"strings"
)

// Pos is where a word was written.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Word is one token of a statement. Quoted words came from "..." and may
// contain spaces.
type Word struct {
	Text   string
	Quoted bool
	Pos    Pos
}

// Node is one statement: a keyword, its arguments on the same line and, if
// it opened a block, the statements inside. The root node has no name.
type Node struct {
	Name     string
	Pos      Pos
	Args     []Word
	Block    bool // a { } followed, even if empty
	Children []*Node
	// EndPos is where the block was closed.
	EndPos Pos
}

// Arg returns argument i's text, or "".
func (n *Node) Arg(i int) string {
	if i < len(n.Args) {
		return n.Args[i].Text
	}
	return ""
}

// ArgText joins the arguments with single spaces, quoting those that were
// quoted, for messages and comments.
func (n *Node) ArgText() string {
	parts := make([]string, len(n.Args))
	for i, a := range n.Args {
		if a.Quoted {
			parts[i] = fmt.Sprintf("%q", a.Text)
		} else {
			parts[i] = a.Text
		}
	}
	return strings.Join(parts, " ")
}

// Source renders the statement as written (one line, block elided).
func (n *Node) Source() string {
	s := n.Name
	if len(n.Args) > 0 {
		s += " " + n.ArgText()
	}
	if n.Block {
		s += " { ... }"
	}
	return s
}

// Diagnostic is a warning or error found while reading the files.
type Diagnostic struct {
	Pos Pos
	Msg string
	// Corrected marks a warning about input keepalived corrects and runs
	// with (such as a stray '}'): the converter refuses it under --strict.
	Corrected bool
}

func (d Diagnostic) String() string { return d.Pos.String() + ": " + d.Msg }

// Error is a fatal parse problem.
type Error struct{ Diags []Diagnostic }

func (e *Error) Error() string {
	lines := make([]string, len(e.Diags))
	for i, d := range e.Diags {
		lines[i] = d.Pos.String() + ": error: " + d.Msg
	}
	return strings.Join(lines, "\n")
}

// buildTree turns logical lines of words into the statement tree. warns
// are corrections keepalived makes and runs with; errs are fatal.
func buildTree(lines [][]Word, file string) (root *Node, warns, errs []Diagnostic) {
	root = &Node{Block: true, Pos: Pos{File: file}}
	stack := []*Node{root}
	var pending *Node // last statement of the previous line, may take a { on the next
	for _, line := range lines {
		var cur *Node
		for i, w := range line {
			top := stack[len(stack)-1]
			switch {
			case !w.Quoted && w.Text == "{":
				target := cur
				if target == nil && i == 0 {
					target = pending
				}
				if target == nil || target.Block {
					errs = append(errs, Diagnostic{Pos: w.Pos, Msg: "'{' without a keyword before it"})
					// Open an anonymous block so that the matching } balances.
					target = &Node{Pos: w.Pos}
				}
				target.Block = true
				stack = append(stack, target)
				cur = nil
			case !w.Quoted && w.Text == "}":
				if len(stack) == 1 {
					warns = append(warns, strayClose(root, w.Pos))
				} else {
					top.EndPos = w.Pos
					stack = stack[:len(stack)-1]
				}
				cur = nil
			default:
				if cur == nil {
					cur = &Node{Name: w.Text, Pos: w.Pos}
					top.Children = append(top.Children, cur)
				} else {
					cur.Args = append(cur.Args, w)
				}
			}
		}
		pending = nil
		if cur != nil && !cur.Block {
			pending = cur
		}
	}
	// keepalived reports "There are N missing '}'s or extra '{'s" at the
	// end (init_data) and runs with what it read: at the end of the input
	// process_stream returns from every open block and runs its close
	// handler, as if each were closed there.
	for i := len(stack) - 1; i > 0; i-- {
		n := stack[i]
		warns = append(warns, Diagnostic{Pos: n.Pos, Corrected: true, Msg: fmt.Sprintf("block %q opened here is never closed with '}': keepalived reports \"There are %d missing '}'s or extra '{'s\" and runs with it closed at the end of the configuration, so does lbx; add the '}' where the block ends", n.Name, len(stack)-1)})
	}
	return root, warns, errs
}

// strayClose reports a '}' at the top level. keepalived's read_line reports
// "Extra '}' found" and process_stream then ignores it (an unknown keyword
// at the top level), so it runs with the file. Such a '}' usually means an
// earlier one closed a block too soon: what followed it was read at the top
// level, by keepalived as by lbx, and is reported there.
func strayClose(root *Node, p Pos) Diagnostic {
	msg := "extra '}': keepalived reports \"Extra '}' found\" and ignores it, so does lbx"
	for i := len(root.Children) - 1; i >= 0; i-- {
		if b := root.Children[i]; b.Block && b.EndPos.Line > 0 {
			msg += fmt.Sprintf("; probably a '}' above closes a block too soon: %s opened at %s ends at %s, and keepalived reads what follows it at the top level — if that belonged inside, remove the '}' at %s", b.Name, b.Pos, b.EndPos, b.EndPos)
			break
		}
	}
	return Diagnostic{Pos: p, Msg: msg, Corrected: true}
}

// Reshape re-reads the tree as keepalived's process_stream (lib/parser.c)
// does once it is known which keywords open a block where they stand:
// after any other keyword a '{' opens nothing ("Unexpected '{' -
// ignoring"), the lines up to its '}' are read at that level, and that '}'
// closes the block around them, so what follows is read one level up. A
// '}' that reaches the top level is ignored ("Unknown keyword '}'").
// opens gets the names of the blocks around the keyword, outermost first.
// Reshape changes root in place and reports each '{' it ignored.
func Reshape(root *Node, opens func(path []string, kw string) bool) []Diagnostic {
	evs := treeEvents(root, nil)
	root.Children = nil
	stack := []*Node{root}
	var path []string
	var last *Node
	var diags []Diagnostic
	for _, e := range evs {
		top := stack[len(stack)-1]
		switch {
		case e.stmt != nil:
			n := e.stmt
			n.Children, n.Block, n.EndPos = nil, false, Pos{}
			top.Children = append(top.Children, n)
			last = n
		case e.open && opens(path, last.Name):
			last.Block = true
			stack, path = append(stack, last), append(path, last.Name)
			last = nil
		case e.open:
			diags = append(diags, unexpectedOpen(last, top))
			last = nil
		case len(stack) > 1:
			top.EndPos = e.pos
			stack, path = stack[:len(stack)-1], path[:len(path)-1]
			last = nil
		case e.pos.Line > 0:
			diags = append(diags, Diagnostic{Pos: e.pos, Corrected: true, Msg: "this '}' is left at the top level, a '{' above having opened no block in keepalived: keepalived ignores it (\"Unknown keyword '}'\"), so does lbx"})
		}
	}
	return diags
}

// treeEvent is one step of a tree written out again: a statement, or the
// '{' after it, or a '}' (pos: where it was written; none at the end of
// the input).
type treeEvent struct {
	stmt *Node
	open bool
	pos  Pos
}

func treeEvents(n *Node, out []treeEvent) []treeEvent {
	for _, c := range n.Children {
		out = append(out, treeEvent{stmt: c})
		if c.Block {
			out = append(out, treeEvent{open: true, pos: c.Pos})
			out = treeEvents(c, out)
			out = append(out, treeEvent{pos: c.EndPos})
		}
	}
	return out
}

func unexpectedOpen(n, in *Node) Diagnostic {
	where := "the top level"
	if in.Name != "" {
		where = in.Name
	}
	return Diagnostic{Pos: n.Pos, Corrected: true, Msg: fmt.Sprintf("%q opens no block in %s: keepalived reports \"Unexpected '{' - ignoring\", reads the lines inside as settings of %s, and their '}' closes %s, so what follows is read one level up; so does lbx — a misspelt or misplaced keyword?", n.Name, where, where, where)}
}

package model

import (
	"fmt"
	"time"
)

// Limits on what loading one model file may cost. The loader walks
// the YAML tree itself (for positions and all errors at once), which bypasses
// yaml.v3's own alias guard; these take its place. docs/model.md lists them.
const (
	// MaxFileSize is the largest model file LoadFile reads. A 10,000
	// service model is about 2 MiB.
	MaxFileSize = 64 << 20
	// maxDepth bounds nesting as decoded: mappings, lists and merges, so
	// an alias or merge that includes itself stops here.
	maxDepth = 64
	// maxErrors is how many errors one load reports (the first ones in the
	// file); the rest are counted.
	maxErrors = 1000
	// Nodes decoded through aliases and merge keys may number
	// aliasBudgetPerNode per node written in the file, and at least
	// aliasBudgetMin: anchors shared by many objects fit, a billion laughs
	// does not. (yaml.v3 bounds the share of alias-decoded nodes instead,
	// allowing ~400,000 before it bites.)
	aliasBudgetMin     = 250_000
	aliasBudgetPerNode = 4
	// aliasErrorCost: an error found inside an expansion counts as this
	// many nodes, being that much dearer to make (a typo suggestion, a
	// message) than a node decoded.
	aliasErrorCost = 20
)

func aliasBudget(nodes int) int { return max(aliasBudgetMin, aliasBudgetPerNode*nodes) }

// work counts what one load did, so that tests can bound it by the input's
// size instead of by wall-clock time.
type work struct {
	nodes       int // nodes written in the document (aliases not followed)
	visits      int // nodes decoded, through aliases and merges included
	aliasVisits int // of which reached through an alias or merge
	errorSteps  int // steps spent on errors: positions and de-duplication

	frontEnd string        // which built the YAML tree: "fast" or "yaml.v3"
	treeTook time.Duration // building it
}

// countNodes counts the nodes of a tree as written, not following aliases.
func countNodes(root *ynode) int {
	n, stack := 0, []*ynode{root}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = append(stack[:len(stack)-1], top.Content...)
		n++
	}
	return n
}

// errorList keeps the first maxErrors errors in file order and counts the
// rest, in time linear in the number of errors: it sorts and cuts each time
// it holds twice the limit. An error repeated by alias expansion (same
// place, path and message) is kept once. A limit's error, which says why
// the load stopped, comes first whatever its place.
type errorList struct {
	limit *FieldError
	errs  Errors
	seen  map[FieldError]bool
	more  int
}

func (l *errorList) add(e *FieldError) {
	if l.seen[*e] {
		return
	}
	if l.seen == nil {
		l.seen = map[FieldError]bool{}
	}
	l.seen[*e] = true
	l.errs = append(l.errs, e)
	if len(l.errs) >= 2*maxErrors {
		l.trim()
	}
}

func (l *errorList) trim() {
	l.errs.sort()
	if len(l.errs) > maxErrors {
		l.more += len(l.errs) - maxErrors
		clear(l.errs[maxErrors:])
		l.errs = l.errs[:maxErrors]
	}
}

// result is the errors to report, the count of the others last.
func (l *errorList) result(file string) Errors {
	l.trim()
	errs := l.errs
	if l.limit != nil {
		errs = append(Errors{l.limit}, errs...)
	}
	if l.more > 0 {
		errs = append(errs, &FieldError{File: file,
			Msg: fmt.Sprintf("and %d more errors (only the first %d in the file are shown)", l.more, maxErrors)})
	}
	return errs
}

// pathIndex holds the field paths that failed to decode, so that a
// semantic error at, under or above one is not reported a second time (as
// "missing", say). Each question costs the length of the path: the list
// scan it replaces made 20,000 such errors take 26 s.
type pathIndex struct {
	at, above map[string]bool
}

// prefixes calls f with each proper prefix of path that ends before a
// "." or "[", e.g. "a" and "a.b" for "a.b[0]".
func prefixes(path string, f func(string)) {
	for i := 1; i < len(path); i++ {
		if path[i] == '.' || path[i] == '[' {
			f(path[:i])
		}
	}
}

func (x *pathIndex) add(path string) {
	if x.at == nil {
		x.at, x.above = map[string]bool{}, map[string]bool{}
	}
	x.at[path] = true
	prefixes(path, func(p string) { x.above[p] = true })
}

// covers reports whether path is at, under or above a failed path.
func (x *pathIndex) covers(path string, w *work) bool {
	w.errorSteps++
	found := x.at[path] || x.above[path]
	prefixes(path, func(p string) {
		w.errorSteps++
		found = found || x.at[p]
	})
	return found
}

package model

import (
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lbx-dev/lbx/internal/safefile"
)

// LoadFile reads and validates a model file. On failure the error is an
// Errors listing every problem with file:line:column and field path. Only a
// regular file of at most MaxFileSize is read: a FIFO, a device or a
// directory is refused with an error naming it.
func LoadFile(path string) (*Model, error) {
	data, err := safefile.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	size := len(data)
	start := time.Now()
	m, w, err := parse(data, path)
	// The bench reads this line (--log-level debug) for the model's decode
	// time on its own: YAML tree, decode, validation.
	slog.Debug("model loaded", "file", path, "bytes", size, "nodes", w.nodes, "yaml", w.frontEnd,
		"yaml_ms", ms(w.treeTook), "decode_ms", ms(time.Since(start)))
	return m, err
}

func ms(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', 2, 64) }

// Parse decodes and validates model YAML; file names the source in errors.
func Parse(data []byte, file string) (*Model, error) {
	m, _, err := parse(data, file)
	return m, err
}

// parse is Parse, also returning the work done, for tests.
func parse(data []byte, file string) (*Model, *work, error) {
	return parseWith(yamlTree, data, file)
}

// treeFunc builds a file's YAML tree (yamlTree; tests force yaml.v3).
type treeFunc func(src, file string, w *work) (*ynode, *FieldError)

// parseWith loads data. The file is copied once, to src: the fast
// tree's scalars are slices of it, and so are the strings of the model
// decoded from them, and the model keeps it for positions asked later
// (sourcePositions). Positions come from src from the start, not from the
// tree: a decode that lets go of the parts it has done (decoder.release)
// keeps a large model's tree and its decoded objects from being held at
// once, and only an error's position needs the tree (built again then).
func parseWith(tree treeFunc, data []byte, file string) (*Model, *work, error) {
	src := string(data)
	w := &work{}
	start := time.Now()
	root, ferr := tree(src, file, w)
	w.treeTook = time.Since(start)
	if ferr != nil {
		return nil, w, Errors{ferr}
	}
	m := &Model{File: file, Positions: sourcePositions(src)}
	d := &decoder{file: file, w: w, budget: aliasBudget(w.nodes), release: w.frontEnd == "fast"}
	d.decode(root, reflect.ValueOf(m).Elem())
	// Semantic checks run even after decode errors, so that a file shows
	// all its problems at once; an object that failed to decode is not
	// reported a second time (e.g. as "missing"). A decode stopped by a
	// limit left the model half built: nothing more to say about it.
	if !d.stopped {
		for _, e := range validate(m) {
			if !d.failed.covers(e.Path, w) {
				d.errs.add(e)
			}
		}
	}
	if errs := d.errs.result(file); len(errs) > 0 {
		return nil, w, errs
	}
	return m, w, nil
}

// yamlTree is src's YAML tree: built by fastYAML when src is in its
// subset (the models lbx and its converter write), else by yaml.v3, whose
// errors are the syntax errors reported.
func yamlTree(src, file string, w *work) (*ynode, *FieldError) {
	if root, nodes, ok := fastYAML(src); ok {
		w.frontEnd, w.nodes = "fast", nodes
		return root, nil
	}
	return yamlv3Only(src, file, w)
}

// yamlv3Only is yamlTree without the fast path.
func yamlv3Only(src, file string, w *work) (*ynode, *FieldError) {
	w.frontEnd = "yaml.v3"
	root, err := yamlv3Tree(src, file)
	if err != nil {
		return nil, err
	}
	y := fromYAML(root)
	w.nodes = countNodes(y)
	return y, nil
}

func yamlv3Tree(src, file string) (*yaml.Node, *FieldError) {
	var root yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(src))
	if err := dec.Decode(&root); err != nil {
		return nil, yamlSyntaxError(file, []byte(src), err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &FieldError{File: file, Pos: Pos{extra.Line, extra.Column}, Msg: "more than one YAML document; a model is one document"}
	}
	return &root, nil
}

// yamlSyntaxError turns yaml.v3's "yaml: line N: msg" into a FieldError.
// Bad bytes and control characters come without a line: it is found here.
func yamlSyntaxError(file string, data []byte, err error) *FieldError {
	if isReaderError(err.Error()) {
		if off, msg, ok := badCharacter(data); ok {
			line, col := lineCol(data, off)
			return &FieldError{File: file, Pos: Pos{line, col}, Msg: "YAML syntax: " + msg}
		}
	}
	var line int
	var msg string
	if n, _ := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); n == 1 {
		msg = err.Error()[len(fmt.Sprintf("yaml: line %d: ", line)):]
	} else {
		msg = err.Error()
		if msg == "EOF" {
			msg = "empty file; a model needs at least `version: 1`"
		}
	}
	return &FieldError{File: file, Pos: Pos{Line: line}, Msg: "YAML syntax: " + msg}
}

package model

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadFile reads and validates a model file. On failure the error is an
// Errors listing every problem with file:line:column and field path.
func LoadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes and validates model YAML; file names the source in errors.
func Parse(data []byte, file string) (*Model, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, Errors{yamlSyntaxError(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: file, Pos: Pos{extra.Line, extra.Column}, Msg: "more than one YAML document; a model is one document"}}
	}
	m := &Model{File: file, Positions: Positions{root: &root}}
	d := &decoder{file: file}
	d.decode(&root, reflect.ValueOf(m).Elem(), "")
	// Semantic checks run even after decode errors, so that a file shows
	// all its problems at once; an object that failed to decode is not
	// reported a second time (e.g. as "missing").
	decodeErrs := d.errs
	for _, e := range validate(m) {
		if !underDecodeError(e.Path, decodeErrs) {
			d.errs = append(d.errs, e)
		}
	}
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	return m, nil
}

// yamlSyntaxError turns yaml.v3's "yaml: line N: msg" into a FieldError.
func yamlSyntaxError(file string, err error) *FieldError {
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

func underDecodeError(path string, decodeErrs Errors) bool {
	for _, de := range decodeErrs {
		if de.Path == path || strings.HasPrefix(path, de.Path+".") || strings.HasPrefix(path, de.Path+"[") ||
			strings.HasPrefix(de.Path, path+".") || strings.HasPrefix(de.Path, path+"[") {
			return true
		}
	}
	return false
}

package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lbx-dev/lbx/model"
)

// YAML renders the model: only fields that are set, in the model's field
// order, list items in keepalived file order, and each warning as a comment
// next to the object it is about. The same input always gives the same
// bytes.
func (r *Result) YAML(source string) (out []byte, err error) {
	// yaml.v3 panics on text it cannot represent; turn that into an error.
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("rendering YAML: %v", p)
		}
	}()
	doc, err := r.node(source)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// JSON renders the model and the diagnostics for machines.
func (r *Result) JSON(source string) ([]byte, error) {
	out := map[string]any{}
	if r.Model != nil {
		doc, err := r.node(source)
		if err != nil {
			return nil, err
		}
		var v any
		if err := doc.Decode(&v); err != nil {
			return nil, err
		}
		out["model"] = v
	}
	diags := []map[string]any{}
	for _, d := range r.Diagnostics {
		diags = append(diags, map[string]any{"file": d.Pos.File, "line": d.Pos.Line, "severity": d.Severity.String(), "expressible": d.Severity != Unsupported, "corrected": d.Severity == Corrected, "message": d.Msg})
	}
	out["diagnostics"] = diags
	return json.MarshalIndent(out, "", "  ")
}

func (r *Result) node(source string) (*yaml.Node, error) {
	e := &emitter{comments: r.comments}
	root, err := e.value(reflect.ValueOf(r.Model))
	if err != nil {
		return nil, err
	}
	// Scripts in file order, not map order.
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "scripts" {
			m := root.Content[i+1]
			pos := map[string]int{}
			for j, n := range r.scriptOrder {
				pos[n] = j
			}
			pairs := make([][2]*yaml.Node, 0, len(m.Content)/2)
			for j := 0; j+1 < len(m.Content); j += 2 {
				pairs = append(pairs, [2]*yaml.Node{m.Content[j], m.Content[j+1]})
			}
			sort.SliceStable(pairs, func(a, b int) bool { return pos[pairs[a][0].Value] < pos[pairs[b][0].Value] })
			m.Content = m.Content[:0]
			for _, p := range pairs {
				m.Content = append(m.Content, p[0], p[1])
			}
		}
	}
	head := []string{fmt.Sprintf("Converted from %s by lbx convert.", source),
		"keepalived's defaults are written out; review every comment below before `lbx plan`."}
	head = append(head, r.docComments...)
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}, HeadComment: commentText(head)}
	return doc, nil
}

func commentText(lines []string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "# " + strings.ReplaceAll(l, "\n", " ")
	}
	return strings.Join(out, "\n")
}

type emitter struct {
	comments map[any][]string
	depth    int
}

var marshalerType = reflect.TypeOf((*yaml.Marshaler)(nil)).Elem()

func (e *emitter) value(v reflect.Value) (*yaml.Node, error) {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > 64 {
		return nil, fmt.Errorf("model nested too deeply")
	}
	var owner any
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
		}
		owner = v.Interface()
		if v.Elem().Kind() == reflect.Struct && !v.Type().Implements(marshalerType) && !v.Elem().Type().Implements(marshalerType) {
			n, err := e.structNode(v.Elem())
			if err != nil {
				return nil, err
			}
			e.attach(n, owner)
			return n, nil
		}
		v = v.Elem()
	}
	if v.Type().Implements(marshalerType) {
		x, err := v.Interface().(yaml.Marshaler).MarshalYAML()
		if err != nil {
			return nil, err
		}
		return scalarNode(x)
	}
	switch v.Kind() {
	case reflect.Struct:
		n, err := e.structNode(v)
		if err != nil {
			return nil, err
		}
		if v.CanAddr() {
			e.attach(n, v.Addr().Interface())
		}
		return n, nil
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := 0; i < v.Len(); i++ {
			c, err := e.value(v.Index(i))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			c, err := e.value(v.MapIndex(k))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.String()}, c)
		}
		return n, nil
	}
	return scalarNode(v.Interface())
}

func scalarNode(x any) (*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(x); err != nil {
		return nil, err
	}
	return &n, nil
}

func (e *emitter) structNode(v reflect.Value) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" || !t.Field(i).IsExported() {
			continue
		}
		f := v.Field(i)
		if f.IsZero() && !(f.Kind() == reflect.Struct && f.CanAddr() && len(e.comments[f.Addr().Interface()]) > 0) {
			continue
		}
		c, err := e.value(f)
		if err != nil {
			return nil, err
		}
		if c.Kind == yaml.MappingNode && len(c.Content) == 0 && c.HeadComment == "" {
			continue // e.g. an empty notify: block
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: tag}, c)
	}
	return n, nil
}

// attach puts owner's comments above its first key.
func (e *emitter) attach(n *yaml.Node, owner any) {
	lines := e.comments[owner]
	if len(lines) == 0 {
		return
	}
	text := commentText(lines)
	if len(n.Content) > 0 {
		k := n.Content[0]
		if k.HeadComment != "" {
			text = k.HeadComment + "\n" + text
		}
		k.HeadComment = text
		return
	}
	n.HeadComment = text
}

// Validate runs the YAML through the model's strict loader, as `lbx
// validate` would.
func Validate(data []byte, name string) (*model.Model, error) {
	return model.Parse(data, name)
}

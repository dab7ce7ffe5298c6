package schema

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/lbx-dev/lbx/model"
)

// obj is a JSON object that keeps its keys in the order written, so that
// the schema reads in the model's field order and diffs stay small.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// JSONSchema renders the model as a draft-07 JSON Schema, indented, with a
// final newline.
func (m *Model) JSONSchema() ([]byte, error) {
	root := obj{
		{"$schema", "http://json-schema.org/draft-07/schema#"},
		{"title", "lbx model (lbx.yaml)"},
	}
	root = append(root, objectSchema(m.Root)...)
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// objectSchema: unknown keys are refused, as the loader refuses them.
func objectSchema(t *Type) obj {
	o := obj{{"description", t.Doc}, {"type", "object"}}
	props := obj{}
	var req []string
	for _, f := range t.Fields {
		props = append(props, kv{f.Key, fieldSchema(f)})
		if f.Required {
			req = append(req, f.Key)
		}
	}
	o = append(o, kv{"properties", props})
	if len(req) > 0 {
		o = append(o, kv{"required", req})
	}
	o = append(o, kv{"additionalProperties", false})
	if t.Discriminator != "" {
		o = append(o, kv{"allOf", exclusive(t)})
	}
	return o
}

// exclusive forbids, for each value of the discriminator, the keys that
// belong only to other values (a url on a tcp check).
func exclusive(t *Type) []any {
	var values []string
	for _, f := range t.Fields {
		if f.Key == t.Discriminator {
			for _, v := range f.Value.Rule.Enum {
				values = append(values, v.(string))
			}
		}
	}
	keys := make([]string, 0, len(t.Exclusive))
	for k := range t.Exclusive {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []any
	for _, v := range values {
		forbid := obj{}
		for _, k := range keys {
			if !slices.Contains(t.Exclusive[k], v) {
				forbid = append(forbid, kv{k, false})
			}
		}
		out = append(out, obj{
			{"if", obj{{"properties", obj{{t.Discriminator, obj{{"const", v}}}}}, {"required", []string{t.Discriminator}}}},
			{"then", obj{{"properties", forbid}}},
		})
	}
	return out
}

func fieldSchema(f *Field) obj {
	o := valueSchemaOf(f.Value)
	if f.Default != nil {
		o = append(obj{{"default", jsonDefault(f.Default)}}, o...)
	}
	if f.Doc != "" {
		o = append(obj{{"description", f.Doc}}, o...)
	}
	return o
}

func valueSchemaOf(v *Value) obj {
	var o obj
	switch v.Kind {
	case Object:
		return objectSchema(v.Object)
	case List:
		items := valueSchemaOf(v.Elem)
		if v.Rule.Items != nil {
			items = append(items, ruleSchema(*v.Rule.Items)...)
		}
		o = obj{{"type", "array"}, {"items", items}}
	case Map:
		o = obj{{"type", "object"}, {"propertyNames", obj{{"minLength", 1}}}, {"additionalProperties", valueSchemaOf(v.Elem)}}
	case Scalar:
		if slices.Contains(valueTypeNames, v.Scalar) {
			o = valueSchema(v.Scalar)
		} else if len(v.Rule.Enum) == 0 {
			o = obj{{"type", v.Scalar}}
		}
	}
	return append(o, ruleSchema(v.Rule)...)
}

func ruleSchema(r Rule) obj {
	var o obj
	if len(r.Enum) == 1 {
		o = append(o, kv{"const", r.Enum[0]})
	} else if len(r.Enum) > 0 {
		o = append(o, kv{"enum", r.Enum})
	}
	if r.Min != nil {
		o = append(o, kv{"minimum", *r.Min})
	}
	if r.Max != nil {
		o = append(o, kv{"maximum", *r.Max})
	}
	if len(r.Not) > 0 {
		o = append(o, kv{"not", obj{{"enum", r.Not}}})
	}
	if r.MinItems > 0 {
		o = append(o, kv{"minItems", r.MinItems})
	}
	if r.Unique {
		o = append(o, kv{"uniqueItems", true})
	}
	if r.MaxLen > 0 {
		o = append(o, kv{"maxLength", r.MaxLen})
	}
	if r.Pattern != "" {
		o = append(o, kv{"pattern", r.Pattern})
	}
	return o
}

// jsonDefault writes a default as the model writes it: durations in Go's
// short form ("1s"), the rest as they are.
func jsonDefault(v any) any {
	if d, ok := v.(time.Duration); ok {
		s, _ := model.Duration{Duration: d}.MarshalYAML()
		return s
	}
	return v
}

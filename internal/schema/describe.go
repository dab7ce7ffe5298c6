package schema

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/lbx-dev/lbx/model"
)

// Kind is the shape of a value.
type Kind int

const (
	Scalar Kind = iota
	Object      // a struct of the model: fixed keys
	List
	Map // a mapping from names to Elem (scripts)
)

// Value is what one key holds.
type Value struct {
	Kind   Kind
	Object *Type  // Object
	Elem   *Value // List, Map
	// Scalar: the JSON type ("string", "integer", "boolean") or, for the
	// model's own value types, their Go name ("Duration", "Addr", ...).
	Scalar string
	Rule   Rule
}

// Type is one struct type of the model.
type Type struct {
	Name   string // Go name, e.g. VirtualServer
	Doc    string
	Fields []*Field
	// Exclusive lists, for a discriminating key (check type), the keys
	// that belong only to some of its values: model.CheckFields.
	Discriminator string
	Exclusive     map[string][]string
}

// Field is one key of a Type.
type Field struct {
	Key, GoName string
	Doc         string
	Value       *Value
	Default     any // nil: none, or one that depends on other fields
	Required    bool
}

// Model is the whole format: the root type and the comments that describe
// the model's own value types (Duration, Addr...).
type Model struct {
	Root     *Type
	TypeDocs map[string]string
}

// Describe reads the model's Go types and comments into a Model.
func Describe() (*Model, error) {
	dir, err := modelDir()
	if err != nil {
		return nil, err
	}
	c, err := readComments(dir)
	if err != nil {
		return nil, err
	}
	d := &describer{c: c, used: map[string]bool{}}
	root := d.object(reflect.TypeOf(model.Model{}))
	if err := d.unused(); err != nil {
		return nil, err
	}
	docs := map[string]string{}
	for _, name := range valueTypeNames {
		docs[name] = c[name]
	}
	return &Model{Root: root, TypeDocs: docs}, nil
}

type describer struct {
	c    comments
	used map[string]bool // rule and default keys met
}

func (d *describer) object(t reflect.Type) *Type {
	ty := &Type{Name: t.Name(), Doc: d.c[t.Name()]}
	if t == reflect.TypeOf(model.Check{}) {
		ty.Discriminator, ty.Exclusive = "type", model.CheckFields
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		id := t.Name() + "." + key
		f := &Field{Key: key, GoName: sf.Name, Doc: d.c.fieldDoc(t.Name(), sf.Name, key), Value: d.value(sf.Type)}
		if r, ok := rules[id]; ok {
			d.used[id] = true
			if r.Min == nil && r.Max == nil { // keep an unsigned type's bounds
				r.Min, r.Max = f.Value.Rule.Min, f.Value.Rule.Max
			}
			f.Value.Rule, f.Required = r, r.Required
		}
		if v, ok := model.FieldDefaults[id]; ok {
			d.used[id] = true
			f.Default = v
		}
		if t == reflect.TypeOf(model.Node{}) {
			relax(f.Value)
		}
		ty.Fields = append(ty.Fields, f)
	}
	return ty
}

// relax makes a node's section (model.Node) what it is: the model's
// section with only the keys that differ, so none is required, and an
// instance's name is its key.
func relax(v *Value) {
	if v.Kind == Map {
		v = v.Elem
	}
	if v.Kind != Object {
		return
	}
	v.Object.Fields = slices.DeleteFunc(v.Object.Fields, func(f *Field) bool {
		return f.Key == "name" && v.Object.Name == "VRRPInstance"
	})
	for _, f := range v.Object.Fields {
		f.Required = false
	}
}

// value maps a Go type to its shape. Element rules (e.g. an enum for each
// scheduler flag) are on the list's Rule.Items.
func (d *describer) value(t reflect.Type) *Value {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if slices.Contains(valueTypeNames, t.Name()) && t.PkgPath() == reflect.TypeOf(model.Model{}).PkgPath() {
		return &Value{Kind: Scalar, Scalar: t.Name()}
	}
	switch t.Kind() {
	case reflect.Struct:
		return &Value{Kind: Object, Object: d.object(t)}
	case reflect.Slice:
		return &Value{Kind: List, Elem: d.value(t.Elem())}
	case reflect.Map:
		return &Value{Kind: Map, Elem: d.value(t.Elem())}
	case reflect.String:
		return &Value{Kind: Scalar, Scalar: "string"}
	case reflect.Bool:
		return &Value{Kind: Scalar, Scalar: "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return &Value{Kind: Scalar, Scalar: "integer"}
	case reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Value{Kind: Scalar, Scalar: "integer", Rule: Rule{Min: ptr(int64(0)), Max: ptr(int64(1)<<t.Bits() - 1)}}
	}
	panic(fmt.Sprintf("schema: model type %s has no JSON Schema mapping; add it to describe.go", t))
}

// unused reports rule or default keys that name no field: a renamed field
// must not silently lose its documentation.
func (d *describer) unused() error {
	var bad []string
	for k := range rules {
		if !d.used[k] {
			bad = append(bad, k)
		}
	}
	for k := range model.FieldDefaults {
		if !d.used[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("schema rules or model.FieldDefaults name fields that do not exist: %s", strings.Join(bad, ", "))
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

package modelview

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

var marshalerType = reflect.TypeOf((*yaml.Marshaler)(nil)).Elem()

// settingsOf is v (a model struct) as a map of its YAML fields.
func settingsOf(v any) map[string]any {
	x, ok := canonical(reflect.ValueOf(v))
	if !ok {
		return nil
	}
	m, _ := x.(map[string]any)
	return m
}

// canonical turns a model value into plain maps, lists and scalars under
// the YAML names, through the values' own MarshalYAML, leaving out what
// the YAML would (nil pointers; omitempty fields that are zero or empty);
// ok is false for a nil.
func canonical(v reflect.Value) (any, bool) {
	if !v.IsValid() {
		return nil, false
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return nil, false
	}
	if v.Type().Implements(marshalerType) && v.Kind() != reflect.Pointer {
		x, err := v.Interface().(yaml.Marshaler).MarshalYAML()
		if err != nil {
			return fmt.Sprint(v.Interface()), true
		}
		return canonical(reflect.ValueOf(x))
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return canonical(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			name, opts, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if name == "" || name == "-" || !v.Type().Field(i).IsExported() {
				continue
			}
			if opts == "omitempty" && (f.IsZero() || (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0) {
				continue
			}
			if x, ok := canonical(f); ok {
				out[name] = x
			}
		}
		return out, true
	case reflect.Slice, reflect.Array:
		var out []any
		for i := 0; i < v.Len(); i++ {
			x, _ := canonical(v.Index(i))
			out = append(out, x)
		}
		return out, true
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			if x, ok := canonical(v.MapIndex(k)); ok {
				out[fmt.Sprint(k.Interface())] = x
			}
		}
		return out, true
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	return fmt.Sprint(v.Interface()), true
}

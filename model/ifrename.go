package model

import (
	"reflect"
	"strings"
)

// A node's interfaces: map renames the interfaces the model names (eth0
// on one director, ens3 on another). The fields that name an interface
// are found by their YAML key, so that a new one is renamed too.

// interfaceKeys are the YAML keys whose value is an interface name.
var interfaceKeys = map[string]bool{"interface": true, "bind_if": true}

// isInterfaceField: a field naming an interface (a track_interfaces
// entry's name too).
func isInterfaceField(owner reflect.Type, key string) bool {
	return interfaceKeys[key] || owner == reflect.TypeOf(TrackInterface{}) && key == "name"
}

// renameInterfaces returns a copy of m with the interfaces renamed
// (old name -> new); labels that begin with a renamed interface's name
// follow it. m is not changed.
func renameInterfaces(m *Model, names map[string]string) *Model {
	c := deepCopy(reflect.ValueOf(m)).Interface().(*Model)
	walkStrings(reflect.ValueOf(c).Elem(), func(owner reflect.Type, key string, s *string) {
		switch {
		case isInterfaceField(owner, key):
			if n, ok := names[*s]; ok {
				*s = n
			}
		case key == "label":
			old, rest, _ := strings.Cut(*s, ":")
			if n, ok := names[old]; ok && (rest != "" || *s == old) {
				*s = strings.Replace(*s, old, n, 1)
			}
		}
	})
	return c
}

// interfacesNamed lists every interface name the model gives.
func interfacesNamed(m *Model) map[string]bool {
	out := map[string]bool{}
	walkStrings(reflect.ValueOf(m).Elem(), func(owner reflect.Type, key string, s *string) {
		if isInterfaceField(owner, key) && *s != "" {
			out[*s] = true
		}
	})
	return out
}

// walkStrings calls f with every string field of the model's structs
// (skipping the nodes section and fields without a YAML key).
func walkStrings(v reflect.Value, f func(owner reflect.Type, key string, s *string)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkStrings(v.Elem(), f)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), f)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkStrings(v.MapIndex(k), f) // maps hold pointers: changed in place
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			key := yamlKey(v.Type().Field(i))
			if key == "" || key == "-" || key == "nodes" || !v.Type().Field(i).IsExported() {
				continue
			}
			if fv := v.Field(i); fv.Type() == reflect.TypeOf("") && fv.CanSet() {
				f(v.Type(), key, fv.Addr().Interface().(*string))
			} else {
				walkStrings(fv, f)
			}
		}
	}
}

// deepCopy copies v's pointers, slices and maps, so that the copy can be
// changed without changing v. Structs are copied whole first (value types
// such as Addr keep their unexported fields), then their exported fields
// deeply; fields without a YAML key (positions) are shared.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(deepCopy(v.Elem()))
		return c
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			c.Index(i).Set(deepCopy(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for _, k := range v.MapKeys() {
			c.SetMapIndex(k, deepCopy(v.MapIndex(k)))
		}
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		for i := 0; i < v.NumField(); i++ {
			key := yamlKey(v.Type().Field(i))
			if key != "" && key != "-" && v.Type().Field(i).IsExported() {
				c.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return c
	}
	return v
}

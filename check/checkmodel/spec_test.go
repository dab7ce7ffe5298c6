package checkmodel

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/model"
)

// nonZero sets v, a field of model.Check or model.URL, to a value that is
// not its zero.
func nonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Interface().(type) {
	case *model.Duration:
		v.Set(reflect.ValueOf(&model.Duration{Duration: time.Second}))
	case *model.Addr:
		v.Set(reflect.ValueOf(&model.Addr{Addr: netip.MustParseAddr("192.0.2.9")}))
	case *int:
		one := 1
		v.Set(reflect.ValueOf(&one))
	case []*model.URL:
		var u model.URL
		uv := reflect.ValueOf(&u).Elem()
		for i := range uv.NumField() {
			nonZero(t, uv.Field(i))
		}
		v.Set(reflect.ValueOf([]*model.URL{&u}))
	case []string:
		v.Set(reflect.ValueOf([]string{"200"}))
	default:
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Int:
			v.SetInt(1)
		case reflect.Uint32:
			v.SetUint(1)
		case reflect.Bool:
			v.SetBool(true)
		default:
			t.Fatalf("a field of type %s: teach nonZero to set it", v.Type())
		}
	}
}

// zeroFields are the paths of the fields of v (a struct) left zero.
func zeroFields(v reflect.Value, prefix string) []string {
	var out []string
	for i := range v.NumField() {
		f, name := v.Field(i), prefix+v.Type().Field(i).Name
		switch {
		case f.Kind() == reflect.Struct && f.Type().PkgPath() != "net/netip":
			out = append(out, zeroFields(f, name+".")...)
		case f.Kind() == reflect.Slice && f.Len() > 0 && f.Index(0).Kind() == reflect.Struct:
			out = append(out, zeroFields(f.Index(0), name+"[0].")...)
		case f.IsZero():
			out = append(out, name)
		}
	}
	return out
}

// TestSpecCarriesEveryField: Spec is the one conversion from the model's
// check to the checker's settings, so a field added to either type must be
// carried by it. Each field of model.Check (and model.URL) set alone
// changes the spec, and with all of them set no field of the spec is left
// zero.
func TestSpecCarriesEveryField(t *testing.T) {
	all := model.Check{}
	av := reflect.ValueOf(&all).Elem()
	zero := Spec(model.Check{})
	for i := range av.NumField() {
		name := av.Type().Field(i).Name
		nonZero(t, av.Field(i))
		var one model.Check
		nonZero(t, reflect.ValueOf(&one).Elem().Field(i))
		if reflect.DeepEqual(Spec(one), zero) {
			t.Errorf("model.Check.%s is not carried to checkspec.Check", name)
		}
	}
	// Each URL field alone too.
	for i := range reflect.TypeFor[model.URL]().NumField() {
		var u model.URL
		nonZero(t, reflect.ValueOf(&u).Elem().Field(i))
		base := Spec(model.Check{URLs: []*model.URL{{}}})
		if reflect.DeepEqual(Spec(model.Check{URLs: []*model.URL{&u}}), base) {
			t.Errorf("model.URL.%s is not carried to checkspec.URL", reflect.TypeFor[model.URL]().Field(i).Name)
		}
	}
	if z := zeroFields(reflect.ValueOf(Spec(all)), ""); len(z) > 0 {
		t.Errorf("checkspec.Check fields no model.Check field sets: %v", z)
	}
}

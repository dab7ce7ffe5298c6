package convert

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
)

// checkModel runs the converted model through the model's own loader, the
// one `lbx validate` uses, and reports each problem at the keepalived line
// of the object it is about. The converter refuses most bad values itself;
// this catches the rules only the model knows (interface names, label
// prefixes, VRID clashes, advert_int ranges...), so that no converted
// output is ever an invalid model.
func (c *conv) checkModel(r *Result) {
	out, err := r.YAML("check")
	if err != nil {
		c.errorf(keepalived.Pos{}, "rendering the model: %v", err)
		return
	}
	_, err = model.Parse(out, "model")
	if err == nil {
		return
	}
	errs, ok := model.AsErrors(err)
	if !ok {
		c.errorf(keepalived.Pos{}, "%v", err)
		return
	}
	for _, e := range errs {
		pos := c.locate(e.Path)
		c.errorf(pos, "%s (model field %s)", e.Msg, e.Path)
	}
}

// locate walks a model field path such as vrrp_instances[0].authentication
// and returns the keepalived position of the deepest object on it.
func (c *conv) locate(path string) keepalived.Pos {
	best := c.rootPos
	v := reflect.ValueOf(c.m)
	for _, seg := range splitPath(path) {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return best
			}
			if p, ok := c.pos[v.Interface()]; ok {
				best = p
			}
			v = v.Elem()
		}
		switch {
		case seg.index >= 0:
			if v.Kind() != reflect.Slice || seg.index >= v.Len() {
				return best
			}
			v = v.Index(seg.index)
		case v.Kind() == reflect.Struct:
			f, ok := fieldByTag(v, seg.name)
			if !ok {
				return best
			}
			v = f
		case v.Kind() == reflect.Map:
			v = v.MapIndex(reflect.ValueOf(seg.name))
			if !v.IsValid() {
				return best
			}
		default:
			return best
		}
	}
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		if p, ok := c.pos[v.Interface()]; ok {
			best = p
		}
	}
	return best
}

type pathSeg struct {
	name  string
	index int
}

func splitPath(p string) []pathSeg {
	var out []pathSeg
	for _, part := range strings.Split(p, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			out = append(out, pathSeg{name: name, index: -1})
		}
		for rest != "" {
			num, after, _ := strings.Cut(rest, "]")
			if i, err := strconv.Atoi(num); err == nil {
				out = append(out, pathSeg{index: i})
			}
			_, rest, _ = strings.Cut(after, "[")
		}
	}
	return out
}

func fieldByTag(v reflect.Value, tag string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == tag {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

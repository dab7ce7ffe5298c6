package model

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/model/modeltest"
	"github.com/lbx-dev/lbx/state"
)

// TestValidationErrors checks that each kind of bad input gives an error at
// the right line and column, with its field path, all in one pass.
func TestValidationErrors(t *testing.T) {
	for _, tc := range slices.Concat(modeltest.Invalid, modeltest.InvalidRoutes) {
		t.Run(tc.Name, func(t *testing.T) {
			_, err := Parse([]byte(tc.YAML), "m.yaml")
			if err == nil {
				t.Fatalf("no error; want %v", tc.Want)
			}
			es, ok := AsErrors(err)
			if !ok {
				t.Fatalf("error is %T, want Errors", err)
			}
			if len(es) != len(tc.Want) {
				t.Errorf("got %d errors, want %d:\n%v", len(es), len(tc.Want), err)
			}
			for _, w := range tc.Want {
				if !strings.Contains(err.Error(), "m.yaml:"+w) && !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
		})
	}
}

func TestExamplesValidate(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if len(files) < 6 {
		t.Fatalf("want at least 6 examples, found %d", len(files))
	}
	for _, f := range files {
		if _, err := LoadFile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestValues(t *testing.T) {
	cases := []struct {
		in, tag string
		v       scalar
		want    any
		bad     bool
	}{
		{"5", "!!int", &Duration{}, Duration{5 * time.Second}, false},
		{"0.5", "!!float", &Duration{}, Duration{500 * time.Millisecond}, false},
		{"100ms", "!!str", &Duration{}, Duration{100 * time.Millisecond}, false},
		{"-1s", "!!str", &Duration{}, nil, true},
		{"255.255.255.0", "!!str", &Mask{}, Mask{24}, false},
		{"255.0.255.0", "!!str", &Mask{}, nil, true},
		{"64", "!!int", &Mask{}, Mask{64}, false},
		{"129", "!!int", &Mask{}, nil, true},
		{"10.0.0.1", "!!str", &Prefix{}, nil, false},
		{"10.0.0.10-12", "!!str", &AddrRange{}, nil, false},
		{"10.0.0.10-9", "!!str", &AddrRange{}, nil, true},
		{"2001:db8::2-9", "!!str", &AddrRange{}, nil, false},
		{"fe80::1%eth0", "!!str", &Addr{}, nil, true},
	}
	for _, c := range cases {
		err := c.v.decodeScalar(c.in, c.tag)
		if (err != nil) != c.bad {
			t.Errorf("%T %q: err=%v, want bad=%v", c.v, c.in, err, c.bad)
			continue
		}
		if c.want != nil && !c.bad {
			got := map[string]any{"*model.Duration": nil}
			_ = got
			switch v := c.v.(type) {
			case *Duration:
				if *v != c.want.(Duration) {
					t.Errorf("%q: got %v want %v", c.in, *v, c.want)
				}
			case *Mask:
				if *v != c.want.(Mask) {
					t.Errorf("%q: got %v want %v", c.in, *v, c.want)
				}
			}
		}
	}
	var r AddrRange
	r.decodeScalar("10.0.0.10-12", "!!str")
	if n := len(r.Addrs()); n != 3 {
		t.Errorf("range 10.0.0.10-12 has %d addresses, want 3", n)
	}
	r.decodeScalar("2001:db8::a-f", "!!str")
	if n := len(r.Addrs()); n != 6 {
		t.Errorf("range 2001:db8::a-f has %d addresses, want 6", n)
	}
}

// TestExportRoundTrip: a model rendered by MarshalYAML parses back to the
// same compiled state.
func TestExportRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	for _, f := range files {
		m, err := LoadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		st := Compile(m, Facts{}).State
		exported := FromState(st, nil)
		b, err := MarshalYAML(exported)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Parse(b, "exported.yaml")
		if err != nil {
			t.Fatalf("%s: exported model does not parse: %v\n%s", f, err, b)
		}
		st2 := Compile(m2, Facts{}).State
		if len(st2.Services) != len(st.Services) {
			t.Fatalf("%s: %d services after round trip, want %d", f, len(st2.Services), len(st.Services))
		}
		for k, s := range st.Services {
			s2 := st2.Services[k]
			if s2 == nil || s2.Scheduler != s.Scheduler || s2.Timeout != s.Timeout || s2.NetmaskBits != s.NetmaskBits || s2.Flags != s.Flags || len(s2.Reals) != len(s.Reals) {
				t.Errorf("%s: service %s differs after round trip: %+v vs %+v", f, k, s2, s)
			}
			for rk, r := range s.Reals {
				if r2 := s2.Reals[rk]; r2 != r {
					t.Errorf("%s: real %s/%s differs: %+v vs %+v", f, k, rk, r2, r)
				}
			}
		}
	}
}

// FuzzParse: no input panics the loader, and every error names the file.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../examples/*.yaml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte("version: 1\nvirtual_servers: [{address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.1}]}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("version: 1\nvirtual_server_groups: [{name: g, members: [{address: 2001:db8::1-ffff, port: 1}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		Compile(m, Facts{})
	})
}

// TestCompileServices: compiling some services gives exactly their part of
// the whole compile, and no addresses.
func TestCompileServices(t *testing.T) {
	m, err := Parse([]byte(`version: 1
addresses:
  - {address: 192.0.2.10/24, interface: eth0}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    real_servers:
      - {address: 10.1.0.1, weight: 3}
  - address: 10.0.0.2
    port: 443
    real_servers:
      - {address: 10.1.0.2}
`), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	whole := Compile(m, Facts{})
	for key := range whole.State.Services {
		part := CompileServices(m, Facts{}, map[state.ServiceKey]bool{key: true})
		if len(part.State.Services) != 1 || len(part.State.Addresses) != 0 {
			t.Fatalf("%s: %d services, %d addresses, want 1 and 0", key, len(part.State.Services), len(part.State.Addresses))
		}
		if !reflect.DeepEqual(part.State.Services[key], whole.State.Services[key]) || !reflect.DeepEqual(part.Drain[key], whole.Drain[key]) {
			t.Errorf("%s: compiled alone %+v, in the whole %+v", key, part.State.Services[key], whole.State.Services[key])
		}
	}
}

// A load through the fast path cuts each list item from the tree once it
// is decoded (decoder.release), so that a large model's tree and its
// objects are not held at once; an error validation finds afterwards still
// has its line and column, and so does the one it points back to, because
// positions come from the source.
func TestReleasedTreeKeepsPositions(t *testing.T) {
	src := "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    protocol: tcp\n    real_servers:\n" +
		"      - {address: 10.0.0.2, port: 80}\n      - {address: 10.0.0.2, port: 80}\n"
	root, _, ok := fastYAML(src)
	if !ok {
		t.Fatal("the fast path declined")
	}
	list := root.Content[0].Content[3] // virtual_servers' value
	var m Model
	d := &decoder{file: "m.yaml", w: &work{}, budget: aliasBudget(100), release: true}
	d.decode(root, reflect.ValueOf(&m).Elem())
	if len(m.VirtualServers) != 1 || len(m.VirtualServers[0].RealServers) != 2 {
		t.Fatalf("decoded %+v", m.VirtualServers)
	}
	if list.Content[0] != nil {
		t.Error("a decoded list item is still in the tree")
	}
	_, err := Parse([]byte(src), "m.yaml")
	want := "m.yaml:8:9: virtual_servers[0].real_servers[1]: real server 10.0.0.2:80 is already declared at virtual_servers[0].real_servers[0] (line 7)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
}

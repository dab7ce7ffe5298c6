package model

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/state"
)

// TestValidationErrors checks that each kind of bad input gives an error at
// the right line and column, with its field path, all in one pass.
func TestValidationErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // "line:col: path: substring"
	}{
		{"missing version", "virtual_servers: []\n", []string{"1:1: version: missing"}},
		{"wrong version", "version: 7\n", []string{"1:10: version: version 7 is not supported"}},
		{"unknown key with suggestion", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    schedular: rr\n",
			[]string{`5:5: virtual_servers[0].schedular: unknown field "schedular" (did you mean "scheduler"?)`}},
		{"wrong type", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: eighty\n",
			[]string{`4:11: virtual_servers[0].port: want an integer, got "eighty"`}},
		{"bad address", "version: 1\nvirtual_servers:\n  - address: 10.0.0.300\n    port: 80\n",
			[]string{`3:14: virtual_servers[0].address: want an IP address`}},
		{"bad prefix", "version: 1\naddresses:\n  - {address: 10.0.0.1/33, interface: eth0}\n",
			[]string{`3:15: addresses[0].address: want an address with a prefix length`}},
		{"port out of range", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 65536\n",
			[]string{`4:11: virtual_servers[0].port: want 1..65535, got 65536`}},
		{"weight out of range", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - {address: 10.1.0.1, weight: 70000}\n",
			[]string{`6:37: virtual_servers[0].real_servers[0].weight: want 0..65535, got 70000`}},
		{"quorum hysteresis without min (quorum 1)", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    quorum: {hysteresis: 1}\n",
			[]string{`5:26: virtual_servers[0].quorum.hysteresis: want 0..0: below quorum.min, which is 1 (1 when not set)`}},
		{"unknown scheduler", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    scheduler: fastest\n",
			[]string{`5:16: virtual_servers[0].scheduler: unknown scheduler "fastest"`}},
		{"duplicate service", "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80}\n  - {address: 10.0.0.1, port: 80}\n",
			[]string{`4:5: virtual_servers[1]: service tcp/10.0.0.1:80 is already declared at virtual_servers[0] (line 3)`}},
		{"duplicate via group", "version: 1\nvirtual_server_groups:\n  - name: g\n    members: [{address: 10.0.0.1-3, port: 80}]\nvirtual_servers:\n  - {group: g}\n  - {address: 10.0.0.2, port: 80}\n",
			[]string{`7:5: virtual_servers[1]: service tcp/10.0.0.2:80 is already declared`}},
		{"duplicate real server", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - {address: 10.1.0.1}\n      - {address: 10.1.0.1, port: 80}\n",
			[]string{`7:9: virtual_servers[0].real_servers[1]: real server 10.1.0.1:80 is already declared`}},
		{"duplicate address", "version: 1\naddresses:\n  - {address: 10.0.0.1/24, interface: eth0}\n  - {address: 10.0.0.1/25, interface: eth0}\n",
			[]string{`4:15: addresses[1].address: 10.0.0.1 on eth0 is already declared`}},
		{"duplicate VRID", "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5}\n  - {name: B, interface: eth0, virtual_router_id: 5}\n",
			[]string{`4:51: vrrp_instances[1].virtual_router_id: VRID 5 on eth0 (IPv4) is already used`}},
		{"undefined script", "version: 1\nvrrp_instances:\n  - name: A\n    interface: eth0\n    virtual_router_id: 5\n    track_scripts: [{name: chk}]\n",
			[]string{`6:28: vrrp_instances[0].track_scripts[0].name: no script named "chk"`}},
		{"label not starting with interface", "version: 1\naddresses:\n  - {address: 10.0.0.1/24, interface: eth0, label: vip}\n",
			[]string{`3:52: addresses[0].label: "vip" must begin with the interface name "eth0"`}},
		{"check field of another type", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: tcp, urls: [{path: /}]}]\n",
			[]string{`7:36: virtual_servers[0].real_servers[0].checks[0].urls: urls is not a field of a tcp check`}},
		{"bad http_protocol", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: http_get, http_protocol: \"2\", urls: [{path: /}]}]\n",
			[]string{`7:50: virtual_servers[0].real_servers[0].checks[0].http_protocol: want one of 1.0 1.0C 1.1 (keepalived's), got "2"`}},
		{"bad status code", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: http_get, urls: [{path: /, status_codes: [\"299-200\"]}]}]\n",
			[]string{`7:67: virtual_servers[0].real_servers[0].checks[0].urls[0].status_codes[0]: want a status code or range`}},
		{"sh flag on wrong scheduler", "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, scheduler: rr, scheduler_flags: [sh-port]}\n",
			[]string{`3:68: virtual_servers[0].scheduler_flags[0]: "sh-port" needs scheduler sh`}},
		{"v6 address needs v3", "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5, version: 2, virtual_addresses: [{address: '2001:db8::1/64'}]}\n",
			[]string{`3:63: vrrp_instances[0].version: IPv6 virtual addresses need VRRP version 3`}},
		{"all errors at once", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 0\n    bogus: 1\n    real_servers:\n      - {address: nope, weight: -3}\n",
			[]string{
				"4:11: virtual_servers[0].port: missing: port 0",
				`5:5: virtual_servers[0].bogus: unknown field "bogus"`,
				`7:19: virtual_servers[0].real_servers[0].address: want an IP address`,
				`7:33: virtual_servers[0].real_servers[0].weight: want 0..65535, got -3`,
			}},
		{"fwmark check needs a port", "version: 1\nvirtual_servers:\n  - fwmark: 1\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: tcp}]\n",
			[]string{`6:18: virtual_servers[0].real_servers[0].checks[0].connect_port: missing: the real server has no port`}},
		{"udp payload hex", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 53\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: udp, payload: zz}]\n",
			[]string{`7:39: virtual_servers[0].real_servers[0].checks[0].payload: want hex bytes`}},
		{"dns type", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 53\n    real_servers:\n      - address: 10.1.0.1\n        checks: [{type: dns, dns_type: BOGUS}]\n",
			[]string{`7:40: virtual_servers[0].real_servers[0].checks[0].dns_type: want one of A AAAA`}},
		{"gue needs a port", "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    forwarding: tun\n    real_servers:\n      - {address: 10.1.0.1, tunnel: {type: gue}}\n",
			[]string{`7:37: virtual_servers[0].real_servers[0].tunnel.port: missing: a gue tunnel needs the UDP port`}},
		{"sync daemon without instance", "version: 1\nglobal:\n  lvs_sync_daemon: {interface: eth1}\n",
			[]string{`global.lvs_sync_daemon.vrrp_instance: missing: the VRRP instance the daemon follows`}},
		{"sync daemon settings", "version: 1\nvrrp_instances:\n  - {name: A, interface: eth0, virtual_router_id: 5}\nglobal:\n  lvs_sync_daemon: {interface: eth1, vrrp_instance: A, sync_id: 256, ttl: 256, port: 70000, max_len: 70000, group: 10.0.0.1}\n",
			[]string{
				`global.lvs_sync_daemon.sync_id: want 0..255, got 256`,
				`global.lvs_sync_daemon.ttl: want 1..255, got 256`,
				`global.lvs_sync_daemon.port: want 1..65535, got 70000`,
				`global.lvs_sync_daemon.max_len: want 1..65507, got 70000`,
				`global.lvs_sync_daemon.group: 10.0.0.1 is not a multicast address`,
			}},
		{"yaml syntax", "version: 1\nvirtual_servers: [\n", []string{"YAML syntax"}},
		{"empty file", "", []string{"empty file"}},
		{"two documents", "version: 1\n---\nversion: 1\n", []string{"more than one YAML document"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "m.yaml")
			if err == nil {
				t.Fatalf("no error; want %v", tc.want)
			}
			es, ok := AsErrors(err)
			if !ok {
				t.Fatalf("error is %T, want Errors", err)
			}
			if len(es) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(es), len(tc.want), err)
			}
			for _, w := range tc.want {
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

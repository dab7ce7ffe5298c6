package checkmodel

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/checkspec"
	"github.com/lbx-dev/lbx/model"
)

// fromModel builds c as lbx watch does, for a model with no global
// settings.
func fromModel(vs *model.VirtualServer, rs *model.RealServer, c *model.Check) (check.Checker, check.Settings, checkspec.Check, error) {
	p, _, err := NewBuilder(&model.Model{}).Build(vs, rs, c)
	return p.Checker, p.Settings, p.Spec, err
}

// oneURLDeadline is the deadline of an HTTP check of one URL over conn.
func oneURLDeadline(t *testing.T, conn check.Conn) time.Duration {
	t.Helper()
	_, s, err := check.Build(checkspec.Check{Type: "http_get", ConnectIP: conn.Addr.Addr(), ConnectPort: int(conn.Addr.Port()), ConnectTimeout: conn.Timeout, Schedule: checkspec.Schedule{DelayLoop: time.Second}, URLs: []checkspec.URL{{Path: "/"}}})
	if err != nil {
		t.Fatal(err)
	}
	return s.Deadline
}

func dp(d time.Duration) *model.Duration { return &model.Duration{Duration: d} }
func ip(p int) *int                      { return &p }

func TestBuild(t *testing.T) {
	vip := model.Addr{Addr: netip.MustParseAddr("192.0.2.1")}
	vs := &model.VirtualServer{Address: &vip, Port: 80, DelayLoop: dp(6 * time.Second), Virtualhost: "vs.example"}
	rs := &model.RealServer{Address: model.Addr{Addr: netip.MustParseAddr("10.0.0.5")}}
	rs8080 := &model.RealServer{Address: model.Addr{Addr: netip.MustParseAddr("10.0.0.6")}, Port: 8080}
	tests := []struct {
		name  string
		rs    *model.RealServer
		c     model.Check
		check func(t *testing.T, ch check.Checker, s check.Settings)
		err   string
	}{
		{"tcp inherits address, port, delay_loop; defaults", rs, model.Check{Type: "tcp"}, func(t *testing.T, ch check.Checker, s check.Settings) {
			c := ch.(*check.TCP).Conn
			if c.Addr.String() != "10.0.0.5:80" || c.Timeout != model.DefaultConnectTimeout {
				t.Errorf("conn %+v", c)
			}
			if s.DelayLoop != 6*time.Second || s.Retry != model.DefaultRetry || s.DelayBeforeRetry != model.DefaultDelayBeforeRetry || s.Deadline != model.DefaultConnectTimeout {
				t.Errorf("settings %+v", s)
			}
			if s.Warmup != s.DelayLoop { // keepalived's default: warmup is delay_loop
				t.Errorf("warmup %s, want delay_loop %s", s.Warmup, s.DelayLoop)
			}
		}, ""},
		{"file: read at start, no warmup and no retry, as keepalived's FILE_CHECK", rs, model.Check{Type: "file", File: "/run/x.trk"}, func(t *testing.T, ch check.Checker, s check.Settings) {
			if f := ch.(*check.File); f.Path != "/run/x.trk" {
				t.Errorf("path %q", f.Path)
			}
			if s.Warmup != 0 || s.Retry != 0 || s.DelayLoop != 6*time.Second {
				t.Errorf("settings %+v", s)
			}
		}, ""},
		{"file: its own warmup and retry win", rs, model.Check{Type: "file", File: "/run/x.trk", Warmup: dp(time.Second), Retry: ip(2)}, func(t *testing.T, ch check.Checker, s check.Settings) {
			if s.Warmup != time.Second || s.Retry != 2 {
				t.Errorf("settings %+v", s)
			}
		}, ""},
		{"real server port and own settings win", rs8080, model.Check{Type: "tcp", DelayLoop: dp(time.Second), Retry: ip(4), ConnectTimeout: dp(2 * time.Second)}, func(t *testing.T, ch check.Checker, s check.Settings) {
			if a := ch.(*check.TCP).Conn.Addr.String(); a != "10.0.0.6:8080" {
				t.Errorf("addr %s", a)
			}
			if s.DelayLoop != time.Second || s.Retry != 4 || s.Deadline != 2*time.Second {
				t.Errorf("settings %+v", s)
			}
		}, ""},
		{"connect_ip, connect_port, bindto", rs, model.Check{Type: "tcp", ConnectIP: &model.Addr{Addr: netip.MustParseAddr("10.9.9.9")}, ConnectPort: 9000, BindTo: &model.Addr{Addr: netip.MustParseAddr("10.0.0.1")}}, func(t *testing.T, ch check.Checker, s check.Settings) {
			c := ch.(*check.TCP).Conn
			if c.Addr.String() != "10.9.9.9:9000" || c.BindAddr.String() != "10.0.0.1" {
				t.Errorf("conn %+v", c)
			}
		}, ""},
		{"http: virtualhost inherited, url's own wins, deadline per url", rs, model.Check{Type: "http_get", ConnectTimeout: dp(time.Second), URLs: []*model.URL{{Path: "/a"}, {Path: "/b", Virtualhost: "b.example", StatusCodes: []string{"301"}, Digest: "ABCDEF0123456789ABCDEF0123456789"}}}, func(t *testing.T, ch check.Checker, s check.Settings) {
			h := ch.(*check.HTTP)
			if h.URLs[0].Host != "vs.example" || h.URLs[1].Host != "b.example" || h.URLs[0].Status.String() != "200-299" || h.URLs[1].Status.String() != "301" || h.URLs[1].Digest != "abcdef0123456789abcdef0123456789" {
				t.Errorf("urls %+v", h.URLs)
			}
			if one := oneURLDeadline(t, h.Conn); s.Deadline != 2*one || h.TLS { // each url up to a one-url check's deadline
				t.Errorf("deadline %s tls %v", s.Deadline, h.TLS)
			}
		}, ""},
		{"misc: retry 0 by default, timeout defaults to delay_loop", rs, model.Check{Type: "misc", Path: `/bin/check "a b"`, Dynamic: true}, func(t *testing.T, ch check.Checker, s check.Settings) {
			m := ch.(*check.Misc)
			if len(m.Args) != 2 || m.Args[1] != "a b" || !m.Dynamic || m.Timeout != 6*time.Second || s.Retry != 0 || s.Deadline != 6*time.Second {
				t.Errorf("misc %+v settings %+v", m, s)
			}
		}, ""},
		{"dns defaults: SOA for the root, retry 3", rs, model.Check{Type: "dns", ConnectPort: 53}, func(t *testing.T, ch check.Checker, s check.Settings) {
			d := ch.(*check.DNS)
			if d.Name != "." || d.Type.String() != "TypeSOA" || s.Retry != 3 || d.Conn.Addr.Port() != 53 {
				t.Errorf("dns %+v settings %+v", d, s)
			}
		}, ""},
		{"smtp default helo", rs, model.Check{Type: "smtp"}, func(t *testing.T, ch check.Checker, s check.Settings) {
			if ch.(*check.SMTP).HeloName != check.DefaultHeloName {
				t.Error(ch.(*check.SMTP).HeloName)
			}
		}, ""},
		{"udp hex payload", rs, model.Check{Type: "udp", Payload: "de ad BE EF"}, func(t *testing.T, ch check.Checker, s check.Settings) {
			if string(ch.(*check.UDP).Payload) != "\xde\xad\xbe\xef" {
				t.Errorf("%x", ch.(*check.UDP).Payload)
			}
		}, ""},
		{"bad payload", rs, model.Check{Type: "udp", Payload: "xyz"}, nil, "real server 10.0.0.5:80 check udp: payload \"xyz\": want hex"},
		{"bad dns type", rs, model.Check{Type: "dns", DNSType: "PTR"}, nil, "dns_type \"PTR\""},
		{"unterminated quote", rs, model.Check{Type: "misc", Path: `/bin/x "a`}, nil, "unterminated double quote"},
		{"unknown user", rs, model.Check{Type: "misc", Path: "/bin/true", User: "no-such-user-lbx"}, nil, "user \"no-such-user-lbx\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			ch, s, spec, err := fromModel(vs, tt.rs, &c)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, ch, s)
			// A checker process rebuilds the same check from the
			// effective one, sent as JSON.
			data, err := json.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			var back checkspec.Check
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			ch2, s2, err := check.Build(back)
			if err != nil {
				t.Fatalf("Build from JSON: %v", err)
			}
			if s2 != s {
				t.Errorf("settings from JSON %+v, want %+v", s2, s)
			}
			if d := cmp.Diff(ch, ch2, cmp.Exporter(func(reflect.Type) bool { return true })); d != "" {
				t.Errorf("checker from JSON differs (-model +JSON):\n%s", d)
			}
		})
	}
}

// TestKeyStability: the key depends on what is checked, not on how it was
// written, and not on the schedule (a reload that changes only delay_loop
// or retry keeps the check's state, as keepalived's migrate_checkers);
// inherited values count.
func TestKeyStability(t *testing.T) {
	vip := model.Addr{Addr: netip.MustParseAddr("192.0.2.1")}
	vs := &model.VirtualServer{Address: &vip, Port: 80}
	rs := &model.RealServer{Address: model.Addr{Addr: netip.MustParseAddr("10.0.0.5")}}
	key := func(c model.Check) string {
		_, s, _, err := fromModel(vs, rs, &c)
		if err != nil {
			t.Fatal(err)
		}
		return s.Key()
	}
	implicit := key(model.Check{Type: "tcp"})
	explicit := key(model.Check{Type: "tcp", ConnectPort: 80, Retry: ip(1), ConnectTimeout: dp(5 * time.Second), DelayLoop: dp(60 * time.Second)})
	if implicit != explicit {
		t.Errorf("defaults written out change the key:\n%s\n%s", implicit, explicit)
	}
	if key(model.Check{Type: "tcp", Retry: ip(2), DelayBeforeRetry: dp(time.Second), Warmup: dp(time.Second)}) != implicit {
		t.Error("a changed retry, delay_before_retry or warmup changes the key")
	}
	if key(model.Check{Type: "tcp", ConnectPort: 81}) == implicit || key(model.Check{Type: "tcp", ConnectTimeout: dp(time.Second)}) == implicit {
		t.Error("a changed connect_port or connect_timeout keeps the key")
	}
	vs.DelayLoop = dp(time.Second)
	if key(model.Check{Type: "tcp"}) != implicit {
		t.Error("a changed inherited delay_loop changes the key")
	}
	rs.Port = 8080
	if key(model.Check{Type: "tcp"}) == implicit {
		t.Error("a changed inherited connect_port keeps the key")
	}
}

func TestTargets(t *testing.T) {
	m := &model.Model{
		VirtualServerGroups: []*model.VirtualServerGroup{{Name: "g", Members: []*model.GroupMember{
			{Address: &model.AddrRange{First: netip.MustParseAddr("192.0.2.1"), Last: netip.MustParseAddr("192.0.2.2")}, Port: 80},
		}}},
		VirtualServers: []*model.VirtualServer{{Group: "g", Alpha: true, RealServers: []*model.RealServer{
			{Address: model.Addr{Addr: netip.MustParseAddr("10.0.0.1")}, Port: 80, Checks: []*model.Check{{Type: "tcp"}}},
			{Address: model.Addr{Addr: netip.MustParseAddr("10.0.0.2")}, Port: 80},
		}}},
	}
	ts, err := Targets(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || len(ts[0].Also) != 1 || !ts[0].Alpha || ts[0].ID.Real.String() != "10.0.0.1:80" || ts[0].Also[0].Service.Addr.String() != "192.0.2.2" {
		t.Fatalf("targets %+v", ts)
	}
}

// TestPerTypeDefaults: keepalived's per-checker retry and retry-delay
// defaults (2.2.7): HTTP/SSL wait 3s between retries, DNS retries 3 times
// after delay_loop, MISC does not retry.
func TestPerTypeDefaults(t *testing.T) {
	vs := &model.VirtualServer{Port: 80, DelayLoop: &model.Duration{Duration: 6 * time.Second}}
	rs := &model.RealServer{Address: model.Addr{Addr: netip.MustParseAddr("10.0.0.5")}}
	cases := []struct {
		c     model.Check
		retry int
		delay time.Duration
	}{
		{model.Check{Type: "tcp"}, 1, time.Second},
		{model.Check{Type: "http_get", URLs: []*model.URL{{Path: "/"}}}, 1, 3 * time.Second},
		{model.Check{Type: "ssl_get", URLs: []*model.URL{{Path: "/"}}}, 1, 3 * time.Second},
		{model.Check{Type: "dns", DNSName: "example.org"}, 3, 6 * time.Second},
		{model.Check{Type: "misc", Path: "/bin/true"}, 0, time.Second},
		{model.Check{Type: "file", File: "/run/x.trk"}, 0, time.Second},
	}
	for _, tc := range cases {
		_, s, _, err := fromModel(vs, rs, &tc.c)
		if err != nil {
			t.Fatalf("%s: %v", tc.c.Type, err)
		}
		if s.Retry != tc.retry || s.DelayBeforeRetry != tc.delay {
			t.Errorf("%s: retry %d delay %s, want %d and %s", tc.c.Type, s.Retry, s.DelayBeforeRetry, tc.retry, tc.delay)
		}
	}
}

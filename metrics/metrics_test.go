package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/state"
)

var (
	vi1  = VRRP{Name: "VI_1", Interface: "eth0", VRID: 51}
	vi2  = VRRP{Name: "VI_2", Interface: "eth1", VRID: 52}
	web1 = Real{
		Service: state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Family: state.IPv4},
		Real:    state.RealKey{Addr: netip.MustParseAddr("192.168.1.11"), Port: 8080},
	}
	web2 = Real{
		Service: web1.Service,
		Real:    state.RealKey{Addr: netip.MustParseAddr("192.168.1.12"), Port: 8080},
	}
	dns6 = Real{
		Service: state.ServiceKey{Protocol: state.UDP, Addr: netip.MustParseAddr("2001:db8::53"), Port: 53, Family: state.IPv6},
		Real:    state.RealKey{Addr: netip.MustParseAddr("2001:db8::1:1"), Port: 53},
	}
	fwm = Real{
		Service: state.ServiceKey{FWMark: 26, Family: state.IPv4},
		Real:    state.RealKey{Addr: netip.MustParseAddr("192.168.1.20"), Port: 0},
	}
)

// scrape fetches /metrics from the real server and returns the
// lbx_ sample lines (no comments, no go_/process_ series).
func scrape(t *testing.T, m *Registry) map[string]bool {
	t.Helper()
	resp, err := http.Get("http://" + startServer(t, m) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %s\n%s", resp.Status, body)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "lbx_") {
			lines[l] = true
		}
	}
	return lines
}

func TestExposition(t *testing.T) {
	const rl = `local_address="10.0.0.1",local_mark="",local_port="80",proto="TCP",remote_address="192.168.1.11",remote_port="8080"`
	tests := []struct {
		name string
		do   func(m *Registry)
		want []string
		not  []string // line prefixes that must be absent
	}{
		{
			name: "vrrp state and priority",
			do: func(m *Registry) {
				m.SetVRRP(vi1, "MASTER", 150, 150)
				m.SetVRRP(vi2, "BACKUP", 80, 100)
			},
			want: []string{
				`lbx_vrrp_state{iname="VI_1",intf="eth0",vrid="51"} 2`,
				`lbx_vrrp_priority{iname="VI_1",intf="eth0",vrid="51"} 150`,
				`lbx_vrrp_configured_priority{iname="VI_1",intf="eth0",vrid="51"} 150`,
				`lbx_vrrp_configured_priority{iname="VI_2",intf="eth1",vrid="52"} 100`,
				`lbx_vrrp_state{iname="VI_2",intf="eth1",vrid="52"} 1`,
				`lbx_vrrp_priority{iname="VI_2",intf="eth1",vrid="52"} 80`,
			},
		},
		{
			name: "state numbering",
			do: func(m *Registry) {
				m.SetVRRP(VRRP{"a", "e", 1}, "INIT", 0, 100)
				m.SetVRRP(VRRP{"b", "e", 2}, "fault", 0, 100)
				m.SetVRRP(VRRP{"c", "e", 3}, "STOP", 0, 100)
			},
			want: []string{
				`lbx_vrrp_state{iname="a",intf="e",vrid="1"} 0`,
				`lbx_vrrp_state{iname="b",intf="e",vrid="2"} 3`,
				`lbx_vrrp_state{iname="c",intf="e",vrid="3"} -1`,
			},
		},
		{
			name: "transitions and adverts",
			do: func(m *Registry) {
				m.Transition(vi1, "BACKUP")
				m.Transition(vi1, "MASTER")
				m.Transition(vi1, "master")
				for range 3 {
					m.AdvertSent(vi1)
				}
				m.AdvertReceived(vi1)
				m.AdvertInvalid(vi1, "auth")
				m.AdvertInvalid(VRRP{Interface: "eth0", VRID: 99}, "vrid")
			},
			want: []string{
				`lbx_vrrp_transitions_total{iname="VI_1",intf="eth0",to="BACKUP",vrid="51"} 1`,
				`lbx_vrrp_transitions_total{iname="VI_1",intf="eth0",to="MASTER",vrid="51"} 2`,
				`lbx_vrrp_adverts_sent_total{iname="VI_1",intf="eth0",vrid="51"} 3`,
				`lbx_vrrp_adverts_received_total{iname="VI_1",intf="eth0",vrid="51"} 1`,
				`lbx_vrrp_adverts_invalid_total{iname="VI_1",intf="eth0",reason="auth",vrid="51"} 1`,
				`lbx_vrrp_adverts_invalid_total{iname="",intf="eth0",reason="vrid",vrid="99"} 1`,
			},
		},
		{
			name: "advert counts from snapshots advance by difference",
			do: func(m *Registry) {
				m.SetAdvertCounts(vi1, AdvertCounts{Sent: 10, Received: 4, Invalid: map[string]uint64{"ttl": 2}})
				m.SetAdvertCounts(vi1, AdvertCounts{Sent: 25, Received: 4, PriorityZeroReceived: 1, Invalid: map[string]uint64{"ttl": 3, "checksum": 1}})
			},
			want: []string{
				`lbx_vrrp_adverts_sent_total{iname="VI_1",intf="eth0",vrid="51"} 25`,
				`lbx_vrrp_adverts_received_total{iname="VI_1",intf="eth0",vrid="51"} 4`,
				`lbx_vrrp_priority_zero_sent_total{iname="VI_1",intf="eth0",vrid="51"} 0`,
				`lbx_vrrp_priority_zero_received_total{iname="VI_1",intf="eth0",vrid="51"} 1`,
				`lbx_vrrp_adverts_invalid_total{iname="VI_1",intf="eth0",reason="ttl",vrid="51"} 3`,
				`lbx_vrrp_adverts_invalid_total{iname="VI_1",intf="eth0",reason="checksum",vrid="51"} 1`,
			},
		},
		{
			name: "per instance, and per link for packets of no instance",
			do: func(m *Registry) {
				m.SetAdvertCounts(vi1, AdvertCounts{Sent: 5, Invalid: map[string]uint64{"auth": 2}})
				m.SetAdvertCounts(vi2, AdvertCounts{Sent: 7, PriorityZeroSent: 1})
				m.SetAdvertCounts(VRRP{Interface: "eth0", VRID: 99}, AdvertCounts{Invalid: map[string]uint64{"vrid": 4}})
				m.SetAdvertCounts(VRRP{Interface: "eth0"}, AdvertCounts{Invalid: map[string]uint64{"truncated": 1}})
			},
			want: []string{
				`lbx_vrrp_adverts_sent_total{iname="VI_1",intf="eth0",vrid="51"} 5`,
				`lbx_vrrp_adverts_invalid_total{iname="VI_1",intf="eth0",reason="auth",vrid="51"} 2`,
				`lbx_vrrp_adverts_sent_total{iname="VI_2",intf="eth1",vrid="52"} 7`,
				`lbx_vrrp_priority_zero_sent_total{iname="VI_2",intf="eth1",vrid="52"} 1`,
				`lbx_vrrp_adverts_invalid_total{iname="",intf="eth0",reason="vrid",vrid="99"} 4`,
				`lbx_vrrp_adverts_invalid_total{iname="",intf="eth0",reason="truncated",vrid="0"} 1`,
			},
			not: []string{`lbx_vrrp_adverts_sent_total{iname=""`, `lbx_vrrp_adverts_received_total{iname=""`},
		},
		{
			name: "snapshot source restarted: counter reset",
			do: func(m *Registry) {
				m.SetAdvertCounts(vi1, AdvertCounts{Sent: 10})
				m.SetAdvertCounts(vi1, AdvertCounts{Sent: 3})
			},
			want: []string{`lbx_vrrp_adverts_sent_total{iname="VI_1",intf="eth0",vrid="51"} 3`},
		},
		{
			name: "checker per check",
			do: func(m *Registry) {
				m.CheckResult(web1, true, 1500*time.Microsecond, true)
				m.CheckResult(web1, true, 3*time.Second, false)
				m.CheckResult(web1, false, 250*time.Millisecond, false)
			},
			want: []string{
				`lbx_checker_up{` + rl + `} 0`,
				`lbx_checker_latency_seconds{` + rl + `} 0.25`,
				`lbx_checker_checks_total{` + rl + `,result="success"} 1`,
				`lbx_checker_checks_total{` + rl + `,result="failure"} 2`,
			},
		},
		{
			name: "checker from snapshot; ipv6 and fwmark labels as node_exporter",
			do: func(m *Registry) {
				m.SetChecker(dns6, true, 2*time.Millisecond, 10, 1)
				m.SetChecker(dns6, true, 4*time.Millisecond, 12, 2)
				m.SetChecker(fwm, false, 0, 5, 5)
			},
			want: []string{
				`lbx_checker_up{local_address="2001:db8::53",local_mark="",local_port="53",proto="UDP",remote_address="2001:db8::1:1",remote_port="53"} 1`,
				`lbx_checker_latency_seconds{local_address="2001:db8::53",local_mark="",local_port="53",proto="UDP",remote_address="2001:db8::1:1",remote_port="53"} 0.004`,
				`lbx_checker_checks_total{local_address="2001:db8::53",local_mark="",local_port="53",proto="UDP",remote_address="2001:db8::1:1",remote_port="53",result="success"} 10`,
				`lbx_checker_checks_total{local_address="2001:db8::53",local_mark="",local_port="53",proto="UDP",remote_address="2001:db8::1:1",remote_port="53",result="failure"} 2`,
				`lbx_checker_up{local_address="",local_mark="0000001A",local_port="0",proto="FWM",remote_address="192.168.1.20",remote_port="0"} 0`,
				`lbx_checker_checks_total{local_address="",local_mark="0000001A",local_port="0",proto="FWM",remote_address="192.168.1.20",remote_port="0",result="success"} 0`,
				`lbx_checker_checks_total{local_address="",local_mark="0000001A",local_port="0",proto="FWM",remote_address="192.168.1.20",remote_port="0",result="failure"} 5`,
			},
		},
		{
			name: "reconciles",
			do: func(m *Registry) {
				m.Reconcile(2*time.Millisecond, nil, 0, nil)
				m.Reconcile(30*time.Millisecond, nil, 3, map[string]int{"real": 1})
				m.Reconcile(40*time.Millisecond, nil, 2, map[string]int{"real": 1, "address": 1, "service": 0})
				m.Reconcile(5*time.Second, errors.New("netlink: EBUSY"), 1, nil)
			},
			want: []string{
				`lbx_reconciles_total{result="noop"} 1`,
				`lbx_reconciles_total{result="changed"} 2`,
				`lbx_reconciles_total{result="error"} 1`,
				`lbx_kernel_writes_total 6`,
				`lbx_drift_repaired_total{kind="real"} 2`,
				`lbx_drift_repaired_total{kind="address"} 1`,
				`lbx_reconcile_duration_seconds_count 4`,
				`lbx_reconcile_duration_seconds_sum 5.072`,
				`lbx_reconcile_duration_seconds_bucket{le="0.0025"} 1`,
				`lbx_reconcile_duration_seconds_bucket{le="0.05"} 3`,
				`lbx_reconcile_duration_seconds_bucket{le="2.5"} 3`,
				`lbx_reconcile_duration_seconds_bucket{le="5"} 4`,
				`lbx_reconcile_duration_seconds_bucket{le="+Inf"} 4`,
			},
			not: []string{`lbx_drift_repaired_total{kind="service"}`},
		},
		{
			name: "fresh registry: zeroed reconcile series, no vrrp or checker series",
			do:   func(m *Registry) {},
			want: []string{
				`lbx_reconciles_total{result="noop"} 0`,
				`lbx_reconciles_total{result="error"} 0`,
				`lbx_kernel_writes_total 0`,
				`lbx_reconcile_duration_seconds_count 0`,
				`lbx_checker_process_restarts_total 0`,
				`lbx_reloads_total{result="success"} 0`,
				`lbx_reloads_total{result="failure"} 0`,
				`lbx_last_reload_successful 1`,
			},
			not: []string{"lbx_vrrp_", "lbx_checker_up", "lbx_checker_latency", "lbx_checker_checks", "lbx_drift_"},
		},
		{
			name: "become master: zero from the first sight of an instance, counts entries into MASTER",
			do: func(m *Registry) {
				m.SetVRRP(vi1, "BACKUP", 100, 100)
				m.SetVRRP(vi2, "INIT", 100, 100)
				m.Transition(vi2, "BACKUP")
				m.Transition(vi2, "MASTER")
				m.Transition(vi2, "FAULT")
				m.Transition(vi2, "master")
				m.AdvertInvalid(VRRP{Interface: "eth0", VRID: 99}, "vrid")
			},
			want: []string{
				`lbx_vrrp_become_master_total{iname="VI_1",intf="eth0",vrid="51"} 0`,
				`lbx_vrrp_become_master_total{iname="VI_2",intf="eth1",vrid="52"} 2`,
			},
			not: []string{`lbx_vrrp_become_master_total{iname=""`},
		},
		{
			name: "addresses: one series per address, held or not, replaced by the next call",
			do: func(m *Registry) {
				m.SetAddresses(vi1, []Address{{IP: netip.MustParseAddr("10.0.0.100")}, {IP: netip.MustParseAddr("10.0.0.101")}})
				m.SetAddresses(vi1, []Address{{IP: netip.MustParseAddr("10.0.0.100"), Held: true}, {IP: netip.MustParseAddr("2001:db8::100"), Held: true}})
				m.SetAddresses(vi2, []Address{{IP: netip.MustParseAddr("10.0.1.100")}})
			},
			want: []string{
				`lbx_vrrp_address{iname="VI_1",intf="eth0",ip_address="10.0.0.100",vrid="51"} 1`,
				`lbx_vrrp_address{iname="VI_1",intf="eth0",ip_address="2001:db8::100",vrid="51"} 1`,
				`lbx_vrrp_address{iname="VI_2",intf="eth1",ip_address="10.0.1.100",vrid="52"} 0`,
			},
			not: []string{`lbx_vrrp_address{iname="VI_1",intf="eth0",ip_address="10.0.0.101"`},
		},
		{
			name: "tracked scripts and interfaces, replaced by the next call",
			do: func(m *Registry) {
				m.SetTracked(map[string]bool{"chk_nginx": true, "chk_old": true}, map[string]bool{"eth0": true, "eth1": true})
				m.SetTracked(map[string]bool{"chk_nginx": false, "chk_dns": true}, map[string]bool{"eth0": true, "eth1": false})
			},
			want: []string{
				`lbx_vrrp_script_up{script="chk_nginx"} 0`,
				`lbx_vrrp_script_up{script="chk_dns"} 1`,
				`lbx_vrrp_interface_up{interface="eth0"} 1`,
				`lbx_vrrp_interface_up{interface="eth1"} 0`,
			},
			not: []string{`lbx_vrrp_script_up{script="chk_old"}`},
		},
		{
			name: "reloads: counted by result, the last one's outcome and time",
			do: func(m *Registry) {
				m.Reload(true, time.Unix(1700000000, 0))
				m.Reload(false, time.Unix(1700000100, 500e6))
			},
			want: []string{
				`lbx_reloads_total{result="success"} 1`,
				`lbx_reloads_total{result="failure"} 1`,
				`lbx_last_reload_successful 0`,
				`lbx_last_reload_timestamp_seconds 1.7000001005e+09`,
			},
		},
		{
			name: "a good reload after a failed one",
			do: func(m *Registry) {
				m.Reload(false, time.Unix(1700000000, 0))
				m.Reload(true, time.Unix(1700000001, 0))
			},
			want: []string{`lbx_last_reload_successful 1`, `lbx_reloads_total{result="failure"} 1`, `lbx_reloads_total{result="success"} 1`},
		},
		{
			name: "build info: one series",
			do: func(m *Registry) {
				m.SetBuildInfo("v0.9.0", "", "go1.25")
				m.SetBuildInfo("v1.0.0", "23cc433", "go1.26.0")
			},
			want: []string{`lbx_build_info{goversion="go1.26.0",revision="23cc433",version="v1.0.0"} 1`},
			not:  []string{`lbx_build_info{goversion="go1.25"`},
		},
		{
			name: "checker process restarts: the client's count, never backwards",
			do: func(m *Registry) {
				m.SetCheckerRestarts(2)
				m.SetCheckerRestarts(1)
				m.SetCheckerRestarts(3)
			},
			want: []string{`lbx_checker_process_restarts_total 3`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			tc.do(m)
			got := scrape(t, m)
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("missing line:\n  %s", w)
				}
			}
			for _, n := range tc.not {
				for l := range got {
					if strings.HasPrefix(l, n) {
						t.Errorf("unexpected line: %s", l)
					}
				}
			}
			if t.Failed() {
				for l := range got {
					t.Logf("got: %s", l)
				}
			}
		})
	}
}

// TestRetainRemovesStaleSeries: an instance and a real server removed by a
// reload leave no series behind; the ones kept keep their counters.
func TestRetainRemovesStaleSeries(t *testing.T) {
	m := New()
	m.SetVRRP(vi1, "MASTER", 150, 150)
	m.SetVRRP(vi2, "BACKUP", 100, 100)
	m.SetAddresses(vi1, []Address{{IP: netip.MustParseAddr("10.0.0.100"), Held: true}})
	m.SetAddresses(vi2, []Address{{IP: netip.MustParseAddr("10.0.1.100")}})
	m.Transition(vi2, "BACKUP")
	m.AdvertInvalid(vi2, "auth")
	m.SetAdvertCounts(vi2, AdvertCounts{Sent: 7, Received: 7})
	m.SetAdvertCounts(VRRP{Interface: "eth0", VRID: 9}, AdvertCounts{Invalid: map[string]uint64{"vrid": 1}})
	m.SetAdvertCounts(VRRP{Interface: "eth9", VRID: 9}, AdvertCounts{Invalid: map[string]uint64{"vrid": 1}})
	m.AdvertSent(vi1)
	m.CheckResult(web1, true, time.Millisecond, true)
	m.SetChecker(web2, true, time.Millisecond, 9, 0)

	m.Retain([]VRRP{vi1}, []Real{web1})
	got := scrape(t, m)
	for l := range got {
		if strings.Contains(l, `iname="VI_2"`) || strings.Contains(l, `remote_address="192.168.1.12"`) || strings.Contains(l, `intf="eth9"`) {
			t.Errorf("stale series after reload: %s", l)
		}
	}
	for _, w := range []string{
		`lbx_vrrp_state{iname="VI_1",intf="eth0",vrid="51"} 2`,
		`lbx_vrrp_adverts_sent_total{iname="VI_1",intf="eth0",vrid="51"} 1`,
		`lbx_vrrp_address{iname="VI_1",intf="eth0",ip_address="10.0.0.100",vrid="51"} 1`,
		`lbx_vrrp_become_master_total{iname="VI_1",intf="eth0",vrid="51"} 0`,
		// Packets of no instance on an interface that still has one.
		`lbx_vrrp_adverts_invalid_total{iname="",intf="eth0",reason="vrid",vrid="9"} 1`,
		`lbx_checker_up{local_address="10.0.0.1",local_mark="",local_port="80",proto="TCP",remote_address="192.168.1.11",remote_port="8080"} 1`,
	} {
		if !got[w] {
			t.Errorf("kept series missing: %s", w)
		}
	}
	// A real server that comes back after removal starts from zero, not
	// from its pre-removal snapshot (which would make the counter jump).
	m.SetChecker(web2, true, time.Millisecond, 2, 0)
	got = scrape(t, m)
	w := `lbx_checker_checks_total{local_address="10.0.0.1",local_mark="",local_port="80",proto="TCP",remote_address="192.168.1.12",remote_port="8080",result="success"} 2`
	if !got[w] {
		t.Errorf("re-added real server: missing %s", w)
	}
}

// A nil registry (metrics off) accepts every call.
func TestNilRegistry(t *testing.T) {
	var m *Registry
	m.SetVRRP(vi1, "MASTER", 1, 100)
	m.Transition(vi1, "MASTER")
	m.AdvertSent(vi1)
	m.AdvertReceived(vi1)
	m.AdvertInvalid(vi1, "ttl")
	m.SetAdvertCounts(vi1, AdvertCounts{Sent: 1, Received: 1})
	m.CheckResult(web1, true, 0, true)
	m.SetChecker(web1, true, 0, 1, 0)
	m.Reconcile(0, nil, 0, nil)
	m.SetCheckerRestarts(1)
	m.SetAddresses(vi1, []Address{{IP: netip.MustParseAddr("10.0.0.1")}})
	m.SetTracked(map[string]bool{"s": true}, nil)
	m.SetBuildInfo("v", "r", "go")
	m.Reload(false, time.Now())
	m.Retain(nil, nil)
	var b strings.Builder
	if err := m.WriteText(&b); err != nil || b.Len() != 0 {
		t.Fatalf("nil registry wrote %q, %v; want nothing", b.String(), err)
	}
}

func TestServe(t *testing.T) {
	m := New()
	m.SetVRRP(vi1, "MASTER", 150, 150)
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, m) }()
	url := "http://" + ln.Addr().String()

	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `lbx_vrrp_state{iname="VI_1",intf="eth0",vrid="51"} 2`+"\n") {
		t.Errorf("/metrics lacks the state line:\n%.2000s", body)
	}
	if !strings.Contains(string(body), "\nprocess_resident_memory_bytes ") {
		t.Errorf("/metrics lacks the process collector")
	}
	resp, err = http.Get(url + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/nope: %s, want 404", resp.Status)
	}

	// A taken port is an error at Listen, naming the flag.
	if _, err := Listen(ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("Listen on a taken port: %v", err)
	}
	if err := Serve(ctx, "", m); err != nil {
		t.Errorf(`Serve("") = %v, want nil (off)`, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeListener after cancel: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("ServeListener did not return after cancel")
	}
	if _, err := http.Get(url + "/metrics"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

// BenchmarkScrape500: one scrape with 500 checked real servers (the
// benchmark configuration of issue 6) and 2 VRRP instances.
func BenchmarkScrape500(b *testing.B) {
	m := New()
	m.SetVRRP(vi1, "MASTER", 150, 150)
	m.SetVRRP(vi2, "BACKUP", 100, 100)
	for i := range 500 {
		r := web1
		r.Real.Addr = netip.AddrFrom4([4]byte{192, 168, byte(1 + i/250), byte(1 + i%250)})
		m.SetChecker(r, true, time.Millisecond, uint64(i), 0)
	}
	s := newServer(m)
	b.ResetTimer()
	var n int
	for b.Loop() {
		_, _, body := s.route("/metrics")
		n = len(body)
	}
	b.ReportMetric(float64(n), "bytes/scrape")
}

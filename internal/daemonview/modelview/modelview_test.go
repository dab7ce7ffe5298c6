package modelview

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/daemonview"
	"github.com/lbx-dev/lbx/model"
)

const base = `version: 1
global: {script_user: root}
scripts:
  chk: {script: /bin/true, interval: 2s, weight: -20}
  spare: {script: /bin/false}
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 9
    priority: 150
    virtual_addresses: [{address: 192.0.2.50/24}]
    track_scripts: [{name: chk}]
virtual_servers:
  - address: 192.0.2.50
    port: 80
    protocol: tcp
    delay_loop: 5s
    real_servers:
      - address: 10.1.0.2
        weight: 1
        checks: [{type: tcp}]
      - address: 10.1.0.3
        weight: 1
  - address: 192.0.2.50
    port: 443
    protocol: tcp
    virtualhost: www.example.com
    real_servers:
      - address: 10.1.0.2
        checks: [{type: http_get, urls: [{path: /health}]}]
`

func load(t *testing.T, text string) []daemonview.Object {
	t.Helper()
	m, err := model.Parse([]byte(text), "lbx.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return Of(m)
}

// viaJSON is a view as a client of the status socket decodes it.
func viaJSON(t *testing.T, v []daemonview.Object) []daemonview.Object {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out []daemonview.Object
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// edit is base with each old text replaced by its new one, in order (each
// old text must be there: a row that edits nothing would test nothing).
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	s := base
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("base has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// diffText is a diff as "action address fields" lines.
func diffText(changes []daemonview.Change) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Action+" "+c.Address+" "+strings.Join(c.Fields, ","))
	}
	return out
}

func TestOfNamesEveryDaemonObject(t *testing.T) {
	var got []string
	for _, o := range load(t, edit(t, "delay_loop: 5s", "delay_loop: 5s\n    quorum: {min: 2}")) {
		got = append(got, o.Address)
	}
	want := "real_server_checks.tcp/192.0.2.50:443/10.1.0.2:443 real_server_checks.tcp/192.0.2.50:80/10.1.0.2:80 virtual_server_health.tcp/192.0.2.50:80 vrrp_instance.VI_1 vrrp_script.chk watch_global.global"
	if strings.Join(got, " ") != want {
		t.Fatalf("view:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestOfRunsAlike: pairs of models that the daemon runs identically —
// a default left out or written, a value inherited or written where it
// takes effect — give equal views: a reload would change nothing, and
// plan must say so.
func TestOfRunsAlike(t *testing.T) {
	tests := []struct {
		name  string
		from  []string // old, new, ... applied to base for the running model
		edits []string // and for the second model
	}{
		{"advert_int left out or 1s", nil, []string{"priority: 150", "priority: 150\n    advert_int: 1s"}},
		{"advert_int as a number", nil, []string{"priority: 150", "priority: 150\n    advert_int: 1"}},
		{"state and version written", nil, []string{"priority: 150", "priority: 150\n    state: BACKUP\n    version: 2"}},
		{"vrrp_version on the global", nil, []string{"global: {script_user: root}", "global: {script_user: root, vrrp_version: 2}"}},
		{"garp settings inherited or written", nil, []string{
			"global: {script_user: root}", "global: {script_user: root, vrrp_garp_master_delay: 5s, vrrp_garp_master_repeat: 5}",
			"priority: 150", "priority: 150\n    garp_master_delay: 5s\n    garp_master_refresh_repeat: 1\n    preempt_delay: 0s"}},
		{"virtual address on the instance's interface", nil, []string{"{address: 192.0.2.50/24}", "{address: 192.0.2.50/24, interface: eth0, scope: global}"}},
		{"track weight on the script or the track", nil, []string{"track_scripts: [{name: chk}]", "track_scripts: [{name: chk, weight: -20}]"}},
		{"script defaults written", nil, []string{"interval: 2s, weight: -20}", "interval: 2s, timeout: 2s, rise: 1, fall: 1, weight: -20, user: root}"}},
		{"an untracked script", nil, []string{"spare: {script: /bin/false}", "spare: {script: /bin/sh -c 'exit 3'}"}},
		{"delay_loop inherited or on the check", nil, []string{"checks: [{type: tcp}]", "checks: [{type: tcp, delay_loop: 5s}]"}},
		{"check defaults written", nil, []string{"checks: [{type: tcp}]",
			"checks: [{type: tcp, connect_ip: 10.1.0.2, connect_port: 80, connect_timeout: 5s, retry: 1, delay_before_retry: 1s, warmup: 5s}]"}},
		{"http defaults written", nil, []string{"checks: [{type: http_get, urls: [{path: /health}]}]",
			"checks: [{type: http_get, delay_loop: 60s, virtualhost: www.example.com, http_protocol: '1.0', delay_before_retry: 3s, urls: [{path: /health, status_codes: [200-299]}]}]"}},
		{"inhibit_on_failure on the service or the server", nil, []string{"delay_loop: 5s", "delay_loop: 5s\n    inhibit_on_failure: true",
			"checks: [{type: tcp}]", "checks: [{type: tcp}]\n        inhibit_on_failure: false"}},
		{"quorum 1 written", nil, []string{"delay_loop: 5s", "delay_loop: 5s\n    quorum: {min: 1}"}},
		{"global defaults written", nil, []string{"global: {script_user: root}", "global: {script_user: root, resync_interval: 10s, ipvs_on_stop: keep, enable_script_security: false}"}},
		{"a kernel-only setting", nil, []string{"weight: 1\n        checks", "weight: 5\n        checks"}},
		// What the checker fills in as it builds a check (check.build).
		{"misc timeout left out or the delay_loop", []string{"checks: [{type: tcp}]", "checks: [{type: misc, path: /bin/true}]"},
			[]string{"checks: [{type: tcp}]", "checks: [{type: misc, path: /bin/true, timeout: 5s, retry: 0, user: root}]"}},
		{"dns query left out or written", []string{"checks: [{type: tcp}]", "checks: [{type: dns}]"},
			[]string{"checks: [{type: tcp}]", "checks: [{type: dns, dns_type: SOA, dns_name: ., retry: 3, delay_before_retry: 5s}]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			running := viaJSON(t, load(t, edit(t, tc.from...)))
			if got := diffText(daemonview.Diff(running, load(t, edit(t, tc.edits...)))); len(got) > 0 {
				t.Fatalf("models that run alike differ:\n%q", got)
			}
		})
	}
}

// TestOfRunsDifferently: a change to what the daemon does shows, on the
// object where it takes effect, also when it is made where the value is
// inherited from.
func TestOfRunsDifferently(t *testing.T) {
	tests := []struct {
		name  string
		edits []string
		want  []string // "action address fields"
	}{
		{"priority", []string{"priority: 150", "priority: 100"}, []string{"update vrrp_instance.VI_1 priority"}},
		{"priority to its default", []string{"    priority: 150\n", ""}, []string{"update vrrp_instance.VI_1 priority"}},
		{"advert interval", []string{"priority: 150", "priority: 150\n    advert_int: 2"}, []string{"update vrrp_instance.VI_1 advert_int"}},
		{"an inherited garp delay", []string{"global: {script_user: root}", "global: {script_user: root, vrrp_garp_master_delay: 2s}"},
			[]string{"update vrrp_instance.VI_1 garp_master_delay"}},
		{"a tracked script's weight", []string{"weight: -20}", "weight: -30}"}, []string{"update vrrp_instance.VI_1 track_scripts"}},
		{"a tracked script's interval", []string{"interval: 2s", "interval: 3s"}, []string{"update vrrp_script.chk interval,timeout"}},
		{"an inherited check interval", []string{"delay_loop: 5s", "delay_loop: 2s"},
			[]string{"update real_server_checks.tcp/192.0.2.50:80/10.1.0.2:80 checks"}},
		{"an inherited virtualhost", []string{"virtualhost: www.example.com", "virtualhost: api.example.com"},
			[]string{"update real_server_checks.tcp/192.0.2.50:443/10.1.0.2:443 checks"}},
		{"alpha", []string{"delay_loop: 5s", "delay_loop: 5s\n    alpha: true"},
			[]string{"update real_server_checks.tcp/192.0.2.50:80/10.1.0.2:80 alpha"}},
		{"quorum", []string{"delay_loop: 5s", "delay_loop: 5s\n    quorum: {min: 2}"},
			[]string{"create virtual_server_health.tcp/192.0.2.50:80 "}},
		{"check added", []string{"      - address: 10.1.0.3\n        weight: 1\n", "      - address: 10.1.0.3\n        weight: 1\n        checks: [{type: tcp}]\n"},
			[]string{"create real_server_checks.tcp/192.0.2.50:80/10.1.0.3:80 "}},
		{"script no longer tracked", []string{"    track_scripts: [{name: chk}]\n", ""},
			[]string{"update vrrp_instance.VI_1 track_scripts", "delete vrrp_script.chk "}},
		{"resync interval", []string{"global: {script_user: root}", "global: {script_user: root, resync_interval: 5s}"},
			[]string{"update watch_global.global resync_interval"}},
	}
	running := viaJSON(t, load(t, base))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := diffText(daemonview.Diff(running, load(t, edit(t, tc.edits...))))
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("diff:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestWriteText(t *testing.T) {
	next := load(t, edit(t, "priority: 150", "priority: 100"))
	var b strings.Builder
	if err := daemonview.WriteText(&b, "Daemon:", daemonview.Diff(viaJSON(t, load(t, base)), next)); err != nil {
		t.Fatal(err)
	}
	if want := "Daemon:\n\n   ~ vrrp_instance.VI_1  priority: 150 -> 100\n"; b.String() != want {
		t.Fatalf("text:\n%q\nwant\n%q", b.String(), want)
	}
}

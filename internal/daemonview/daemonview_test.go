package daemonview

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/model"
)

const base = `version: 1
global: {resync_interval: 1s, script_user: root}
scripts:
  chk: {script: /bin/true, interval: 2s, weight: -20}
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 9
    priority: 150
    advert_int: 1
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
        checks: [{type: tcp, connect_timeout: 3s}]
      - address: 10.1.0.3
        weight: 1
`

func load(t *testing.T, text string) []Object {
	t.Helper()
	m, err := model.Parse([]byte(text), "lbx.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return Of(m)
}

// viaJSON is a view as a client of the status socket decodes it.
func viaJSON(t *testing.T, v []Object) []Object {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out []Object
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOfNamesEveryDaemonObject(t *testing.T) {
	var got []string
	for _, o := range load(t, base) {
		got = append(got, o.Address)
	}
	want := "real_server_checks.tcp/192.0.2.50:80/10.1.0.2:80 virtual_server_health.tcp/192.0.2.50:80 vrrp_instance.VI_1 vrrp_script.chk watch_global.global"
	if strings.Join(got, " ") != want {
		t.Fatalf("view:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
		want []string // "action address fields"
	}{
		{"same model", func(s string) string { return s }, nil},
		{"priority", func(s string) string { return strings.Replace(s, "priority: 150", "priority: 100", 1) },
			[]string{"update vrrp_instance.VI_1 priority"}},
		{"advert interval written another way", func(s string) string { return strings.Replace(s, "advert_int: 1", "advert_int: 1s", 1) }, nil},
		{"check interval", func(s string) string { return strings.Replace(s, "delay_loop: 5s", "delay_loop: 2s", 1) },
			[]string{"update virtual_server_health.tcp/192.0.2.50:80 delay_loop"}},
		{"check added", func(s string) string {
			return strings.Replace(s, "      - address: 10.1.0.3\n        weight: 1\n", "      - address: 10.1.0.3\n        weight: 1\n        checks: [{type: tcp}]\n", 1)
		}, []string{"create real_server_checks.tcp/192.0.2.50:80/10.1.0.3:80 "}},
		{"script removed", func(s string) string {
			s = strings.Replace(s, "scripts:\n  chk: {script: /bin/true, interval: 2s, weight: -20}\n", "", 1)
			return strings.Replace(s, "    track_scripts: [{name: chk}]\n", "", 1)
		}, []string{"update vrrp_instance.VI_1 track_scripts", "delete vrrp_script.chk "}},
		{"kernel-only setting", func(s string) string {
			return strings.Replace(s, "weight: 1\n        checks", "weight: 5\n        checks", 1)
		}, nil},
	}
	running := viaJSON(t, load(t, base))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range Diff(running, load(t, tc.edit(base))) {
				got = append(got, c.Action+" "+c.Address+" "+strings.Join(c.Fields, ","))
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("diff:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestWriteText(t *testing.T) {
	next := load(t, strings.Replace(base, "priority: 150", "priority: 100", 1))
	var b strings.Builder
	if err := WriteText(&b, "Daemon:", Diff(viaJSON(t, load(t, base)), next)); err != nil {
		t.Fatal(err)
	}
	if want := "Daemon:\n\n   ~ vrrp_instance.VI_1  priority: 150 -> 100\n"; b.String() != want {
		t.Fatalf("text:\n%q\nwant\n%q", b.String(), want)
	}
}

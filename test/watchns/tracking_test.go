package watchns

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/statusd"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/metrics"
)

var updateScrape = flag.Bool("update-scrape", false, "write ../../metrics/testdata/scrape.prom from TestTrackingMetricsAndStatus's scrape")

// scrapeFile is the saved scrape (see writeScrape).
const scrapeFile = "../../metrics/testdata/scrape.prom"

const trackingModel = `version: 1
global: {resync_interval: 300ms}
addresses:
  - {address: 192.0.2.10/24, interface: d0}
scripts:
  flag: {script: "test -e FLAG", interval: 100ms, weight: -30, fall: 1, rise: 1}
vrrp_instances:
  - {name: VI_T, interface: d0, virtual_router_id: 10, priority: 200, version: 3, advert_int: 0.1,
     track_scripts: [{name: flag}], virtual_addresses: [{address: 192.0.2.60/24}],
     virtual_addresses_excluded: [{address: 192.0.2.61/24}]}
  - {name: VI_G, interface: d0, virtual_router_id: 11, priority: 100, version: 3, advert_int: 0.1,
     track_scripts: [{name: flag, weight: 0}], virtual_addresses: [{address: 192.0.2.70/24}]}
`

// TestTrackingMetricsAndStatus runs lbx watch with two instances that
// track one script: VI_T with weight -30, VI_G with weight 0. When the
// script fails, lbx_vrrp_script_up goes to 0, VI_T's priority drops by 30
// (still MASTER, its addresses held), VI_G goes FAULT and its address
// leaves the kernel (lbx_vrrp_address 1 -> 0), and `lbx status` names the
// script as the cause of both. A refused reload moves
// lbx_last_reload_successful to 0 and counts a failure; a good one that
// removes VI_G deletes its series. (Reloads are SIGHUPs, what `lbx apply`
// sends a running daemon after it checked the file.)
func TestTrackingMetricsAndStatus(t *testing.T) {
	nstest.Require(t)
	bin := lbxBinary(t)
	ns := linkedNamespace(t, "lt")
	dir := t.TempDir()
	flagFile := filepath.Join(dir, "ok")
	os.WriteFile(flagFile, nil, 0o644)
	file := filepath.Join(dir, "lbx.yaml")
	model := strings.ReplaceAll(trackingModel, "FLAG", flagFile)
	os.WriteFile(file, []byte(model), 0o644)
	// The status socket in the test's directory, not /run/lbx: reloads
	// are asked for with SIGHUP, as lbx apply does.
	sock := filepath.Join(dir, "lbx.sock")
	w := startWatch(t, ns, dir, bin, file, "--metrics-addr", "127.0.0.1:9650", "--status-socket", sock, "--checker", "inline")
	body := func() string { b, _ := ns.HTTPGet("http://127.0.0.1:9650/metrics"); return b }
	status := func() *statusd.Status {
		out, err := ns.Try(bin, "status", "-o", "json", "--socket", sock)
		var st statusd.Status
		if err != nil || json.Unmarshal([]byte(out), &st) != nil {
			return nil
		}
		return &st
	}
	addrs := func() string { out, _ := ns.Try("ip", "-o", "addr", "show", "dev", "d0"); return out }
	master, fault := fmt.Sprint(metrics.StateValue("MASTER")), fmt.Sprint(metrics.StateValue("FAULT"))
	const (
		vit = `iname="VI_T",intf="d0",vrid="10"`
		vig = `iname="VI_G",intf="d0",vrid="11"`
	)
	vaddr := func(labels, ip string) string {
		// labels are iname,intf,vrid: ip_address sorts before vrid.
		i := strings.Index(labels, `,vrid=`)
		return `lbx_vrrp_address{` + labels[:i] + `,ip_address="` + ip + `"` + labels[i:] + `}`
	}

	waitSeries(t, body, "both instances MASTER with their addresses held", map[string]string{
		`lbx_vrrp_state{` + vit + `}`:               master,
		`lbx_vrrp_state{` + vig + `}`:               master,
		`lbx_vrrp_priority{` + vit + `}`:            "200",
		vaddr(vit, "192.0.2.60"):                    "1",
		vaddr(vit, "192.0.2.61"):                    "1",
		vaddr(vig, "192.0.2.70"):                    "1",
		`lbx_vrrp_become_master_total{` + vit + `}`: "1",
		`lbx_vrrp_become_master_total{` + vig + `}`: "1",
		`lbx_vrrp_script_up{script="flag"}`:         "1",
		`lbx_vrrp_interface_up{interface="d0"}`:     "1",
		`lbx_reloads_total{result="failure"}`:       "0",
		`lbx_last_reload_successful`:                "1",
	})
	if s := parseSeries(body()); !strings.HasPrefix(firstKey(s, "lbx_build_info{"), `lbx_build_info{goversion="go`) {
		t.Errorf("lbx_build_info: %q", firstKey(s, "lbx_build_info{"))
	}
	if a := addrs(); !strings.Contains(a, "192.0.2.70/24") || !strings.Contains(a, "192.0.2.61/24") {
		t.Fatalf("addresses of both masters not in the kernel: %s", a)
	}

	// The script fails.
	os.Remove(flagFile)
	waitSeries(t, body, "script down: VI_T at 170, VI_G FAULT without its address", map[string]string{
		`lbx_vrrp_script_up{script="flag"}`: "0",
		`lbx_vrrp_priority{` + vit + `}`:    "170",
		`lbx_vrrp_state{` + vit + `}`:       master,
		vaddr(vit, "192.0.2.60"):            "1",
		`lbx_vrrp_state{` + vig + `}`:       fault,
		vaddr(vig, "192.0.2.70"):            "0",
	})
	if a := addrs(); strings.Contains(a, "192.0.2.70/24") || !strings.Contains(a, "192.0.2.60/24") {
		t.Fatalf("after the script failed, the kernel has: %s", a)
	}
	var st *statusd.Status
	testkit.Eventually(t, "lbx status naming the script", settle, func() bool {
		st = status()
		return st != nil && len(st.VRRP) == 2
	})
	for _, in := range st.VRRP {
		var want statusd.Track
		switch in.Name {
		case "VI_T":
			want = statusd.Track{Kind: statusd.TrackScript, Name: "flag", Weight: -30, AppliedWeight: -30}
			if in.Priority != 200 || in.EffectivePriority != 170 || !slices.Equal(in.Addresses, []statusd.Address{{Address: "192.0.2.60", Held: true}, {Address: "192.0.2.61", Held: true, Excluded: true}}) {
				t.Errorf("VI_T in status: %+v", in)
			}
		case "VI_G":
			want = statusd.Track{Kind: statusd.TrackScript, Name: "flag", Fault: true}
			if in.State != "FAULT" || !slices.Equal(in.Addresses, []statusd.Address{{Address: "192.0.2.70"}}) {
				t.Errorf("VI_G in status: %+v", in)
			}
		}
		if !slices.Contains(in.Tracking, want) {
			t.Errorf("%s: tracking %+v lacks %+v", in.Name, in.Tracking, want)
		}
	}
	text, err := ns.Try(bin, "status", "--socket", sock)
	if err != nil || !strings.Contains(text, "script flag failed: -30") || !strings.Contains(text, "script flag failed: FAULT") {
		t.Errorf("lbx status text (err %v):\n%s", err, text)
	}

	// Drift: a static address deleted by hand comes back, and is counted
	// once a resync found nothing to do (a reconcile that also applies a
	// VRRP change is not drift repair).
	noop := parseSeries(body())[`lbx_reconciles_total{result="noop"}`]
	testkit.Eventually(t, "a no-op resync", settle, func() bool { return parseSeries(body())[`lbx_reconciles_total{result="noop"}`] != noop })
	ns.Run(t, "ip", "addr", "del", "192.0.2.10/24", "dev", "d0")
	testkit.Eventually(t, "drift counted", settle, func() bool { return parseSeries(body())[`lbx_drift_repaired_total{kind="address"}`] != "" })

	// The advert counters are copied into metrics once a second.
	testkit.Eventually(t, "advert counters", settle, func() bool { return parseSeries(body())[`lbx_vrrp_adverts_sent_total{`+vit+`}`] != "" })

	// A refused reload: the running model stays, the failure is counted.
	os.WriteFile(file, []byte(model+"bogus: 1\n"), 0o644)
	w.Cmd.Process.Signal(syscall.SIGHUP)
	waitSeries(t, body, "failed reload", map[string]string{
		`lbx_reloads_total{result="failure"}`: "1",
		`lbx_reloads_total{result="success"}`: "0",
		`lbx_last_reload_successful`:          "0",
	})
	if *updateScrape {
		writeScrape(t, body())
	}

	// A good reload that drops VI_G: its series go, the others stay.
	good := model[:strings.Index(model, "  - {name: VI_G")]
	os.WriteFile(file, []byte(good), 0o644)
	w.Cmd.Process.Signal(syscall.SIGHUP)
	waitSeries(t, body, "good reload", map[string]string{
		`lbx_reloads_total{result="success"}`: "1",
		`lbx_last_reload_successful`:          "1",
		`lbx_vrrp_priority{` + vit + `}`:      "170",
	})
	for k := range parseSeries(body()) {
		if strings.Contains(k, `iname="VI_G"`) {
			t.Errorf("series of the removed instance after the reload: %s", k)
		}
	}

	// The script recovers: VI_T's priority is whole again.
	os.WriteFile(flagFile, nil, 0o644)
	waitSeries(t, body, "script up again", map[string]string{
		`lbx_vrrp_script_up{script="flag"}`: "1",
		`lbx_vrrp_priority{` + vit + `}`:    "200",
	})
	w.Stop(t, stopWithin)
}

// parseSeries maps each sample line's series (name and labels) to its
// value.
func parseSeries(body string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(body, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if i := strings.LastIndexByte(l, ' '); i > 0 {
			out[l[:i]] = l[i+1:]
		}
	}
	return out
}

func firstKey(s map[string]string, prefix string) string {
	for k := range s {
		if strings.HasPrefix(k, prefix) {
			return k
		}
	}
	return ""
}

// waitSeries waits until every series in want has its value.
func waitSeries(t *testing.T, body func() string, what string, want map[string]string) {
	t.Helper()
	var got map[string]string
	deadline := time.Now().Add(15 * time.Second)
	for {
		got = parseSeries(body())
		var wrong []string
		for k, v := range want {
			if got[k] != v {
				wrong = append(wrong, fmt.Sprintf("%s = %q, want %s", k, got[k], v))
			}
		}
		if len(wrong) == 0 {
			return
		}
		if time.Now().After(deadline) {
			slices.Sort(wrong)
			t.Fatalf("timed out waiting for %s:\n  %s", what, strings.Join(wrong, "\n  "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeScrape saves the lbx_ families of a scrape (go_ and process_ are
// the client library's) as metrics/testdata/scrape.prom, with a header
// saying how it was made.
func writeScrape(t *testing.T, body string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(scrapeHeader)
	for _, l := range strings.SplitAfter(body, "\n") {
		name := l
		if rest, ok := strings.CutPrefix(l, "# HELP "); ok {
			name = rest
		} else if rest, ok := strings.CutPrefix(l, "# TYPE "); ok {
			name = rest
		}
		if strings.HasPrefix(name, "lbx_") {
			b.WriteString(l)
		}
	}
	if err := os.MkdirAll(filepath.Dir(scrapeFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scrapeFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const scrapeHeader = `# A real scrape of a running lbx watch (its lbx_ families; go_ and process_
# are the runtime's and the process's, left out), taken by test/watchns's
# TestTrackingMetricsAndStatus at its failed-reload step:
#
#   go test ./test/watchns -run TestTrackingMetricsAndStatus -update-scrape
#
# (root, iproute2). Two VRRP instances on one link track one script: VI_T
# (weight -30) is MASTER at priority 170 of 200, VI_G (weight 0) is FAULT
# and does not hold its address; a static address deleted by hand was put
# back (drift); the last reload was refused. Values (timestamps, counts)
# change from run to run, the series and their labels do not: no test
# compares this file, it shows the shapes alert rules and dashboards use.
#
# The host has no IPVS, so there are no virtual servers and no checker
# series; theirs carry node_exporter's node_ipvs_backend_* labels, e.g.
# (from metrics/metrics_test.go):
#   lbx_checker_up{local_address="10.0.0.1",local_mark="",local_port="80",proto="TCP",remote_address="192.168.1.11",remote_port="8080"} 1
#   lbx_checker_latency_seconds{<the same labels>} 0.0015
#   lbx_checker_checks_total{<the same labels>,result="success"} 10
#   lbx_checker_checks_total{<the same labels>,result="failure"} 2
`

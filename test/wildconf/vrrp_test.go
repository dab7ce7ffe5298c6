package wildconf

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/convert"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
)

// vrrpView is what a VRRP instance runs with, as keepalived dumps it and as
// lbx's model says: the same fields on both sides, compared whole.
type vrrpView struct {
	VRID, Version, Priority int
	Advert                  time.Duration
	Preempt                 bool
	PreemptDelay            time.Duration
	VIPs, Excluded          []string
	// Src is the source address the configuration sets (unicast_src_ip or
	// mcast_src_ip), Peers the unicast peers.
	Src   string
	Peers []string
	// TrackInterfaces maps a tracked link to its weight.
	TrackInterfaces map[string]int
}

// keepalivedHides are the directories hidden (empty tmpfs) from the
// keepalived that dumps its configuration: the files come from strangers,
// and with no shell and no commands none of their scripts can run (keepalived
// finds them missing and disables them, which is why tracked scripts are
// not compared).
var keepalivedHides = []string{"/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/etc/keepalived", "/opt"}

// keepalivedDump starts keepalived's VRRP process (`keepalived --vrrp -d`)
// on the file in a namespace holding its interfaces, reads the
// configuration it dumps once started, and stops it. Its mount namespace
// (ip netns exec's own) has keepalivedHides empty and the root file system
// read-only: track_file's init_file cannot create files on the host; only
// its pid files' directory is writable.
func keepalivedDump(t *testing.T, e entry) []string {
	t.Helper()
	ns := netns(t, e.Interfaces)
	dir := t.TempDir()
	for _, tool := range []string{"/usr/sbin/keepalived", "/usr/bin/mount"} {
		copyExecutable(t, tool, filepath.Join(dir, filepath.Base(tool)))
	}
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("for d in %s %s; do %s/mount -t tmpfs lbxwild $d || exit 97; done; %s%s/mount -o remount,bind,ro / || exit 98; exec %s/keepalived --vrrp -n -l -d -D -i %s -p %s/k.pid -r %s/v.pid -f %s",
		strings.Join(keepalivedHides, " "), run, dir, bindPlaced(dir+"/mount", placeTree(t, e)), dir, dir, configID, run, run, e.configPath())
	cmd := exec.Command("ip", "netns", "exec", ns, "/bin/sh", "-c", script)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	lines := readDump(r, 90*time.Second) // 255n.conf's 600 instances take 45 s
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	r.Close()
	return lines
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, data, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
}

var logStamp = regexp.MustCompile(`^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: `)

// readDump collects keepalived's log lines up to the end of the VRRP
// topology in its dump (or keepalived's exit, or the timeout).
func readDump(r io.Reader, timeout time.Duration) []string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- logStamp.ReplaceAllString(sc.Text(), "")
		}
	}()
	var lines []string
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				return lines
			}
			lines = append(lines, l)
			if strings.HasPrefix(l, "------< Interfaces >") || strings.HasPrefix(l, "Stopped Keepalived") || strings.Contains(l, "Can't initialize ipvs") {
				go func() {
					for range ch {
					}
				}()
				return lines
			}
		case <-deadline:
			return lines
		}
	}
}

// parseDump reads the instances of the dump's VRRP topology section:
// "   Key = value" fields, and "     item" lines under "   Header :".
func parseDump(lines []string) map[string]*vrrpView {
	views := map[string]*vrrpView{}
	var in *vrrpView
	topology, header := false, ""
	for _, l := range lines {
		if strings.HasPrefix(l, "------<") {
			topology = strings.HasPrefix(l, "------< VRRP Topology >")
			continue
		}
		if name, ok := strings.CutPrefix(l, " VRRP Instance = "); ok && topology {
			in = &vrrpView{TrackInterfaces: map[string]int{}}
			views[name] = in
			continue
		}
		// Log lines of the running process ("(VI_1) Entering BACKUP
		// STATE") may come between the dump's, which all begin with a space.
		if !topology || in == nil || !strings.HasPrefix(l, " ") {
			continue
		}
		if item, ok := strings.CutPrefix(l, "     "); ok {
			dumpedItem(in, header, strings.Fields(item))
			continue
		}
		header = strings.TrimSpace(l)
		key, val, _ := strings.Cut(header, " = ")
		switch key {
		case "VRRP Version":
			in.Version, _ = strconv.Atoi(val)
		case "Virtual Router ID":
			in.VRID, _ = strconv.Atoi(val)
		case "Priority":
			in.Priority, _ = strconv.Atoi(val)
		case "Advert interval":
			in.Advert = dumpedDuration(val)
		case "Preempt":
			in.Preempt = val == "enabled"
		case "Preempt delay":
			in.PreemptDelay = dumpedDuration(val)
		case "Using src_ip":
			if addr, ok := strings.CutSuffix(val, " (from configuration)"); ok {
				in.Src = addr
			}
		}
	}
	return views
}

// dumpedItem reads one line of a list: an address or a tracked link.
func dumpedItem(in *vrrpView, header string, f []string) {
	switch {
	case len(f) == 0:
	case strings.HasPrefix(header, "Virtual IP ("):
		in.VIPs = append(in.VIPs, dumpedAddr(f[0]))
	case header == "Virtual IP Excluded :":
		in.Excluded = append(in.Excluded, dumpedAddr(f[0]))
	case header == "Unicast Peer :":
		in.Peers = append(in.Peers, f[0])
	case header == "Tracked interfaces :" && len(f) >= 3 && f[1] == "weight":
		in.TrackInterfaces[f[0]], _ = strconv.Atoi(f[2])
	}
}

// dumpedDuration reads "1 sec", "100 milli-sec" and "%g secs".
func dumpedDuration(v string) time.Duration {
	n, unit, _ := strings.Cut(v, " ")
	f, _ := strconv.ParseFloat(n, 64)
	if unit == "milli-sec" {
		return time.Duration(f * float64(time.Millisecond))
	}
	return time.Duration(f * float64(time.Second))
}

// dumpedAddr writes an address as a prefix (keepalived leaves out /32).
func dumpedAddr(s string) string {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.String()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()).String()
	}
	return s
}

// modelView is what lbx runs the instance with (the model's defaults for
// what the model leaves out).
func modelView(m *model.Model, in *model.VRRPInstance) *vrrpView {
	v := &vrrpView{VRID: in.VirtualRouterID, Version: in.EffectiveVersion(m.Global), Priority: model.DefaultPriority,
		Advert: model.DefaultAdvertInt, Preempt: !in.NoPreempt, TrackInterfaces: map[string]int{}}
	if in.Priority != nil {
		v.Priority = *in.Priority
	}
	if in.AdvertInt != nil {
		v.Advert = in.AdvertInt.Duration
	}
	if in.PreemptDelay != nil {
		v.PreemptDelay = in.PreemptDelay.Duration
	}
	for _, a := range in.VirtualAddresses {
		v.VIPs = append(v.VIPs, a.Address.Prefix.String())
	}
	for _, a := range in.VirtualAddressesExcluded {
		v.Excluded = append(v.Excluded, a.Address.Prefix.String())
	}
	switch {
	case in.UnicastSrcIP != nil:
		v.Src = in.UnicastSrcIP.Addr.String()
	case in.McastSrcIP != nil:
		v.Src = in.McastSrcIP.Addr.String()
	}
	for _, p := range in.UnicastPeers {
		v.Peers = append(v.Peers, p.Addr.String())
	}
	for _, ti := range in.TrackInterfaces {
		if ti.Name != in.Interface { // keepalived ignores its own interface there
			v.TrackInterfaces[ti.Name] = ti.Weight
		}
	}
	return v
}

// diffView names the fields that differ.
func diffView(ka, lbx *vrrpView) []string {
	var d []string
	add := func(field string, k, l any) { d = append(d, fmt.Sprintf("%s: keepalived %v, lbx %v", field, k, l)) }
	if ka.VRID != lbx.VRID {
		add("virtual_router_id", ka.VRID, lbx.VRID)
	}
	if ka.Version != lbx.Version {
		add("version", ka.Version, lbx.Version)
	}
	if ka.Priority != lbx.Priority {
		add("priority", ka.Priority, lbx.Priority)
	}
	if ka.Advert != lbx.Advert {
		add("advert_int", ka.Advert, lbx.Advert)
	}
	if ka.Preempt != lbx.Preempt || ka.PreemptDelay != lbx.PreemptDelay {
		add("preempt, preempt_delay", fmt.Sprint(ka.Preempt, ", ", ka.PreemptDelay), fmt.Sprint(lbx.Preempt, ", ", lbx.PreemptDelay))
	}
	if !slices.Equal(sorted(ka.VIPs), sorted(lbx.VIPs)) {
		add("virtual_addresses", ka.VIPs, lbx.VIPs)
	}
	if !slices.Equal(sorted(ka.Excluded), sorted(lbx.Excluded)) {
		add("virtual_addresses_excluded", ka.Excluded, lbx.Excluded)
	}
	if ka.Src != lbx.Src {
		add("source address (unicast_src_ip, mcast_src_ip)", ka.Src, lbx.Src)
	}
	if !slices.Equal(sorted(ka.Peers), sorted(lbx.Peers)) {
		add("unicast_peers", ka.Peers, lbx.Peers)
	}
	if !maps.Equal(ka.TrackInterfaces, lbx.TrackInterfaces) {
		add("track_interfaces", ka.TrackInterfaces, lbx.TrackInterfaces)
	}
	return d
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestWildVRRP: for every file keepalived accepts, lbx converts and that
// has VRRP instances, each converted instance carries what keepalived runs
// it with (keepalived's own dump): router id, version, priority, advert
// interval, preemption, VIPs, source address, unicast peers and tracked
// interfaces' weights; and the
// model has exactly the instances keepalived runs.
func TestWildVRRP(t *testing.T) {
	requireKeepalived(t)
	verdicts := loadVerdicts(t)
	var compared, differ atomic.Int64
	t.Run("files", func(t *testing.T) { // returns once its parallel subtests end
		for _, e := range presentEntries(t) {
			if _, isKnown := known[e.Name]; isKnown || !verdicts[e.Name].Accepted() {
				continue
			}
			t.Run(e.Name, func(t *testing.T) {
				t.Parallel()
				m := convertedModel(t, e)
				if len(m.VRRPInstances) == 0 {
					testkit.Skip(t, "no VRRP instance")
				}
				dump := keepalivedDump(t, e)
				if slices.ContainsFunc(dump, func(l string) bool { return strings.Contains(l, "Can't initialize ipvs") }) {
					testkit.Skip(t, "keepalived's VRRP process needs IPVS here (lvs_sync_daemon), which this host's kernel lacks: the VM tier's")
				}
				ka := parseDump(dump)
				if len(ka) == 0 {
					t.Fatalf("keepalived dumped no VRRP instance; its log ends:\n%s", strings.Join(dump[max(0, len(dump)-10):], "\n"))
				}
				for _, in := range m.VRRPInstances {
					compared.Add(1)
					if d := compareInstance(ka, m, in, knownVRRP[e.Name][in.Name]); d != "" {
						differ.Add(1)
						t.Errorf("instance %s: %s", in.Name, d)
					}
					delete(ka, in.Name)
				}
				for name := range ka {
					t.Errorf("keepalived runs instance %s; the converted model has none", name)
				}
			})
		}
	})
	t.Logf("%d VRRP instances compared with keepalived's dump, %d differ", compared.Load(), differ.Load())
}

// compareInstance says how the model's instance differs from keepalived's.
// A field of a known difference is left out of the comparison.
func compareInstance(ka map[string]*vrrpView, m *model.Model, in *model.VRRPInstance, known knownDiff) string {
	kv, ok := ka[in.Name]
	if !ok {
		return "keepalived runs no such instance"
	}
	d := slices.DeleteFunc(diffView(kv, modelView(m, in)), func(l string) bool {
		return slices.ContainsFunc(known.fields, func(f string) bool { return strings.HasPrefix(l, f+":") })
	})
	if len(d) > 0 {
		return "differs from what keepalived runs:\n  " + strings.Join(d, "\n  ")
	}
	return ""
}

// knownDiff is the fields of a converted instance that differ from
// keepalived's dump because of what the converter reports (a keyword the
// model cannot hold, a correction), and why.
type knownDiff struct {
	fields []string
	why    string
}

// knownVRRP: per file and instance, the difference the conversion reports.
var knownVRRP = map[string]map[string]knownDiff{
	"pqarmitage/keepalived-devel-tools/configs/check_align.conf": {
		"VIt_254": ipvlanSrc,
		"VIt_253": ipvlanSrc,
		"VIt_252": ipvlanSrc,
		"6.1.1.2": sharedVIP,
		"6.1.1.3": sharedVIP,
		"6.1.1.4": sharedVIP,
	},
	"pqarmitage/keepalived-devel-tools/configs/1102.conf": {
		"VI_eth1": allVIPsShared,
	},
}

var (
	ipvlanSrc     = knownDiff{[]string{"source address (unicast_src_ip, mcast_src_ip)"}, "use_ipvlan IFACE ADDRESS: keepalived sends from the ipvlan's address; ipvlan interfaces are not in the model (reported, left out)"}
	sharedVIP     = knownDiff{[]string{"virtual_addresses"}, "fe80::1 on eth1 is also a VIP of instance 6.1.1.1: an lbx address has one owner, the first (a correction)"}
	allVIPsShared = knownDiff{[]string{"virtual_addresses", "virtual_addresses_excluded"}, "every address of VI_eth1 is also VI_eth0's: an lbx address has one owner, the first, and VI_eth1 runs without (a VRRPv2 IPv4 instance can; a correction)"}
)

func convertedModel(t *testing.T, e entry) *model.Model {
	t.Helper()
	res, err := convert.File(e.configPath(), convert.Options{Parse: parseOptions(placeTree(t, e))})
	if err != nil {
		t.Fatalf("does not convert: %v", err)
	}
	out, err := res.YAML(e.Name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Parse(out, e.Name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// dumpExcerpt is keepalived 2.2.7's dump of two instances (from 1460.conf
// and zillow's file, trimmed, a VIP added), with a log line of the running
// process in the middle and the section that follows.
const dumpExcerpt = `------< VRRP Topology >------
 VRRP Instance = testing
   VRRP Version = 2
   Wantstate = BACKUP
   Interface = eth10
   Virtual Router ID = 3
   Priority = 100
   Advert interval = 1 sec
   Accept = enabled
   Preempt = disabled
   Virtual IP (2):
     10.197.20.10 dev eth10 scope global
(testing) Entering BACKUP STATE (init)
     10.197.20.11 dev eth10 scope global
   No sockets allocated
   Tracked interfaces :
     eth0 weight -10
     eth9 weight 0
   Tracked files :
     testing_track_file, weight -1
 VRRP Instance = pub_a
   VRRP Version = 3
   Virtual Router ID = 61
   Priority = 150
   Using src_ip = 192.168.43.2 (from configuration)
   Advert interval = 500 milli-sec
   Preempt = enabled
   Preempt delay = 5 secs
   Virtual IP (1):
     192.168.43.5/24 dev pub_a@ens7f0 scope global
   Virtual IP Excluded :
     192.168.43.221 dev pub_a@ens7f0 scope global
     2001:db8::1 dev pub_a@ens7f0 scope global
   Check unicast src : no
   Unicast Peer :
     192.168.43.3 min_ttl 0 max_ttl 255
     192.168.43.4 min_ttl 0 max_ttl 255
------< VRRP Sync groups >------
 VRRP Sync Group = G1, FAULT
   VRRP member instances :
     pub_a`

// TestParseDump checks the reading of keepalived's dump on a real excerpt.
func TestParseDump(t *testing.T) {
	got := parseDump(strings.Split(dumpExcerpt, "\n"))
	want := map[string]*vrrpView{
		"testing": {VRID: 3, Version: 2, Priority: 100, Advert: time.Second, Preempt: false,
			VIPs: []string{"10.197.20.10/32", "10.197.20.11/32"}, TrackInterfaces: map[string]int{"eth0": -10, "eth9": 0}},
		"pub_a": {VRID: 61, Version: 3, Priority: 150, Advert: 500 * time.Millisecond, Preempt: true, PreemptDelay: 5 * time.Second,
			VIPs: []string{"192.168.43.5/24"}, Excluded: []string{"192.168.43.221/32", "2001:db8::1/128"}, TrackInterfaces: map[string]int{},
			Src: "192.168.43.2", Peers: []string{"192.168.43.3", "192.168.43.4"}},
	}
	if len(got) != len(want) {
		t.Fatalf("instances %v, want %v", slices.Collect(maps.Keys(got)), slices.Collect(maps.Keys(want)))
	}
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s missing", name)
		} else if d := diffView(w, g); len(d) > 0 {
			t.Errorf("%s: %s", name, strings.Join(d, "; "))
		}
	}
}

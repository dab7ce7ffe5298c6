// Package vrrpdump reads keepalived 2.2.7's configuration dump (`keepalived
// --vrrp -d`: its VRRP topology section) and compares each instance with
// the instance lbx's model converts from the same file: what both run the
// instance with, field by field. test/wildconf's TestWildVRRP (host,
// namespaces) and vrrpparity (the e2e VM, where keepalived's VRRP process
// has the IPVS that lvs_sync_daemon needs) share it.
package vrrpdump

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/model"
)

// View is what a VRRP instance runs with, as keepalived dumps it and as
// lbx's model says: the same fields on both sides, compared whole.
type View struct {
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

var logStamp = regexp.MustCompile(`^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: `)

// Unstamp removes the time stamp keepalived's -l log puts before a line.
func Unstamp(line string) string { return logStamp.ReplaceAllString(line, "") }

// End says whether line ends what there is to read of the dump: the
// section after the VRRP topology, keepalived stopping, or its VRRP
// process finding no IPVS (lvs_sync_daemon on a kernel without it).
func End(line string) bool {
	return strings.HasPrefix(line, "------< Interfaces >") || strings.HasPrefix(line, "Stopped Keepalived") || NoIPVS(line)
}

// NoIPVS says whether line is keepalived's VRRP process failing for want
// of IPVS.
func NoIPVS(line string) bool { return strings.Contains(line, "Can't initialize ipvs") }

// Parse reads the instances of the dump's VRRP topology section:
// "   Key = value" fields, and "     item" lines under "   Header :".
func Parse(lines []string) map[string]*View {
	views := map[string]*View{}
	var in *View
	topology, header := false, ""
	for _, l := range lines {
		if strings.HasPrefix(l, "------<") {
			topology = strings.HasPrefix(l, "------< VRRP Topology >")
			continue
		}
		if name, ok := strings.CutPrefix(l, " VRRP Instance = "); ok && topology {
			in = &View{TrackInterfaces: map[string]int{}}
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
func dumpedItem(in *View, header string, f []string) {
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

// ModelView is what lbx runs the instance with (the model's defaults for
// what the model leaves out).
func ModelView(m *model.Model, in *model.VRRPInstance) *View {
	v := &View{VRID: in.VirtualRouterID, Version: in.EffectiveVersion(m.Global), Priority: model.DefaultPriority,
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

// Diff names the fields that differ.
func Diff(ka, lbx *View) []string {
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
	if !slices.Equal(sortedCopy(ka.VIPs), sortedCopy(lbx.VIPs)) {
		add("virtual_addresses", ka.VIPs, lbx.VIPs)
	}
	if !slices.Equal(sortedCopy(ka.Excluded), sortedCopy(lbx.Excluded)) {
		add("virtual_addresses_excluded", ka.Excluded, lbx.Excluded)
	}
	if ka.Src != lbx.Src {
		add("source address (unicast_src_ip, mcast_src_ip)", ka.Src, lbx.Src)
	}
	if !slices.Equal(sortedCopy(ka.Peers), sortedCopy(lbx.Peers)) {
		add("unicast_peers", ka.Peers, lbx.Peers)
	}
	if !maps.Equal(ka.TrackInterfaces, lbx.TrackInterfaces) {
		add("track_interfaces", ka.TrackInterfaces, lbx.TrackInterfaces)
	}
	return d
}

func sortedCopy(s []string) []string { return slices.Sorted(slices.Values(s)) }

// Compare compares each instance of m with the one keepalived runs (ka,
// from Parse) and returns how many it compared and one message per
// problem: an instance that differs, or that only one side runs. known
// names, per instance, the fields left out of the comparison (differences
// the conversion reports); nil for none.
func Compare(ka map[string]*View, m *model.Model, known func(instance string) []string) (compared int, problems []string) {
	seen := map[string]bool{}
	for _, in := range m.VRRPInstances {
		compared++
		seen[in.Name] = true
		kv, ok := ka[in.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("instance %s: keepalived runs no such instance", in.Name))
			continue
		}
		var skip []string
		if known != nil {
			skip = known(in.Name)
		}
		d := slices.DeleteFunc(Diff(kv, ModelView(m, in)), func(l string) bool {
			return slices.ContainsFunc(skip, func(f string) bool { return strings.HasPrefix(l, f+":") })
		})
		if len(d) > 0 {
			problems = append(problems, fmt.Sprintf("instance %s: differs from what keepalived runs:\n  %s", in.Name, strings.Join(d, "\n  ")))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(ka)) {
		if !seen[name] {
			problems = append(problems, fmt.Sprintf("keepalived runs instance %s; the converted model has none", name))
		}
	}
	return compared, problems
}

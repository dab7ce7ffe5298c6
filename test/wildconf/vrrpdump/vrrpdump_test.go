package vrrpdump

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/model"
)

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
	got := Parse(strings.Split(dumpExcerpt, "\n"))
	want := map[string]*View{
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
		} else if d := Diff(w, g); len(d) > 0 {
			t.Errorf("%s: %s", name, strings.Join(d, "; "))
		}
	}
}

// TestCompare compares the excerpt's two instances with models that carry
// them, differ in a field, miss one or have one more.
func TestCompare(t *testing.T) {
	const testing3 = `
  - name: testing
    interface: eth10
    virtual_router_id: 3
    nopreempt: true
    virtual_addresses:
      - address: 10.197.20.10/32
      - address: 10.197.20.11/32
    track_interfaces:
      - name: eth0
        weight: -10
      - name: eth9
        weight: 0
`
	pubA := func(priority string) string {
		return `
  - name: pub_a
    interface: ens7f0
    virtual_router_id: 61
    version: 3
    priority: ` + priority + `
    advert_int: 500ms
    preempt_delay: 5s
    unicast_src_ip: 192.168.43.2
    unicast_peers: [192.168.43.3, 192.168.43.4]
    virtual_addresses:
      - address: 192.168.43.5/24
    virtual_addresses_excluded:
      - address: 192.168.43.221/32
      - address: 2001:db8::1/128
`
	}
	const extra = `
  - name: extra
    interface: eth10
    virtual_router_id: 9
`
	tests := []struct {
		name      string
		instances string
		known     func(string) []string
		compared  int
		problems  []string // each problem's beginning
	}{
		{"same", testing3 + pubA("150"), nil, 2, nil},
		{"priority differs", testing3 + pubA("151"), nil, 2, []string{"instance pub_a: differs from what keepalived runs:\n  priority: keepalived 150, lbx 151"}},
		{"known field left out", testing3 + pubA("151"), func(in string) []string {
			if in == "pub_a" {
				return []string{"priority"}
			}
			return nil
		}, 2, nil},
		{"one missing", testing3, nil, 1, []string{"keepalived runs instance pub_a; the converted model has none"}},
		{"one more", testing3 + pubA("150") + extra, nil, 3, []string{"instance extra: keepalived runs no such instance"}},
	}
	ka := Parse(strings.Split(dumpExcerpt, "\n"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := model.Parse([]byte("version: 1\nvrrp_instances:"+tt.instances), "test.yaml")
			if err != nil {
				t.Fatal(err)
			}
			n, problems := Compare(ka, m, tt.known)
			if n != tt.compared || len(problems) != len(tt.problems) {
				t.Fatalf("compared %d, problems %q; want %d, %d problems", n, problems, tt.compared, len(tt.problems))
			}
			for i, p := range problems {
				if !strings.HasPrefix(p, tt.problems[i]) {
					t.Errorf("problem %q, want it to begin %q", p, tt.problems[i])
				}
			}
		})
	}
}

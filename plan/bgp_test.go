package plan

import (
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/state"
)

// TestBGPNote: a model's BGP announcements are lbx watch's; plan lists
// them in a note and plans the VIP's address only.
func TestBGPNote(t *testing.T) {
	cases := []struct {
		name string
		bgp  string
		want string // the note, "" none
	}{
		{"none", "", ""},
		{"two", `bgp:
  local_as: 65001
  router_id: 10.0.0.1
  peers: [{address: 10.0.0.254, as: 65000}]
  announcements: [{prefix: 192.0.2.10/32}, {prefix: 192.0.2.0/24}]
`, "2 BGP announcement(s) (192.0.2.10/32, 192.0.2.0/24) are made by `lbx watch`"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			y := "version: 1\naddresses: [{address: 192.0.2.10/32, interface: lo}]\n" + tc.bgp
			p := Diff(testkit.Desired(t, y), state.New(), Options{})
			if got := actions(p); strings.Join(got, "|") != "+ address.lo/192.0.2.10" {
				t.Errorf("plan %v, want the address only", got)
			}
			switch {
			case tc.want == "" && len(p.Notes) != 0:
				t.Errorf("notes %v, want none", p.Notes)
			case tc.want != "" && (len(p.Notes) != 1 || !strings.Contains(p.Notes[0], tc.want)):
				t.Errorf("notes %v, want %q", p.Notes, tc.want)
			}
		})
	}
}

// TestBGPKernelRoutes: the kernel announcer's routes are lbx watch's: a
// one-shot plan neither adds them nor deletes a live one (proto 229).
func TestBGPKernelRoutes(t *testing.T) {
	y := `version: 1
addresses: [{address: 192.0.2.10/32, interface: lo}]
bgp:
  announcer: kernel
  kernel: {table: 100}
  announcements: [{prefix: 192.0.2.10/32}]
`
	d := testkit.Desired(t, y)
	if len(d.BGPRoutes) != 1 || d.BGPRoutes[0].Key.Table != 100 || d.BGPRoutes[0].Interface != "lo" {
		t.Fatalf("BGPRoutes %+v, want one route in table 100 via lo", d.BGPRoutes)
	}
	for _, live := range []bool{false, true} {
		l := state.New()
		if live {
			r := d.BGPRoutes[0]
			l.Routes[r.Key] = r
		}
		if got := actions(Diff(d, l, Options{})); strings.Join(got, "|") != "+ address.lo/192.0.2.10" {
			t.Errorf("live route %v: plan %v, want the address only", live, got)
		}
	}
}

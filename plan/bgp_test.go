package plan

import (
	"strings"
	"testing"

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
			p := Diff(compile(t, y), state.New(), Options{})
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

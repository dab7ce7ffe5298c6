package statusd

import (
	"strings"
	"testing"
	"time"
)

func TestWriteTextBGP(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	up := now.Add(-90 * time.Second)
	cases := []struct {
		name string
		bgp  *BGP
		want []string
		not  []string
	}{
		{"none", nil, nil, []string{"BGP"}},
		{"gobgp", &BGP{Announcer: "gobgp", LocalAS: 65001, RouterID: "10.0.0.1",
			Peers:    []BGPPeer{{Address: "10.0.0.254", AS: 65000, State: "established", Up: &up, PrefixesSent: 1, UpdatesSent: 4}, {Address: "10.0.0.253", AS: 65000, State: "active"}},
			Prefixes: []BGPVIP{{Prefix: "192.0.2.10/32", Announced: true, Since: &up, Reason: "3 healthy real server(s), 2 needed"}, {Prefix: "192.0.2.20/32", Reason: "192.0.2.20 is not on lo"}}},
			[]string{"BGP (gobgp, AS 65001, router id 10.0.0.1)", "10.0.0.254  65000  established  1m30s", "10.0.0.253  65000  active       -",
				"192.0.2.10/32  true       1m30s  3 healthy", "192.0.2.20/32  false      -      192.0.2.20 is not on lo"}, nil},
		{"kernel with an error", &BGP{Announcer: "kernel", Error: "lbx-bgp died:\n EOF", Prefixes: []BGPVIP{{Prefix: "192.0.2.10/32"}}},
			[]string{"BGP (kernel)", "last error: lbx-bgp died: EOF"}, []string{"PEER"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteText(&b, &Status{BGP: tc.bgp}, now); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q in:\n%s", w, b.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("unexpected %q in:\n%s", n, b.String())
				}
			}
		})
	}
}

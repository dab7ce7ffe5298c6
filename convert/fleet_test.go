package convert

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/model"
)

// director writes one keepalived.conf of a unicast pair: the values that
// differ per director are arguments.
func director(routerID, state string, prio, vrid int, src, peer, extra string) string {
	return `global_defs {
  router_id ` + routerID + `
}
vrrp_instance VI_1 {
  state ` + state + `
  interface eth0
  virtual_router_id ` + strconv.Itoa(vrid) + `
  priority ` + strconv.Itoa(prio) + `
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass s3cret
  }
  unicast_src_ip ` + src + `
  unicast_peer {
    ` + peer + `
  }
  virtual_ipaddress {
    192.0.2.80/24
  }
}
` + extra
}

// hostConf is one keepalived.conf for both directors, with @host lines.
const hostConf = `global_defs {
@lb1 router_id lb1
@lb2 router_id lb2
}
vrrp_instance VI_1 {
@lb1 state MASTER
@^lb1 state BACKUP
  interface eth0
  virtual_router_id 51
@lb1 priority 150
@lb2 priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass s3cret
  }
@lb1 unicast_src_ip 10.0.0.1
@lb2 unicast_src_ip 10.0.0.2
@lb1 unicast_peer { 10.0.0.2 }
@lb2 unicast_peer { 10.0.0.1 }
  virtual_ipaddress {
    192.0.2.80/24
  }
}
`

const virtualServer = `virtual_server 192.0.2.80 80 {
  lb_algo rr
  lb_kind DR
  real_server 10.0.1.11 80 {
  }
}
`

// TestFleet converts a pair's configurations into one model and checks
// that each node's view is what converting its own file alone gives.
func TestFleet(t *testing.T) {
	lb1 := director("lb1", "MASTER", 150, 51, "10.0.0.1", "10.0.0.2", "")
	lb2 := director("lb2", "BACKUP", 100, 51, "10.0.0.2", "10.0.0.1", "")
	for _, tc := range []struct {
		name  string
		files []string // contents, one per director
		names []string // node names (--node-names)
		// wantYAML: substrings of the merged model; wantErr: of the
		// error (conversion or the merged model's validation).
		wantYAML []string
		wantErr  string
	}{
		{name: "two files named by router_id", files: []string{lb1, lb2},
			wantYAML: []string{"nodes:\n  lb1:\n    global:\n      router_id: lb1\n    vrrp_instances:\n      VI_1:\n        state: MASTER\n        priority: 150\n        unicast_src_ip: 10.0.0.1\n",
				"  lb2:\n    global:\n      router_id: lb2\n    vrrp_instances:\n      VI_1:\n        state: BACKUP\n        priority: 100\n        unicast_src_ip: 10.0.0.2\n",
				"    virtual_router_id: 51\n"}},
		{name: "one file with @host lines", files: []string{hostConf}, names: []string{"lb1", "lb2"},
			wantYAML: []string{"        state: MASTER\n        priority: 150\n        unicast_src_ip: 10.0.0.1\n", "        state: BACKUP\n        priority: 100\n        unicast_src_ip: 10.0.0.2\n"}},
		{name: "names given override router_id", files: []string{lb1, lb2}, names: []string{"a", "b"},
			wantYAML: []string{"nodes:\n  a:\n", "\n  b:\n"}},
		{name: "three directors: peers that are the default are left out", files: []string{
			director("lb1", "MASTER", 150, 51, "10.0.0.1", "10.0.0.2\n    10.0.0.3", ""),
			director("lb2", "BACKUP", 100, 51, "10.0.0.2", "10.0.0.1\n    10.0.0.3", ""),
			director("lb3", "BACKUP", 50, 51, "10.0.0.3", "10.0.0.1\n    10.0.0.2", "")},
			wantYAML: []string{"        unicast_src_ip: 10.0.0.3\n"}},
		{name: "a peer list that misses a director stays per node and is refused", files: []string{
			director("lb1", "MASTER", 150, 51, "10.0.0.1", "10.0.0.2", ""),
			director("lb2", "BACKUP", 100, 51, "10.0.0.2", "10.0.0.1\n    10.0.0.3", ""),
			director("lb3", "BACKUP", 50, 51, "10.0.0.3", "10.0.0.1\n    10.0.0.2", "")},
			wantErr: `nodes.lb1.vrrp_instances.VI_1.unicast_peers: VRRP instance "VI_1": node lb1 does not send to node lb3's unicast_src_ip 10.0.0.3`},
		{name: "mismatched VRID is the directors' disagreement", files: []string{lb1, director("lb2", "BACKUP", 100, 52, "10.0.0.2", "10.0.0.1", "")},
			wantErr: `nodes.lb2.vrrp_instances.VI_1.virtual_router_id: VRRP instance "VI_1": virtual_router_id is 52 on node lb2 but 51 on node lb1`},
		{name: "a shared section that differs", files: []string{lb1 + virtualServer, lb2},
			wantErr: "(node lb2) differ in virtual_servers: a fleet model holds it once for every director"},
		{name: "an instance on one director only", files: []string{lb1, lb2 + "vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 61\n  virtual_ipaddress {\n    192.0.2.81/24\n  }\n}\n"},
			wantErr: "vrrp_instance VI_2 is in"},
		{name: "no name", files: []string{strings.Replace(lb1, "router_id lb1", "", 1), lb2},
			wantErr: "no router_id in global_defs to name this director by; give the node names with --node-names"},
		{name: "one name twice", files: []string{lb1, lb1},
			wantErr: `node name "lb1" is another director's too`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var dirs []Director
			for i, c := range tc.files {
				p := filepath.Join(dir, "keepalived"+strconv.Itoa(i)+".conf")
				if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
				dirs = append(dirs, Director{Path: p})
			}
			if len(tc.names) > 0 && len(dirs) == 1 {
				dirs = nil
				for _, n := range tc.names {
					dirs = append(dirs, Director{Path: filepath.Join(dir, "keepalived0.conf"), Node: n})
				}
			} else {
				for i, n := range tc.names {
					dirs[i].Node = n
				}
			}
			res, err := Fleet(dirs, Options{})
			var out []byte
			if err == nil {
				out, err = res.YAML("fleet")
			}
			var m *model.Model
			if err == nil {
				m, err = Validate(out, "fleet.yaml")
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q\n%s", err, tc.wantErr, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, w := range tc.wantYAML {
				if !strings.Contains(string(out), w) {
					t.Errorf("model lacks %q:\n%s", w, out)
				}
			}
			sameViews(t, m, dirs)
		})
	}
}

// sameViews: each node's view of the fleet model is the model of its own
// configuration converted alone.
func sameViews(t *testing.T, m *model.Model, dirs []Director) {
	t.Helper()
	for _, d := range dirs {
		name := d.Node
		opt := Options{}
		if name != "" {
			opt.Parse.ConfigID = name
		}
		alone, err := File(d.Path, opt)
		if err != nil {
			t.Fatal(err)
		}
		if name == "" {
			name = alone.Model.Global.RouterID
		}
		out, err := alone.YAML(d.Path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Validate(out, "alone")
		if err != nil {
			t.Fatal(err)
		}
		view, err := model.NodeView(m, name)
		if err != nil {
			t.Fatal(err)
		}
		if name != want.Global.RouterID {
			view.Global.RouterID = want.Global.RouterID // --node-names renamed it
		}
		got, _ := model.MarshalYAML(view)
		w, _ := model.MarshalYAML(want)
		if string(got) != string(w) {
			t.Errorf("node %s's view:\n%s\nwant its own file's model:\n%s", name, got, w)
		}
	}
}

package model

import (
	"reflect"
	"strings"
	"testing"
)

// pairBase is a unicast VRRP pair: the instance in the model, what
// differs under nodes (appended by each case).
const pairBase = `version: 1
global:
  router_id: shared
vrrp_instances:
  - name: VI_1
    state: BACKUP
    interface: eth0
    virtual_router_id: 51
    priority: 100
    virtual_addresses:
      - {address: 192.0.2.80/24}
`

const pairNodes = `nodes:
  lb1:
    global: {router_id: lb1}
    vrrp_instances:
      VI_1: {state: MASTER, priority: 150, unicast_src_ip: 10.0.0.1}
  lb2:
    global: {router_id: lb2}
    vrrp_instances:
      VI_1: {unicast_src_ip: 10.0.0.2}
`

func TestNodeView(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, node string
		// want: the view's values, as a function of it.
		state, routerID string
		priority        int
		peers           string
		wantErr         string
	}{
		{name: "model without nodes is its own view", yaml: pairBase, node: "anything",
			state: "BACKUP", routerID: "shared", priority: 100, peers: "[]"},
		{name: "lb1 takes its values, peers default to lb2's source", yaml: pairBase + pairNodes, node: "lb1",
			state: "MASTER", routerID: "lb1", priority: 150, peers: "[10.0.0.2]"},
		{name: "lb2 keeps the model's values where it gives none", yaml: pairBase + pairNodes, node: "lb2",
			state: "BACKUP", routerID: "lb2", priority: 100, peers: "[10.0.0.1]"},
		{name: "explicit peers are kept", node: "lb1",
			yaml:  pairBase + strings.Replace(pairNodes, "unicast_src_ip: 10.0.0.1}", "unicast_src_ip: 10.0.0.1, unicast_peers: [10.0.0.2, 10.0.0.9]}", 1) + "  lb3: {vrrp_instances: {VI_1: {priority: 50, unicast_src_ip: 10.0.0.9}}}\n",
			state: "MASTER", routerID: "lb1", priority: 150, peers: "[10.0.0.2 10.0.0.9]"},
		{name: "unknown node lists the names", yaml: pairBase + pairNodes, node: "lb9",
			wantErr: `no node "lb9" under nodes: (the model names lb1, lb2); give the director's name with --node NAME`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.yaml), "pair.yaml")
			if err != nil {
				t.Fatal(err)
			}
			before, _ := MarshalYAML(m)
			v, err := NodeView(m, tc.node)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			in := v.VRRPInstances[0]
			peers := []string{}
			for _, p := range in.UnicastPeers {
				peers = append(peers, p.String())
			}
			got := []any{in.State, v.Global.RouterID, *in.Priority, "[" + strings.Join(peers, " ") + "]", len(v.Nodes)}
			want := []any{tc.state, tc.routerID, tc.priority, tc.peers, 0}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("view (state, router_id, priority, peers, nodes) = %v, want %v", got, want)
			}
			if after, _ := MarshalYAML(m); string(after) != string(before) {
				t.Errorf("NodeView changed the model:\n%s\nwas\n%s", after, before)
			}
		})
	}
}

// TestFleetChecks: each disagreement between nodes is one error at the
// place the disagreeing value was written, naming the node.
func TestFleetChecks(t *testing.T) {
	for _, tc := range []struct {
		name, nodes string
		want        []string // every error, each a substring
	}{
		{name: "consistent pair", nodes: pairNodes},
		{name: "mismatched VRID", nodes: pairNodes + "      VI_1: {unicast_src_ip: 10.0.0.2, virtual_router_id: 52}\n",
			want: []string{`pair.yaml:20:59: nodes.lb2.vrrp_instances.VI_1.virtual_router_id: VRRP instance "VI_1": virtual_router_id is 52 on node lb2 but 51 on node lb1 (vrrp_instances[0].virtual_router_id (line 8))`}},
		{name: "same priority", nodes: strings.Replace(pairNodes, "priority: 150, ", "", 1),
			want: []string{`pair.yaml:9:15: node lb2: vrrp_instances[0].priority: VRRP instance "VI_1": priority 100 on node lb2 is node lb1's too`}},
		{name: "same priority allowed", nodes: strings.Replace(pairNodes, "priority: 150, ", "allow_equal_priority: true, ", 1) +
			"      VI_1: {unicast_src_ip: 10.0.0.2, allow_equal_priority: true}\n"},
		{name: "peer list misses a node, names a stranger", nodes: strings.Replace(pairNodes, "unicast_src_ip: 10.0.0.1}", "unicast_src_ip: 10.0.0.1, unicast_peers: [10.0.0.3]}", 1),
			want: []string{
				`pair.yaml:16:85: nodes.lb1.vrrp_instances.VI_1.unicast_peers: VRRP instance "VI_1": node lb1 does not send to node lb2's unicast_src_ip 10.0.0.2`,
				`pair.yaml:16:86: nodes.lb1.vrrp_instances.VI_1.unicast_peers[0]: VRRP instance "VI_1": unicast peer 10.0.0.3 is no node's unicast_src_ip`}},
		{name: "authentication differs, password not shown", nodes: pairNodes + "      VI_1: {unicast_src_ip: 10.0.0.2, authentication: {type: PASS, pass: secret}}\n",
			want: []string{`nodes.lb2.vrrp_instances.VI_1.authentication: VRRP instance "VI_1": authentication is one on node lb2 but another on node lb1`}},
		{name: "virtual addresses differ", nodes: pairNodes + "      VI_1: {unicast_src_ip: 10.0.0.2, virtual_addresses: [{address: 192.0.2.81/24}]}\n",
			want: []string{`virtual_addresses is [192.0.2.81/24] on node lb2 but [192.0.2.80/24] on node lb1`}},
		{name: "advert interval differs", nodes: pairNodes + "      VI_1: {unicast_src_ip: 10.0.0.2, advert_int: 2s}\n",
			want: []string{`nodes.lb2.vrrp_instances.VI_1.advert_int: VRRP instance "VI_1": advert_int is 2s on node lb2 but 1s on node lb1`}},
		{name: "a node with nothing of its own", nodes: pairNodes + "  lb3:\n",
			want: []string{`node lb3: vrrp_instances[0].priority: VRRP instance "VI_1": priority 100 on node lb3 is node lb2's too`}},
		{name: "router id twice", nodes: strings.Replace(pairNodes, "router_id: lb2", "router_id: lb1", 1),
			want: []string{`pair.yaml:18:25: nodes.lb2.global.router_id: global.router_id lb1 on node lb2 is node lb1's too`}},
		{name: "a value wrong on one node only", nodes: strings.Replace(pairNodes, "priority: 150", "priority: 300", 1),
			want: []string{`pair.yaml:16:39: nodes.lb1.vrrp_instances.VI_1.priority: want 1..255`}},
		// A name with a dot cannot be followed in a field path: its
		// errors are placed at the nodes mapping.
		{name: "node names and instance keys", nodes: pairNodes + "  lb.example:\n    vrrp_instances:\n      VI_9: {priority: 90}\n      VI_1: {name: VI_1, priority: 80}\n",
			want: []string{
				`pair.yaml:13:3: nodes.lb.example: node name "lb.example": want a short host name`,
				`pair.yaml:13:3: nodes.lb.example.vrrp_instances.VI_1.name: the key names the instance; remove name`,
				`pair.yaml:13:3: nodes.lb.example.vrrp_instances.VI_9: no vrrp_instance named "VI_9"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A key given twice in YAML is refused: the cases that
			// re-give lb2's instance replace its line instead.
			y := pairBase + tc.nodes
			if strings.Count(y, "      VI_1: {unicast_src_ip: 10.0.0.2") > 1 {
				y = strings.Replace(y, "      VI_1: {unicast_src_ip: 10.0.0.2}\n", "", 1)
			}
			_, err := Parse([]byte(y), "pair.yaml")
			wantErrors(t, err, tc.want)
		})
	}
}

// TestNodeErrorsOnce: an error every node's view has at the model's place
// is reported once, without a node.
func TestNodeErrorsOnce(t *testing.T) {
	y := strings.Replace(pairBase, "virtual_router_id: 51", "virtual_router_id: 300", 1) + pairNodes
	_, err := Parse([]byte(y), "pair.yaml")
	es, _ := AsErrors(err)
	if len(es) != 1 || es[0].Node != "" || es[0].Path != "vrrp_instances[0].virtual_router_id" {
		t.Fatalf("want one error on vrrp_instances[0].virtual_router_id without node, got:\n%v", err)
	}
}

// TestInterfaceRename: a node's interfaces map renames every interface
// the model names on that node (labels follow), and nothing on the others.
func TestInterfaceRename(t *testing.T) {
	y := `version: 1
addresses:
  - {address: 10.1.0.1/24, interface: eth1, label: "eth1:mgmt"}
routes:
  - {to: 10.9.0.0/16, via: 10.1.0.254, interface: eth1}
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    virtual_addresses:
      - {address: 192.0.2.80/24, label: "eth0:vip"}
    track_interfaces:
      - {name: eth1}
nodes:
  lb1:
    vrrp_instances: {VI_1: {priority: 150}}
  lb2:
    interfaces: {eth0: ens3, eth1: ens4}
`
	m, err := Parse([]byte(y), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		node string
		want []string // address iface+label, route iface, instance iface, VIP label, tracked
	}{
		{"lb1", []string{"eth1", "eth1:mgmt", "eth1", "eth0", "eth0:vip", "eth1"}},
		{"lb2", []string{"ens4", "ens4:mgmt", "ens4", "ens3", "ens3:vip", "ens4"}},
	} {
		v, err := NodeView(m, tc.node)
		if err != nil {
			t.Fatal(err)
		}
		in := v.VRRPInstances[0]
		got := []string{v.Addresses[0].Interface, v.Addresses[0].Label, v.Routes[0].Interface, in.Interface, in.VirtualAddresses[0].Label, in.TrackInterfaces[0].Name}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("node %s: %v, want %v", tc.node, got, tc.want)
		}
	}
	if m.VRRPInstances[0].Interface != "eth0" || m.Addresses[0].Label != "eth1:mgmt" {
		t.Error("the view changed the model")
	}
	for _, bad := range []struct{ rename, want string }{
		{"{eth9: ens3}", `m.yaml:18:24: nodes.lb2.interfaces.eth9: the model names no interface "eth9" to rename`},
		{"{eth0: ens3/1}", `nodes.lb2.interfaces.eth0: "ens3/1" is not a valid interface name`},
	} {
		_, err := Parse([]byte(strings.Replace(y, "{eth0: ens3, eth1: ens4}", bad.rename, 1)), "m.yaml")
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("rename %s: err = %v, want %q", bad.rename, err, bad.want)
		}
	}
}

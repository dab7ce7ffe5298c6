package convert

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/lbx-dev/lbx/model"
)

// Director is one director's keepalived configuration in a fleet
// conversion. Node names it in the model (and selects its @Node lines);
// empty: the file's router_id, up to its first dot.
type Director struct {
	Path string
	Node string
}

// Fleet converts the configurations of several directors into one model
// whose nodes: carry what differs between them: global settings and VRRP
// instance settings (typically state, priority, unicast_src_ip). The
// directors may be one file each, or one file read once per node name:
// keepalived's @NODE / @^NODE conditional lines then become per-node
// values. Everything else (scripts, addresses, routes, virtual servers)
// must be the same on every director: one model holds it once.
func Fleet(dirs []Director, opt Options) (*Result, error) {
	var results []*Result
	var names []string
	for _, d := range dirs {
		o := opt
		if d.Node != "" {
			o.Parse.ConfigID = d.Node
		}
		r, err := File(d.Path, o)
		if err != nil {
			return r, err
		}
		name, err := nodeNameOf(d, r.Model)
		if err != nil {
			return r, err
		}
		if slices.Contains(names, name) {
			return r, fmt.Errorf("%s: node name %q is another director's too; give each its own with --node-names", d.Path, name)
		}
		results, names = append(results, r), append(names, name)
	}
	if err := sameShared(dirs, names, results); err != nil {
		return nil, err
	}
	return mergeFleet(names, results)
}

// nodeNameOf is the director's node name: given, or its router_id.
func nodeNameOf(d Director, m *model.Model) (string, error) {
	name := d.Node
	if name == "" {
		name, _, _ = strings.Cut(m.Global.RouterID, ".")
	}
	if name == "" {
		return "", fmt.Errorf("%s: no router_id in global_defs to name this director by; give the node names with --node-names", d.Path)
	}
	return name, nil
}

// sharedFields are the model's sections that cannot differ per node.
func sharedFields() []string {
	var out []string
	t := reflect.TypeOf(model.Model{})
	for i := 0; i < t.NumField(); i++ {
		switch t.Field(i).Name {
		case "Global", "VRRPInstances", "Nodes", "Positions", "File", "BGP":
			continue
		}
		out = append(out, t.Field(i).Name)
	}
	return out
}

// sameShared refuses directors that differ in a section one model holds
// once for all of them, naming the section and the files.
func sameShared(dirs []Director, names []string, results []*Result) error {
	first := reflect.ValueOf(results[0].Model).Elem()
	for i := 1; i < len(results); i++ {
		other := reflect.ValueOf(results[i].Model).Elem()
		for _, f := range append(sharedFields(), "BGP") {
			if reflect.DeepEqual(first.FieldByName(f).Interface(), other.FieldByName(f).Interface()) {
				continue
			}
			key := yamlKeyOf(reflect.TypeOf(model.Model{}), f)
			return fmt.Errorf("%s (node %s) and %s (node %s) differ in %s: a fleet model holds it once for every director (only global settings and VRRP instance settings may differ per node); make them equal first",
				dirs[0].Path, names[0], dirs[i].Path, names[i], key)
		}
		if err := sameInstances(dirs[0].Path, dirs[i].Path, results[0].Model, results[i].Model); err != nil {
			return err
		}
	}
	return nil
}

// sameInstances refuses directors that do not run the same VRRP
// instances (by name).
func sameInstances(a, b string, ma, mb *model.Model) error {
	na, nb := instanceNames(ma), instanceNames(mb)
	for _, n := range na {
		if !slices.Contains(nb, n) {
			return fmt.Errorf("vrrp_instance %s is in %s but not in %s: every node of a fleet model runs the same instances", n, a, b)
		}
	}
	for _, n := range nb {
		if !slices.Contains(na, n) {
			return fmt.Errorf("vrrp_instance %s is in %s but not in %s: every node of a fleet model runs the same instances", n, b, a)
		}
	}
	return nil
}

func instanceNames(m *model.Model) []string {
	var out []string
	for _, in := range m.VRRPInstances {
		out = append(out, in.Name)
	}
	return out
}

func yamlKeyOf(t reflect.Type, goName string) string {
	f, _ := t.FieldByName(goName)
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return key
}

// mergeFleet makes the first director's model the fleet's: each global
// or instance setting on which the directors differ leaves the model and
// goes under each node that has it. Unicast peers that are what the model
// defaults them to (the other nodes' unicast_src_ip) are left out.
func mergeFleet(names []string, results []*Result) (*Result, error) {
	base := results[0]
	m := base.Model
	m.Nodes = map[string]*model.Node{}
	for _, n := range names {
		m.Nodes[n] = &model.Node{}
	}
	globals := make([]reflect.Value, len(results))
	for i, r := range results {
		globals[i] = reflect.ValueOf(&r.Model.Global).Elem()
	}
	splitFields(reflect.ValueOf(&m.Global).Elem(), globals, func(i int) reflect.Value {
		n := m.Nodes[names[i]]
		if n.Global == nil {
			n.Global = &model.Global{}
		}
		return reflect.ValueOf(n.Global).Elem()
	})
	for _, in := range m.VRRPInstances {
		mergeInstance(in, names, results, m.Nodes)
	}
	// One file read once per node says its warnings once.
	seen := map[string]bool{}
	for _, d := range base.Diagnostics {
		seen[d.String()] = true
	}
	for _, r := range results[1:] {
		for _, d := range r.Diagnostics {
			if !seen[d.String()] {
				seen[d.String()] = true
				base.Diagnostics = append(base.Diagnostics, d)
			}
		}
		for _, f := range r.Files {
			if !slices.Contains(base.Files, f) {
				base.Files = append(base.Files, f)
			}
		}
	}
	sortDiags(base.Diagnostics)
	base.docComments = append(base.docComments, fmt.Sprintf("One model for the directors %s: what differs between them is under nodes:; run each with --node NAME (default: its host name).", strings.Join(names, ", ")))
	return base, nil
}

// mergeInstance splits one instance between the model and the nodes.
func mergeInstance(in *model.VRRPInstance, names []string, results []*Result, nodes map[string]*model.Node) {
	all := make([]reflect.Value, len(results))
	peers := make([][]model.Addr, len(results))
	srcs := make([]netip.Addr, len(results))
	for i, r := range results {
		for _, o := range r.Model.VRRPInstances {
			if o.Name == in.Name {
				all[i] = reflect.ValueOf(o).Elem()
				peers[i] = o.UnicastPeers
				if o.UnicastSrcIP != nil {
					srcs[i] = o.UnicastSrcIP.Addr
				}
			}
		}
	}
	if peersAreDefault(peers, srcs) {
		for i := range all {
			all[i].FieldByName("UnicastPeers").Set(reflect.Zero(reflect.TypeOf([]model.Addr(nil))))
		}
	}
	splitFields(reflect.ValueOf(in).Elem(), all, func(i int) reflect.Value {
		n := nodes[names[i]]
		if n.VRRPInstances == nil {
			n.VRRPInstances = map[string]*model.VRRPInstance{}
		}
		if n.VRRPInstances[in.Name] == nil {
			n.VRRPInstances[in.Name] = &model.VRRPInstance{}
		}
		return reflect.ValueOf(n.VRRPInstances[in.Name]).Elem()
	})
}

// splitFields moves every field on which the values differ from base to
// each value's node (node(i) is value i's per-node struct); base is
// values[0] or its twin. The name stays.
func splitFields(base reflect.Value, values []reflect.Value, node func(i int) reflect.Value) {
	t := base.Type()
	for f := 0; f < t.NumField(); f++ {
		if yamlKeyOf(t, t.Field(f).Name) == "name" {
			continue
		}
		same := true
		for _, v := range values[1:] {
			same = same && reflect.DeepEqual(values[0].Field(f).Interface(), v.Field(f).Interface())
		}
		if same {
			continue
		}
		vals := make([]reflect.Value, len(values))
		for i, v := range values {
			vals[i] = reflect.ValueOf(v.Field(f).Interface())
		}
		base.Field(f).Set(reflect.Zero(t.Field(f).Type))
		for i, v := range vals {
			if !v.IsZero() {
				node(i).Field(f).Set(v)
			}
		}
	}
}

// peersAreDefault: every director's unicast peers are exactly the other
// directors' unicast sources, what a model with nodes defaults them to.
func peersAreDefault(peers [][]model.Addr, srcs []netip.Addr) bool {
	for i := range peers {
		if len(peers[i]) == 0 || !srcs[i].IsValid() {
			return false
		}
		var want []string
		for j, s := range srcs {
			if j != i && s.IsValid() && s != srcs[i] {
				want = append(want, s.String())
			}
		}
		var got []string
		for _, p := range peers[i] {
			got = append(got, p.Addr.String())
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			return false
		}
	}
	return true
}

package model

// Adding a per-node section is one line in Node: a field with the same Go
// name, YAML key and type as the model's section (a struct or a pointer to
// one); overlaidView, the validator and the schema take it from there.
// vrrp_instances is the one section keyed differently: by instance name,
// because the model lists instances; interfaces is no section but a
// renaming (ifrename.go).

import (
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lbx-dev/lbx/internal/safefile"
)

// Node is what one director of a fleet declares differently from the
// others. Its sections have the shape of the model's own, with only the
// keys that differ: each key a node gives replaces the model's value for
// that key on that node, keys it leaves out keep the model's value, and a
// list or a block given per node replaces the whole list or block.
type Node struct {
	// Global overrides global settings on this node, such as router_id.
	Global *Global `yaml:"global,omitempty"`
	// VRRPInstances overrides settings of the model's VRRP instances on
	// this node, by instance name: typically state, priority,
	// unicast_src_ip, unicast_peers, mcast_src_ip or interface.
	VRRPInstances map[string]*VRRPInstance `yaml:"vrrp_instances,omitempty"`
	// BGP overrides BGP settings on this node, such as router_id.
	BGP *BGP `yaml:"bgp,omitempty"`
	// Interfaces renames, on this node, interfaces the model names (old
	// name: new name), in every field that names one; labels that begin
	// with a renamed interface's name follow it.
	Interfaces map[string]string `yaml:"interfaces,omitempty"`
}

// nodeNameRE is a short host name: node names default to one (the host
// name up to its first dot, as keepalived's config id), and field paths
// split on dots.
var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// NodeNames returns the model's node names, sorted.
func NodeNames(m *Model) []string { return sortedKeys(m.Nodes) }

// NodeView returns the model as director name runs it: the model with the
// node's values in place, its unicast peers defaulted (see
// defaultUnicastPeers) and no nodes section. A model without nodes is its
// own view whatever the name. A name the model's nodes do not list is an
// error naming the ones it does. NodeView does not change m.
func NodeView(m *Model, name string) (*Model, error) {
	if len(m.Nodes) == 0 {
		return m, nil
	}
	if _, ok := m.Nodes[name]; !ok {
		return nil, fmt.Errorf("%s: no node %q under nodes: (the model names %s); give the director's name with --node NAME",
			m.File, name, strings.Join(NodeNames(m), ", "))
	}
	v, _ := nodeView(m, name)
	return v, nil
}

// nodeView builds node name's view of m and the origins of its values:
// for each model path a node value replaced (e.g.
// "vrrp_instances[0].priority"), the path under nodes: that gave it.
func nodeView(m *Model, name string) (*Model, map[string]string) {
	v := overlaidView(m, name)
	defaultUnicastPeers(m, v.m, name)
	return v.m, v.origins
}

// view is a node's model being built, with the origins of its values.
type view struct {
	m       *Model
	origins map[string]string
}

// overlaidView is m with node name's values in place, unicast peers not
// yet defaulted. Objects a node value changes are copied (the whole model
// when the node renames interfaces); the rest is shared with m, which
// nothing changes.
func overlaidView(m *Model, name string) *view {
	n := m.Nodes[name]
	c := *m
	if n != nil && len(n.Interfaces) > 0 {
		c = *renameInterfaces(m, n.Interfaces)
	}
	c.Nodes = nil
	c.VRRPInstances = slices.Clone(c.VRRPInstances) // instances are replaced, not changed
	v := &view{m: &c, origins: map[string]string{}}
	if n == nil {
		return v
	}
	prefix := "nodes." + name + "."
	nv, mv := reflect.ValueOf(n).Elem(), reflect.ValueOf(v.m).Elem()
	for i := 0; i < nv.NumField(); i++ {
		f := nv.Type().Field(i)
		key := yamlKey(f)
		if key == "vrrp_instances" || key == "interfaces" || nv.Field(i).IsNil() {
			continue
		}
		v.section(mv.FieldByName(f.Name), nv.Field(i).Elem(), key, prefix+key)
	}
	for i, in := range v.m.VRRPInstances {
		if in == nil || n.VRRPInstances[in.Name] == nil {
			continue
		}
		c := *in
		keys := overlay(reflect.ValueOf(&c).Elem(), reflect.ValueOf(n.VRRPInstances[in.Name]).Elem())
		v.m.VRRPInstances[i] = &c
		for _, k := range keys {
			v.origins[fmt.Sprintf("vrrp_instances[%d].%s", i, k)] = prefix + "vrrp_instances." + in.Name + "." + k
		}
	}
	return v
}

// section puts a node's section src over the model's field dst (a struct
// or a pointer to one, copied first), recording the origins.
func (v *view) section(dst, src reflect.Value, key, from string) {
	var target reflect.Value
	if dst.Kind() == reflect.Pointer {
		target = reflect.New(dst.Type().Elem())
		if !dst.IsNil() {
			target.Elem().Set(dst.Elem())
		}
	} else {
		target = reflect.New(dst.Type())
		target.Elem().Set(dst)
	}
	for _, k := range overlay(target.Elem(), src) {
		v.origins[key+"."+k] = from + "." + k
	}
	if dst.Kind() == reflect.Pointer {
		dst.Set(target)
	} else {
		dst.Set(target.Elem())
	}
}

// overlay sets on dst every field src gives (non-zero; a node cannot
// turn a boolean the model sets back off) but the name, and returns their
// YAML keys. dst and src are structs of one type.
func overlay(dst, src reflect.Value) []string {
	var keys []string
	for i := 0; i < src.NumField(); i++ {
		key := yamlKey(src.Type().Field(i))
		if key == "" || key == "-" || key == "name" || src.Field(i).IsZero() {
			continue
		}
		dst.Field(i).Set(src.Field(i))
		keys = append(keys, key)
	}
	return keys
}

func yamlKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return key
}

// defaultUnicastPeers gives an instance of node name's view that has a
// unicast_src_ip and no unicast_peers (neither in the model nor from the
// node) the other nodes' unicast_src_ip of that instance as peers, in node
// name order: what operators of a unicast pair write by hand.
func defaultUnicastPeers(m, v *Model, name string) {
	for i, in := range v.VRRPInstances {
		if in == nil || in.UnicastSrcIP == nil || len(in.UnicastPeers) > 0 {
			continue
		}
		var peers []Addr
		for _, other := range NodeNames(m) {
			if other == name {
				continue
			}
			if src := nodeUnicastSrc(m, other, in.Name); src.IsValid() && src != in.UnicastSrcIP.Addr {
				peers = append(peers, Addr{src})
			}
		}
		if len(peers) > 0 {
			c := *in
			c.UnicastPeers = peers
			v.VRRPInstances[i] = &c
		}
	}
}

// nodeUnicastSrc is instance's unicast_src_ip on node name, or the zero
// address.
func nodeUnicastSrc(m *Model, name, instance string) netip.Addr {
	if n := m.Nodes[name]; n != nil {
		if in := n.VRRPInstances[instance]; in != nil && in.UnicastSrcIP != nil {
			return in.UnicastSrcIP.Addr
		}
	}
	for _, in := range m.VRRPInstances {
		if in != nil && in.Name == instance && in.UnicastSrcIP != nil {
			return in.UnicastSrcIP.Addr
		}
	}
	return netip.Addr{}
}

// origin translates a path of a node's view to where its value was
// written: under nodes: when the node gave it (or an enclosing block),
// else unchanged.
func origin(origins map[string]string, path string) string {
	for p := path; p != ""; {
		if o, ok := origins[p]; ok {
			return o + path[len(p):]
		}
		cut := strings.LastIndexAny(p, ".[")
		if cut < 0 {
			break
		}
		p = p[:cut]
	}
	return path
}

// validateNodes checks a model with nodes: the nodes section itself, then
// every node's view as a model of its own, then the fleet as a whole
// (fleetChecks). An error of a view is reported once without a node when
// every view has it at the same place, else once per node that has it.
func validateNodes(m *Model) Errors {
	v := &validator{m: m}
	v.nodeSection()
	names := NodeNames(m)
	views := make(map[string]*view, len(names))
	type found struct {
		e     *FieldError
		nodes []string
	}
	var order []string
	seen := map[string]*found{}
	for _, name := range names {
		vm, origins := nodeView(m, name)
		views[name] = &view{m: vm, origins: origins}
		for _, e := range validate(vm) {
			p := origin(origins, e.Path)
			k := p + "\x00" + e.Msg
			if seen[k] == nil {
				order = append(order, k)
				seen[k] = &found{e: &FieldError{File: m.File, Pos: m.Positions.At(p), Path: p, Msg: e.Msg}}
			}
			seen[k].nodes = append(seen[k].nodes, name)
		}
	}
	for _, k := range order {
		f := seen[k]
		if len(f.nodes) == len(names) && !strings.HasPrefix(f.e.Path, "nodes.") {
			v.errs = append(v.errs, f.e)
			continue
		}
		for _, n := range f.nodes {
			e := *f.e
			e.Node = n
			v.errs = append(v.errs, &e)
		}
	}
	v.fleetChecks(names, views)
	return v.errs
}

// nodeSection checks the nodes section: names, and instance keys that
// name an instance of the model.
func (v *validator) nodeSection() {
	for _, name := range NodeNames(v.m) {
		p := "nodes." + name
		if !nodeNameRE.MatchString(name) {
			v.errorf(p, "node name %q: want a short host name (letters, digits, '-' and '_', no dots; at most 63)", name)
		}
		n := v.m.Nodes[name]
		if n == nil {
			continue
		}
		v.renames(p, n.Interfaces)
		for _, in := range sortedKeys(n.VRRPInstances) {
			ip := p + ".vrrp_instances." + in
			switch {
			case v.instance(in) == nil:
				v.errorf(ip, "no vrrp_instance named %q in the model; a node only changes the model's instances", in)
			case n.VRRPInstances[in] != nil && n.VRRPInstances[in].Name != "":
				v.errorf(ip+".name", "the key names the instance; remove name")
			}
		}
	}
}

// FileNodeNames lists, sorted, the node names a model file declares,
// whether or not it is valid: for reports per node of a file that does
// not load. It returns nil when the file has no readable nodes section.
func FileNodeNames(path string) []string {
	data, err := safefile.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil
	}
	var doc struct {
		Nodes map[string]yaml.Node `yaml:"nodes"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	return sortedKeys(doc.Nodes)
}

// DefaultNodeName is this host's name up to its first dot, the node a
// command runs as without --node (keepalived's default config id too).
func DefaultNodeName() (string, error) {
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("no --node given and the host name is unknown: %w", err)
	}
	short, _, _ := strings.Cut(h, ".")
	return short, nil
}

// LoadNode reads and validates a model file (every node's view and the
// fleet) and returns node's view (NodeView; "": DefaultNodeName). A model
// without nodes is returned as it is.
func LoadNode(path, node string) (*Model, error) {
	m, err := LoadFile(path)
	if err != nil || len(m.Nodes) == 0 {
		return m, err
	}
	if node == "" {
		if node, err = DefaultNodeName(); err != nil {
			return nil, err
		}
	}
	return NodeView(m, node)
}

// renames checks a node's interfaces map: interface names both sides,
// and an old name the model gives.
func (v *validator) renames(p string, names map[string]string) {
	if len(names) == 0 {
		return
	}
	named := interfacesNamed(v.m)
	for _, old := range sortedKeys(names) {
		switch {
		case !named[old]:
			v.errorf(p+".interfaces."+old, "the model names no interface %q to rename", old)
		case !validIfName(names[old]):
			v.errorf(p+".interfaces."+old, "%q is not a valid interface name (1-15 characters, no '/', ':' or spaces)", names[old])
		}
	}
}

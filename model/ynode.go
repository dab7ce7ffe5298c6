package model

import "gopkg.in/yaml.v3"

// ynode is one node of a model's YAML tree as the loader reads it:
// yaml.Node without what the loader never reads (style, anchor names,
// comments), 88 bytes instead of 152. The tree is most of what loading a
// large model allocates and touches.
type ynode struct {
	Kind         yaml.Kind
	Line, Column int
	Tag, Value   string
	Alias        *ynode // an AliasNode's target
	Content      []*ynode
}

// fromYAML converts yaml.v3's tree, keeping aliases pointing at the one
// copy of their anchored node.
func fromYAML(root *yaml.Node) *ynode {
	seen := map[*yaml.Node]*ynode{}
	var conv func(n *yaml.Node) *ynode
	conv = func(n *yaml.Node) *ynode {
		if y, ok := seen[n]; ok {
			return y
		}
		y := &ynode{Kind: n.Kind, Line: n.Line, Column: n.Column, Tag: n.Tag, Value: n.Value}
		seen[n] = y
		if n.Alias != nil {
			y.Alias = conv(n.Alias)
		}
		if len(n.Content) > 0 {
			y.Content = make([]*ynode, len(n.Content))
			for i, c := range n.Content {
				y.Content[i] = conv(c)
			}
		}
		return y
	}
	return conv(root)
}

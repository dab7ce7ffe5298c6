package ops

import (
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/model"
)

// LoadView reads and validates a model file (the whole fleet, when it has
// nodes) and returns node's view of it (model.NodeView) and the node's
// name: node, or this host's name when node is "". A model without nodes
// is returned as it is, with no name, whatever node says. Errors come
// back as one cli error (exit 1), as LoadModel's.
func LoadView(path, node string) (*model.Model, string, error) {
	m, err := LoadModel(path)
	if err != nil || len(m.Nodes) == 0 {
		return m, "", err
	}
	if node == "" {
		if node, err = model.DefaultNodeName(); err != nil {
			return nil, "", cli.Exit(cli.ExitError1, err)
		}
	}
	v, err := model.NodeView(m, node)
	if err != nil {
		return nil, "", cli.Exit(cli.ExitError1, err)
	}
	return v, node, nil
}

package ops

import (
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/model"
)

// LoadView reads and validates a model file (the whole fleet, when it has
// nodes) and returns node's view of it (model.LoadNode; "": this host's
// name). A model without nodes is returned as it is, whatever node says.
// Errors come back as one cli error (exit 1), as LoadModel's.
func LoadView(path, node string) (*model.Model, error) {
	m, err := model.LoadNode(path, node)
	if err != nil {
		return nil, cli.Exit(cli.ExitError1, err)
	}
	return m, nil
}

package watch

import (
	"github.com/lbx-dev/lbx/internal/daemonview"
	"github.com/lbx-dev/lbx/model"
)

// viewCache holds the daemon-owned view (package daemonview) of the model
// in force, made again only when the model changes: the status, which
// publishes it for `lbx plan` and `lbx apply`, is read far more often
// than the model is reloaded. Guarded by the engine's mu.
type viewCache struct {
	model *model.Model
	view  []daemonview.Object
}

func (c *viewCache) of(m *model.Model) []daemonview.Object {
	if c.model != m {
		c.model, c.view = m, daemonview.Of(m)
	}
	return c.view
}

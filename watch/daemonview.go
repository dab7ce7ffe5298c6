package watch

import (
	"sync"

	"github.com/lbx-dev/lbx/internal/daemonview"
	"github.com/lbx-dev/lbx/internal/daemonview/modelview"
	"github.com/lbx-dev/lbx/model"
)

// viewCache holds the daemon-owned view (package daemonview) of the model
// in force, made again only when the model changes: the status, which
// publishes it for `lbx plan` and `lbx apply` (to them only: the status
// socket leaves it out unless asked), is read far more often than the
// model is reloaded, and the view of effective values builds every check
// again (about 0.1 s at 10,000 checked real servers). It has a lock of its
// own so that it is built outside the engine's.
type viewCache struct {
	mu    sync.Mutex
	model *model.Model
	view  []daemonview.Object
}

func (c *viewCache) of(m *model.Model) []daemonview.Object {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.model != m {
		c.model, c.view = m, modelview.Of(m)
	}
	return c.view
}

package apply

import (
	"fmt"

	"github.com/lbx-dev/lbx/plan"
)

// Progress hears when a step of an apply begins and ends, so that a
// person watching a long one is told it is still running (lbx apply's
// "Still draining real.tcp/... [10s elapsed]", package progress). A step
// is named for a person: "draining real.tcp/10.0.0.1:80/10.1.0.2:80".
// Begin and End are called from the applying goroutine, in pairs.
type Progress interface {
	Begin(step string)
	End(step string)
}

type noProgress struct{}

func (noProgress) Begin(string) {}
func (noProgress) End(string)   {}

// verbs are Terraform's words for a change in progress.
var verbs = map[plan.Action]string{plan.Create: "creating", plan.Update: "modifying", plan.Delete: "destroying", plan.Replace: "replacing"}

// stepOf names a change's step.
func stepOf(c plan.Change) string { return verbs[c.Action] + " " + c.Address }

// batchStep names the step of one IPVS batch: its change when it holds
// one, else the count (a person needs no list of thousands).
func batchStep(cs []plan.Change) string {
	if len(cs) == 1 {
		return stepOf(cs[0])
	}
	return fmt.Sprintf("writing %d IPVS changes", len(cs))
}

// drainStep names a real server's drain wait.
func drainStep(c plan.Change) string { return "draining " + c.Address }

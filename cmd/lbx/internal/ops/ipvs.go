package ops

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// NoIPVSNote is the plan's note where the kernel has no IPVS and the work
// needs none.
const NoIPVSNote = "IPVS is not available in this kernel; the model declares no virtual servers, so lbx works on addresses and routes only."

// readLiveFor reads the live state for work that writes IPVS only when
// needIPVS. Where the kernel has no IPVS and the work needs none, it reads
// addresses and routes alone, and note says so: an addresses-and-routes
// model plans and applies on a kernel without ip_vs. No IPVS also means no
// IPVS services for --prune to delete. Only services lbx owns from an
// earlier model are an error: it recorded them to delete them, and says
// what it needs to.
func (t Target) readLiveFor(ctx context.Context, needIPVS bool, owned plan.Owned) (live *state.State, k kernel.Kernel, note string, err error) {
	live, k, err = t.firstRead(ctx)
	var unavailable *kernel.IPVSUnavailableError
	if needIPVS || t.Live != "" || t.OpenKernel != nil || !errors.As(err, &unavailable) {
		return live, k, "", err
	}
	if len(owned.Services) > 0 {
		return nil, nil, "", cli.Exit(cli.ExitError1, &OwnedIPVSError{Services: serviceNames(owned.Services), Cause: unavailable})
	}
	t.addressesOnly = true
	live, k, err = t.ReadLive(ctx)
	return live, k, NoIPVSNote, err
}

// OwnedIPVSError: the kernel has no IPVS, but lbx's ownership record lists
// IPVS services it created from an earlier model, to delete them.
type OwnedIPVSError struct {
	Services []string
	Cause    *kernel.IPVSUnavailableError
}

func (e *OwnedIPVSError) Error() string {
	return fmt.Sprintf("the ownership record lists %d IPVS service(s) lbx created from an earlier model (%s); IPVS is needed to delete them: %v",
		len(e.Services), strings.Join(e.Services, ", "), e.Cause)
}

func (e *OwnedIPVSError) Unwrap() error { return e.Cause }

func serviceNames(keys map[state.ServiceKey]bool) []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k.String())
	}
	sort.Strings(out)
	return out
}

// planNeedsIPVS reports whether a saved plan changes IPVS (its sysctls
// too: they exist only with ip_vs).
func planNeedsIPVS(p *plan.Plan) bool {
	for _, c := range p.Changes {
		if c.Kind == plan.KindService || c.Kind == plan.KindReal || c.Kind == plan.KindSysctl {
			return true
		}
	}
	return false
}

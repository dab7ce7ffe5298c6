package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/buildinfo"
	"github.com/lbx-dev/lbx/internal/daemonview/modelview"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/internal/sibling"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/ownership"
	"github.com/lbx-dev/lbx/state"
	"github.com/lbx-dev/lbx/vrrpd"
	"github.com/lbx-dev/lbx/vrrponly"
)

// VRRPOnlySpec compiles m, a model of VRRP alone (NeedsWholeEngine says
// ""; checked by Preflight, which made cfg), for lbx-vrrp (package
// vrrponly).
func VRRPOnlySpec(m *model.Model, cfg *vrrpd.Config, file, node string, build buildinfo.Build) (*vrrponly.Spec, error) {
	s := specOf(file, node, build)
	view, err := json.Marshal(modelview.Of(m))
	if err != nil {
		return nil, fmt.Errorf("the daemon's view of the model: %w", err)
	}
	s.Config, s.Resync, s.DaemonModel = cfg, resyncOf(m), view
	s.Addresses = map[string][]state.Address{}
	for _, in := range m.VRRPInstances {
		s.Addresses[in.Name] = in.HeldAddresses()
	}
	return s, nil
}

// HandOverSpec is the spec of a model that needs the whole engine, why
// (NeedsWholeEngine): a reload of lbx-vrrp hands the daemon over on it.
func HandOverSpec(why, file, node string, build buildinfo.Build) *vrrponly.Spec {
	s := specOf(file, node, build)
	s.Full = why
	return s
}

func specOf(file, node string, build buildinfo.Build) *vrrponly.Spec {
	return &vrrponly.Spec{Format: vrrponly.SpecFormat, Build: build, ModelFile: AbsPath(file), Node: node}
}

// NeedsWholeEngine says what in m lbx-vrrp does not run (the first found),
// "" when m is VRRP instances, their scripts and sync groups and their
// virtual addresses alone.
func NeedsWholeEngine(m *model.Model) string {
	switch {
	case len(m.VirtualServers)+len(m.VirtualServerGroups) > 0:
		return "virtual servers"
	case len(m.Addresses) > 0:
		return "static addresses"
	case len(m.Routes) > 0:
		return "static routes"
	case m.IPVS != nil:
		return "ipvs settings"
	case m.BGP != nil:
		return "bgp"
	case m.Global.LVSSyncDaemon != nil:
		return "lvs_sync_daemon"
	}
	for _, in := range m.VRRPInstances {
		if len(in.VirtualRoutes) > 0 {
			return "virtual_routes of vrrp_instance " + in.Name
		}
	}
	// Whatever else a compile makes without VRRP states is the engine's.
	d := model.Compile(m, model.Facts{})
	if len(d.State.Services)+len(d.State.Addresses)+len(d.State.Routes)+len(d.State.Sysctls)+len(d.VRRPRoutes)+len(d.BGPRoutes) > 0 {
		return "kernel objects besides VRRP addresses"
	}
	return ""
}

// LeftForTheEngine says what lbx's earlier runs left that the whole
// engine removes and lbx-vrrp would not: IPVS services in the ownership
// record of dir and netnsID, routes lbx made (its protocol, 229) in any
// table. "" when there is none.
func LeftForTheEngine(dir, netnsID string) (string, error) {
	if dir == "" {
		dir = paths.StateDir
	}
	r, err := ownership.Open(dir, netnsID)
	if err != nil {
		return "", err
	}
	if len(r.Owned().Services) > 0 {
		return "the ownership record holds IPVS services, which the whole engine removes", nil
	}
	// Not fatal: the whole engine reads the routes itself.
	switch found, err := kernel.HasLBXRoutes(); {
	case err != nil:
		return "routes could not be read (" + err.Error() + "), and the whole engine removes lbx's", nil
	case found:
		return fmt.Sprintf("routes of lbx's (protocol %d) are in the kernel, which the whole engine removes", state.RouteProtoLBX), nil
	}
	return "", nil
}

// VRRPBinary is lbx-vrrp's name, next to lbx or on PATH.
const VRRPBinary = "lbx-vrrp"

// FindVRRPProcess locates lbx-vrrp (internal/sibling) and checks that it
// is of build: a half-done upgrade must not run an old lbx-vrrp on a new
// lbx's spec.
func FindVRRPProcess(build buildinfo.Build) (string, error) {
	path, ok := sibling.Find(VRRPBinary)
	if !ok {
		return "", errors.New(VRRPBinary + " is neither next to lbx nor on PATH (make build puts it in bin/, the package in /usr/bin)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--build").Output()
	var got buildinfo.Build
	if err == nil {
		err = json.Unmarshal(out, &got)
	}
	if err != nil {
		return "", fmt.Errorf("%s --build: %w", path, err)
	}
	if got != build {
		return "", fmt.Errorf("%s is not the same build as lbx: it is %s, lbx is %s; install both from the same build", path, got, build)
	}
	return path, nil
}

// ExecVRRPProcess executes lbx-vrrp (path) in this process's place, same
// PID, with spec on a memory file it reads first: args are lbx-vrrp's
// flags and, after "--", lbx watch's command line. It returns only when
// the exec failed.
func ExecVRRPProcess(path string, spec *vrrponly.Spec, args []string) error {
	// Not close-on-exec: it is how the spec crosses the exec.
	fd, err := unix.MemfdCreate("lbx-vrrp-spec", 0)
	if err != nil {
		return fmt.Errorf("hand the model to %s: %w", VRRPBinary, err)
	}
	f := os.NewFile(uintptr(fd), "lbx-vrrp-spec")
	defer f.Close()
	if err := spec.Write(f); err != nil {
		return fmt.Errorf("hand the model to %s: %w", VRRPBinary, err)
	}
	argv := append([]string{path, "--spec-fd", strconv.Itoa(fd)}, args...)
	return fmt.Errorf("execute %s: %w", path, syscall.Exec(path, argv, os.Environ()))
}

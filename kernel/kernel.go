// Package kernel is lbx's one door to the kernel: the Kernel interface the
// executor (package apply) writes through, the errors it understands
// (ErrExists, ErrNotFound, ErrKernelLost, InterfaceError), and the real
// adapters, one file per object in vishvananda/netlink's style:
//
//	netkernel_linux.go  opening a handle (netns, ip_vs), timeouts, Read
//	ipvs_linux.go       IPVS services and real servers (moby/ipvs writer)
//	batch_linux.go      the batched IPVS writer (kernel/ipvsnl), the default
//	addr_linux.go       addresses
//	route_linux.go      routes
//	syncd_linux.go      IPVS connection sync daemons
//	sysctl_linux.go     the namespace's IPVS sysctls
//
// The netlink encoding of IPVS lives in kernel/ipvsnl; an in-memory fake
// that reproduces the kernel's quirks lives in kernel/kerneltest, a
// test-support package that no binary links.
package kernel

import (
	"context"
	"errors"
	"fmt"

	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// ErrKernelLost: a kernel call did not answer in time, and the handle,
// possibly mid-reply, takes no more calls; a long-running caller (lbx
// watch) opens a new one.
var ErrKernelLost = errors.New("kernel handle lost")

// Kernel reads and writes load-balancer state. A Kernel is used from one
// goroutine at a time.
type Kernel interface {
	// Read returns the live state: one service dump, one destination dump
	// per service, one address dump, one route dump.
	Read(ctx context.Context) (*state.State, error)
	// ReadNetwork returns the live state's addresses and routes only
	// (no IPVS dump): what a VRRP transition changes. Routes are those of
	// every table but local, less the kernel's connected ones.
	ReadNetwork(ctx context.Context) (*state.State, error)
	// ReadService returns one service with its real servers and counters
	// (used while draining), or ErrNotFound.
	ReadService(ctx context.Context, k state.ServiceKey) (*state.Service, error)

	CreateService(ctx context.Context, s *state.Service) error
	UpdateService(ctx context.Context, s *state.Service) error
	DeleteService(ctx context.Context, k state.ServiceKey) error
	CreateReal(ctx context.Context, k state.ServiceKey, r state.Real) error
	UpdateReal(ctx context.Context, k state.ServiceKey, r state.Real) error
	DeleteReal(ctx context.Context, k state.ServiceKey, r state.RealKey) error
	AddAddress(ctx context.Context, a state.Address) error
	DeleteAddress(ctx context.Context, a state.Address) error
	// AddRoute creates the route, marked as lbx's, or returns ErrExists
	// when a route holds its key (table, destination, metric).
	AddRoute(ctx context.Context, r state.Route) error
	// ReplaceRoute changes the route of r's key in place (or creates it),
	// marked as lbx's.
	ReplaceRoute(ctx context.Context, r state.Route) error
	// DeleteRoute deletes the route of r's key, type and protocol, or
	// returns ErrNotFound.
	DeleteRoute(ctx context.Context, r state.Route) error

	Close() error
}

// IPVSBatcher is implemented by kernels that can send many IPVS writes in
// one system call. The kernel executes each request of a batch in order,
// also after one fails, and WriteIPVS returns one error per change (nil =
// done), with the same meaning as the single-change methods.
type IPVSBatcher interface {
	WriteIPVS(ctx context.Context, cs []plan.Change) []error
}

// Errors the executor understands, whichever kernel returned them.
var (
	ErrExists   = errors.New("already exists")
	ErrNotFound = errors.New("not found")
)

// SyncDaemonKernel is a kernel that runs IPVS connection sync daemons.
type SyncDaemonKernel interface {
	// ReadSyncDaemons returns the running daemons (at most one per role),
	// every setting filled in.
	ReadSyncDaemons(ctx context.Context) ([]state.SyncDaemon, error)
	// StartSyncDaemon starts d: ErrExists when a daemon of its role runs,
	// InterfaceError when its interface does not exist.
	StartSyncDaemon(ctx context.Context, d state.SyncDaemon) error
	// StopSyncDaemon stops the daemon of a role: ErrNotFound when none runs.
	StopSyncDaemon(ctx context.Context, role state.SyncRole) error
}

// SysctlKernel is a kernel whose settings (sysctls) lbx writes: those of
// its network namespace. Its Read fills State.Sysctls with the IPVS
// settings lbx models (state.IPVSSysctlKeys) that the kernel has.
type SysctlKernel interface {
	// WriteSysctl sets one setting: ErrNotFound when the kernel has no
	// such setting.
	WriteSysctl(ctx context.Context, k state.SysctlKey, value int) error
}

// ReadsIPVS reports whether k's Read covers IPVS services: an
// addresses-only kernel reads none, which says nothing of their absence.
func ReadsIPVS(k Kernel) bool {
	if a, ok := k.(interface{ ReadsIPVS() bool }); ok {
		return a.ReadsIPVS()
	}
	return true
}

// InterfaceError says an interface does not exist.
type InterfaceError struct{ Name string }

func (e *InterfaceError) Error() string {
	return fmt.Sprintf("interface %q does not exist: create it or fix `interface:` in the model", e.Name)
}

// WriteIPVSChange is one IPVS change (a service or real server create,
// update or delete) as the kernel sees it: no fallbacks, so a create that
// meets an existing object returns ErrExists.
func WriteIPVSChange(ctx context.Context, k Kernel, c plan.Change) error {
	switch {
	case c.Kind == plan.KindService && c.Action == plan.Create:
		return k.CreateService(ctx, c.AfterService)
	case c.Kind == plan.KindService && c.Action == plan.Update:
		return k.UpdateService(ctx, c.AfterService)
	case c.Kind == plan.KindService && c.Action == plan.Delete:
		return k.DeleteService(ctx, c.Service)
	case c.Kind == plan.KindReal && c.Action == plan.Create:
		return k.CreateReal(ctx, c.Service, *c.AfterReal)
	case c.Kind == plan.KindReal && c.Action == plan.Update:
		return k.UpdateReal(ctx, c.Service, *c.AfterReal)
	case c.Kind == plan.KindReal && c.Action == plan.Delete:
		return k.DeleteReal(ctx, c.Service, c.BeforeReal.Key)
	}
	return fmt.Errorf("%s: cannot %s a %s", c.Address, c.Action, c.Kind)
}

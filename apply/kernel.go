// Package apply executes plans against the kernel. The kernel sits behind
// one interface (Kernel) with two implementations: the real one (IPVS via
// moby/ipvs, addresses via netlink) and an in-memory fake that reproduces
// the kernel's quirks, so that all executor logic is tested without root.
package apply

import (
	"context"
	"errors"

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

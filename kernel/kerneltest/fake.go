// Package kerneltest is an in-memory kernel (FakeKernel) for tests of
// the executor and of lbx watch without root. It is test support: only
// tests import it (vrrpd/vrrptest's TestNotLinkedIntoBinaries keeps it out
// of the binaries).
package kerneltest

import (
	"context"
	"fmt"
	"sync"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// FakeKernel is an in-memory kernel for tests. It reproduces what the real
// kernel does that a naive fake would not: EEXIST on duplicate adds, ENOENT
// (ESRCH in IPVS) on missing objects, persistence netmasks read back as
// stored, a scheduler that must exist, interfaces that must exist,
// address labels that must begin with the interface name, and routes
// whose source and gateway must be local or connected (route.go). It counts writes
// and can fail the Nth write to test partial applies.
type FakeKernel struct {
	mu         sync.Mutex
	st         *state.State
	Interfaces map[string]bool
	// Schedulers available; nil means every scheduler lbx knows.
	Schedulers map[string]bool
	Writes     int
	Reads      int
	// FailWrite, if > 0, makes the write with that number (1-based) fail.
	FailWrite int
	// OnWrite, if set, runs before each write (to mutate counters while
	// draining, for instance).
	OnWrite func(st *state.State)
	syncd   map[state.SyncRole]state.SyncDaemon
}

// NewFakeKernel returns a fake with the given interfaces and an empty state.
func NewFakeKernel(ifaces ...string) *FakeKernel {
	f := &FakeKernel{st: state.New(), Interfaces: map[string]bool{"lo": true}}
	for _, i := range ifaces {
		f.Interfaces[i] = true
	}
	return f
}

// State returns a copy of the fake's state.
func (f *FakeKernel) State() *state.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Clone()
}

// Mutate changes the fake's state directly, as an operator with ipvsadm or
// ip would (drift).
func (f *FakeKernel) Mutate(fn func(st *state.State)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.st)
}

func (f *FakeKernel) write() error {
	f.Writes++
	if f.FailWrite > 0 && f.Writes == f.FailWrite {
		return fmt.Errorf("injected failure on write %d", f.Writes)
	}
	if f.OnWrite != nil {
		f.OnWrite(f.st)
	}
	return nil
}

// ReadCount is how many whole-state reads the fake has served.
func (f *FakeKernel) ReadCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Reads
}

func (f *FakeKernel) Read(ctx context.Context) (*state.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Reads++
	return f.st.Clone(), nil
}

// ReadNetwork returns a copy of the addresses and routes only.
func (f *FakeKernel) ReadNetwork(ctx context.Context) (*state.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.st.Clone()
	return &state.State{Services: map[state.ServiceKey]*state.Service{}, Addresses: c.Addresses, Routes: c.Routes}, nil
}

func (f *FakeKernel) ReadService(ctx context.Context, k state.ServiceKey) (*state.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.st.Services[k]
	if s == nil {
		return nil, kernel.ErrNotFound
	}
	return s.Clone(), nil
}

func (f *FakeKernel) checkSched(name string) error {
	if f.Schedulers != nil && !f.Schedulers[name] {
		return fmt.Errorf("scheduler %q: %w", name, kernel.ErrNotFound)
	}
	return nil
}

func (f *FakeKernel) CreateService(ctx context.Context, s *state.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(); err != nil {
		return err
	}
	if _, ok := f.st.Services[s.Key]; ok {
		return kernel.ErrExists
	}
	if err := f.checkSched(s.Scheduler); err != nil {
		return err
	}
	c := s.Clone()
	c.Reals = map[state.RealKey]state.Real{}
	f.st.Services[s.Key] = c
	return nil
}

func (f *FakeKernel) UpdateService(ctx context.Context, s *state.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(); err != nil {
		return err
	}
	cur := f.st.Services[s.Key]
	if cur == nil {
		return kernel.ErrNotFound
	}
	if err := f.checkSched(s.Scheduler); err != nil {
		return err
	}
	reals := cur.Reals
	c := s.Clone()
	c.Reals = reals
	f.st.Services[s.Key] = c
	return nil
}

func (f *FakeKernel) DeleteService(ctx context.Context, k state.ServiceKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(); err != nil {
		return err
	}
	if _, ok := f.st.Services[k]; !ok {
		return kernel.ErrNotFound
	}
	delete(f.st.Services, k)
	return nil
}

// realWrite counts a write to a service's real servers and finds the
// service, as the kernel does (ESRCH when it is missing).
func (f *FakeKernel) realWrite(k state.ServiceKey) (*state.Service, error) {
	if err := f.write(); err != nil {
		return nil, err
	}
	s := f.st.Services[k]
	if s == nil {
		return nil, kernel.ErrNotFound
	}
	return s, nil
}

func (f *FakeKernel) CreateReal(ctx context.Context, k state.ServiceKey, r state.Real) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.realWrite(k)
	if err != nil {
		return err
	}
	if _, ok := s.Reals[r.Key]; ok {
		return kernel.ErrExists
	}
	r.Counters = state.Counters{}
	s.Reals[r.Key] = r
	return nil
}

func (f *FakeKernel) UpdateReal(ctx context.Context, k state.ServiceKey, r state.Real) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.realWrite(k)
	if err != nil {
		return err
	}
	cur, ok := s.Reals[r.Key]
	if !ok {
		return kernel.ErrNotFound
	}
	r.Counters = cur.Counters // an edit keeps the connections
	s.Reals[r.Key] = r
	return nil
}

func (f *FakeKernel) DeleteReal(ctx context.Context, k state.ServiceKey, rk state.RealKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.realWrite(k)
	if err != nil {
		return err
	}
	if _, ok := s.Reals[rk]; !ok {
		return kernel.ErrNotFound
	}
	delete(s.Reals, rk)
	return nil
}

func (f *FakeKernel) AddAddress(ctx context.Context, a state.Address) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(); err != nil {
		return err
	}
	if !f.Interfaces[a.Key.Interface] {
		return &kernel.InterfaceError{Name: a.Key.Interface}
	}
	if a.Label != "" && len(a.Label) >= len(a.Key.Interface) && a.Label[:len(a.Key.Interface)] != a.Key.Interface {
		return fmt.Errorf("label %q: invalid argument", a.Label)
	}
	if _, ok := f.st.Addresses[a.Key]; ok {
		return kernel.ErrExists
	}
	a.Origin = ""
	f.st.Addresses[a.Key] = a
	return nil
}

func (f *FakeKernel) DeleteAddress(ctx context.Context, a state.Address) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(); err != nil {
		return err
	}
	if _, ok := f.st.Addresses[a.Key]; !ok {
		return kernel.ErrNotFound
	}
	delete(f.st.Addresses, a.Key)
	f.dropRoutesFrom(a.Key.Addr)
	return nil
}

func (f *FakeKernel) Close() error { return nil }

// BatchingFake is a FakeKernel that also takes batches, as the real kernel
// does with pipelined netlink requests: every change of a batch is tried,
// also after one fails.
type BatchingFake struct{ *FakeKernel }

// WriteIPVS applies each change with the single-change methods.
func (b BatchingFake) WriteIPVS(ctx context.Context, cs []plan.Change) []error {
	errs := make([]error, len(cs))
	for i, c := range cs {
		errs[i] = kernel.WriteIPVSChange(ctx, b.FakeKernel, c)
	}
	return errs
}

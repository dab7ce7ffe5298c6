package kernel

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/moby/ipvs"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/kernel/ipvsnl"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// BatchNetKernel is the real kernel with pipelined IPVS writes: runs of
// service and real-server changes go out many per system call (see
// kernel/ipvsnl), the rest as in NetKernel.
type BatchNetKernel struct {
	*NetKernel
	conn   *ipvsnl.Conn
	nsPath string
}

func (k *BatchNetKernel) Close() error {
	k.conn.Close()
	return k.NetKernel.Close()
}

// WriteIPVS sends the changes in batches; errors mean what the single-call
// methods' errors mean.
func (k *BatchNetKernel) WriteIPVS(ctx context.Context, cs []plan.Change) []error {
	ops := make([]ipvsnl.Op, len(cs))
	for i, c := range cs {
		ops[i] = toOp(c)
	}
	if dl, ok := ctx.Deadline(); ok {
		k.conn.Timeout = min(k.conn.Timeout, max(0, time.Until(dl)))
	}
	errs := k.conn.Write(ops)
	for i, err := range errs {
		if err != nil {
			errs[i] = batchErr(err, cs[i])
		}
	}
	return errs
}

func toOp(c plan.Change) ipvsnl.Op {
	svc := c.AfterService
	if svc == nil {
		svc = &state.Service{Key: c.Service, NetmaskBits: state.DefaultNetmaskBits(c.Service.Family)}
	}
	m := toIPVSService(svc)
	op := ipvsnl.Op{Service: ipvsnl.Service{
		Family: m.AddressFamily, Protocol: m.Protocol, Port: m.Port, FWMark: m.FWMark,
		Sched: m.SchedName, Flags: m.Flags, Timeout: m.Timeout, Netmask: m.Netmask,
	}}
	if c.Service.FWMark == 0 {
		op.Service.Addr = c.Service.Addr
	}
	r := c.AfterReal
	if r == nil {
		r = c.BeforeReal
	}
	switch {
	case c.Kind == plan.KindService && c.Action == plan.Create:
		op.Cmd = ipvsnl.CmdNewService
	case c.Kind == plan.KindService && c.Action == plan.Update:
		op.Cmd = ipvsnl.CmdSetService
	case c.Kind == plan.KindService:
		op.Cmd = ipvsnl.CmdDelService
	case c.Action == plan.Create:
		op.Cmd = ipvsnl.CmdNewDest
	case c.Action == plan.Update:
		op.Cmd = ipvsnl.CmdSetDest
	default:
		op.Cmd = ipvsnl.CmdDelDest
	}
	if c.Kind == plan.KindReal {
		d := toIPVSDest(*r)
		op.Dest = &ipvsnl.Dest{Addr: r.Key.Addr, Port: r.Key.Port, FwdMethod: d.ConnectionFlags,
			Weight: uint32(d.Weight), UThresh: d.UpperThreshold, LThresh: d.LowerThreshold,
			TunType: tunTypes[r.TunnelType], TunPort: r.TunnelPort, TunFlags: tunFlags[r.TunnelChecksum]}
	}
	return op
}

// batchErr maps a kernel errno of one batched request like the single-call
// methods do.
func batchErr(err error, c plan.Change) error {
	what := fmt.Sprintf("%s %s", c.Action, c.Address)
	switch {
	case isErrno(err, unix.EEXIST):
		return fmt.Errorf("%s: %w", what, ErrExists)
	case isErrno(err, unix.ESRCH):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case isErrno(err, unix.ENOENT) && c.Kind == plan.KindService && c.AfterService != nil:
		s := c.AfterService.Scheduler
		return fmt.Errorf("%s: scheduler %q is not available in this kernel: load it with `modprobe ip_vs_%s`", what, s, s)
	case isErrno(err, unix.ENOENT):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return explain(err, what)
}

// readWorkers is how many sockets dump real servers in parallel.
const readWorkers = 4

// Read dumps IPVS with the parallel reader of kernel/ipvsnl (moby/ipvs
// allocates a 64 KiB buffer and a goroutine per call, four times slower
// than ipvsadm-save on 2,000 services), then the addresses.
func (k *BatchNetKernel) Read(ctx context.Context) (*state.State, error) {
	var dumps []ipvsnl.ServiceDump
	err := k.call(ctx, "read IPVS", func() (err error) {
		dumps, err = ipvsnl.Dump(k.nsPath, k.conn, readWorkers)
		return err
	})
	if err != nil {
		return nil, explain(err, "read IPVS")
	}
	st := state.New()
	for _, d := range dumps {
		svc, ok := fromIPVSService(&ipvs.Service{
			AddressFamily: d.Family, Protocol: d.Protocol, Address: net.IP(d.Addr.AsSlice()), Port: d.Port,
			FWMark: d.FWMark, SchedName: d.Sched, Flags: d.Flags, Timeout: d.Timeout, Netmask: d.Netmask,
		})
		if !ok {
			continue
		}
		for _, dd := range d.Dests {
			r := fromDestDump(dd)
			svc.Reals[r.Key] = r
		}
		st.Services[svc.Key] = svc
	}
	if err := k.readBeyondIPVS(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

// The single-change methods go through the same writer, one request each.
func (k *BatchNetKernel) one(ctx context.Context, c plan.Change) error {
	return k.WriteIPVS(ctx, []plan.Change{c})[0]
}

func (k *BatchNetKernel) CreateService(ctx context.Context, s *state.Service) error {
	return k.one(ctx, plan.Change{Kind: plan.KindService, Action: plan.Create, Service: s.Key, AfterService: s, Address: plan.ServiceAddress(s.Key)})
}

func (k *BatchNetKernel) UpdateService(ctx context.Context, s *state.Service) error {
	return k.one(ctx, plan.Change{Kind: plan.KindService, Action: plan.Update, Service: s.Key, AfterService: s, Address: plan.ServiceAddress(s.Key)})
}

func (k *BatchNetKernel) DeleteService(ctx context.Context, key state.ServiceKey) error {
	return k.one(ctx, plan.Change{Kind: plan.KindService, Action: plan.Delete, Service: key, Address: plan.ServiceAddress(key)})
}

func (k *BatchNetKernel) CreateReal(ctx context.Context, key state.ServiceKey, r state.Real) error {
	return k.one(ctx, plan.Change{Kind: plan.KindReal, Action: plan.Create, Service: key, AfterReal: &r, Address: plan.RealAddress(key, r.Key)})
}

func (k *BatchNetKernel) UpdateReal(ctx context.Context, key state.ServiceKey, r state.Real) error {
	return k.one(ctx, plan.Change{Kind: plan.KindReal, Action: plan.Update, Service: key, AfterReal: &r, Address: plan.RealAddress(key, r.Key)})
}

func (k *BatchNetKernel) DeleteReal(ctx context.Context, key state.ServiceKey, rk state.RealKey) error {
	r := state.Real{Key: rk}
	return k.one(ctx, plan.Change{Kind: plan.KindReal, Action: plan.Delete, Service: key, BeforeReal: &r, Address: plan.RealAddress(key, rk)})
}

// ReadService dumps one service's real servers (used while draining).
func (k *BatchNetKernel) ReadService(ctx context.Context, key state.ServiceKey) (*state.Service, error) {
	op := toOp(plan.Change{Kind: plan.KindService, Action: plan.Delete, Service: key})
	var dests []ipvsnl.DestDump
	err := k.call(ctx, "read real servers", func() (err error) { dests, err = k.conn.DumpDests(op.Service); return })
	if err != nil {
		if isErrno(err, unix.ESRCH) {
			return nil, ErrNotFound
		}
		return nil, explain(err, "read "+key.String())
	}
	svc := &state.Service{Key: key, Reals: map[state.RealKey]state.Real{}}
	for _, dd := range dests {
		r := fromDestDump(dd)
		svc.Reals[r.Key] = r
	}
	return svc, nil
}

func fromDestDump(dd ipvsnl.DestDump) state.Real {
	r := fromIPVSDest(&ipvs.Destination{
		Address: net.IP(dd.Addr.AsSlice()), Port: dd.Port, Weight: int(dd.Weight), ConnectionFlags: dd.FwdMethod,
		UpperThreshold: dd.UThresh, LowerThreshold: dd.LThresh,
		ActiveConnections: int(dd.ActiveConns), InactiveConnections: int(dd.InactConns),
	})
	// The kernel keeps tunnel settings only where they mean something.
	if r.Forwarding == state.TUN && dd.TunType != ipvsnl.TunIPIP {
		for name, t := range tunTypes {
			if t == dd.TunType {
				r.TunnelType = name
			}
		}
		r.TunnelPort = dd.TunPort
		for name, f := range tunFlags {
			if f == dd.TunFlags {
				r.TunnelChecksum = name
			}
		}
	}
	return r
}

// Tunnel names in state and their kernel values.
var (
	tunTypes = map[string]uint8{"": ipvsnl.TunIPIP, "gue": ipvsnl.TunGUE, "gre": ipvsnl.TunGRE}
	tunFlags = map[string]uint16{"": 0, "csum": ipvsnl.TunCsum, "remcsum": ipvsnl.TunRemCsum}
)

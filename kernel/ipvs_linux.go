// IPVS services and real servers through moby/ipvs (generic netlink):
// the writer of LBX_IPVS_WRITER=moby, and the conversions both writers share.

package kernel

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net"
	"net/netip"

	"github.com/moby/ipvs"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/state"
)

func (k *NetKernel) ReadService(ctx context.Context, key state.ServiceKey) (*state.Service, error) {
	if err := k.needIPVS(); err != nil {
		return nil, err
	}
	want := toIPVSService(&state.Service{Key: key, NetmaskBits: state.DefaultNetmaskBits(key.Family)})
	var dsts []*ipvs.Destination
	if err := k.call(ctx, "read real servers", func() (err error) { dsts, err = k.ipvs.GetDestinations(want); return }); err != nil {
		if isErrno(err, unix.ESRCH) {
			return nil, ErrNotFound
		}
		return nil, explain(err, "read "+key.String())
	}
	svc := &state.Service{Key: key, Reals: map[state.RealKey]state.Real{}}
	for _, d := range dsts {
		r := fromIPVSDest(d)
		svc.Reals[r.Key] = r
	}
	return svc, nil
}

func (k *NetKernel) CreateService(ctx context.Context, s *state.Service) error {
	if err := k.needIPVS(); err != nil {
		return err
	}
	err := k.call(ctx, "create service", func() error { return k.ipvs.NewService(toIPVSService(s)) })
	return svcErr(err, s, "create service "+s.Key.String())
}

func (k *NetKernel) UpdateService(ctx context.Context, s *state.Service) error {
	if err := k.needIPVS(); err != nil {
		return err
	}
	err := k.call(ctx, "update service", func() error { return k.ipvs.UpdateService(toIPVSService(s)) })
	return svcErr(err, s, "update service "+s.Key.String())
}

func svcErr(err error, s *state.Service, what string) error {
	switch {
	case err == nil:
		return nil
	case isErrno(err, unix.EEXIST):
		return fmt.Errorf("%s: %w", what, ErrExists)
	case isErrno(err, unix.ESRCH):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case isErrno(err, unix.ENOENT):
		return fmt.Errorf("%s: scheduler %q is not available in this kernel: load it with `modprobe ip_vs_%s`", what, s.Scheduler, s.Scheduler)
	}
	return explain(err, what)
}

func (k *NetKernel) DeleteService(ctx context.Context, key state.ServiceKey) error {
	if err := k.needIPVS(); err != nil {
		return err
	}
	s := toIPVSService(&state.Service{Key: key, NetmaskBits: state.DefaultNetmaskBits(key.Family)})
	err := k.call(ctx, "delete service", func() error { return k.ipvs.DelService(s) })
	if isErrno(err, unix.ESRCH) {
		return ErrNotFound
	}
	return explainOrNil(err, "delete service "+key.String())
}

func (k *NetKernel) realCall(ctx context.Context, what string, key state.ServiceKey, fn func(*ipvs.Service) error) error {
	if err := k.needIPVS(); err != nil {
		return err
	}
	s := toIPVSService(&state.Service{Key: key, NetmaskBits: state.DefaultNetmaskBits(key.Family)})
	err := k.call(ctx, what, func() error { return fn(s) })
	switch {
	case err == nil:
		return nil
	case isErrno(err, unix.EEXIST):
		return fmt.Errorf("%s: %w", what, ErrExists)
	case isErrno(err, unix.ENOENT), isErrno(err, unix.ESRCH):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return explain(err, what)
}

func (k *NetKernel) CreateReal(ctx context.Context, key state.ServiceKey, r state.Real) error {
	return k.realCall(ctx, "create real server "+r.Key.String(), key, func(s *ipvs.Service) error { return k.ipvs.NewDestination(s, toIPVSDest(r)) })
}

func (k *NetKernel) UpdateReal(ctx context.Context, key state.ServiceKey, r state.Real) error {
	return k.realCall(ctx, "update real server "+r.Key.String(), key, func(s *ipvs.Service) error { return k.ipvs.UpdateDestination(s, toIPVSDest(r)) })
}

func (k *NetKernel) DeleteReal(ctx context.Context, key state.ServiceKey, rk state.RealKey) error {
	return k.realCall(ctx, "delete real server "+rk.String(), key, func(s *ipvs.Service) error {
		return k.ipvs.DelDestination(s, toIPVSDest(state.Real{Key: rk}))
	})
}

func family(f state.Family) uint16 {
	if f == state.IPv6 {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

func toIPVSService(s *state.Service) *ipvs.Service {
	out := &ipvs.Service{
		AddressFamily: family(s.Key.Family),
		FWMark:        s.Key.FWMark,
		SchedName:     s.Scheduler,
		Flags:         uint32(s.Flags),
		Timeout:       s.Timeout,
	}
	if s.Key.FWMark == 0 {
		out.Protocol = s.Key.Protocol.IPProto()
		out.Address = net.IP(s.Key.Addr.AsSlice())
		out.Port = s.Key.Port
	}
	if s.OnePacket {
		out.Flags |= state.SvcFlagOnePacket
	}
	if s.Timeout > 0 {
		out.Flags |= state.SvcFlagPersistent
	}
	bitsN := s.NetmaskBits
	if bitsN == 0 && s.Timeout == 0 {
		bitsN = state.DefaultNetmaskBits(s.Key.Family)
	}
	out.Netmask = encodeNetmask(s.Key.Family, bitsN)
	return out
}

// encodeNetmask writes the persistence netmask as the kernel wants it: for
// IPv4 a big-endian mask (moby/ipvs sends the uint32 in host order, so the
// bytes are arranged here), for IPv6 a prefix length.
func encodeNetmask(f state.Family, n int) uint32 {
	if f == state.IPv6 {
		return uint32(n)
	}
	var mask [4]byte
	binary.BigEndian.PutUint32(mask[:], ^uint32(0)<<(32-n))
	if n == 0 {
		mask = [4]byte{}
	}
	return binary.NativeEndian.Uint32(mask[:])
}

func decodeNetmask(f state.Family, v uint32) int {
	if f == state.IPv6 {
		return int(v)
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], v)
	return bits.OnesCount32(binary.BigEndian.Uint32(b[:]))
}

func fromIPVSService(s *ipvs.Service) (*state.Service, bool) {
	fam := state.IPv4
	if s.AddressFamily == unix.AF_INET6 {
		fam = state.IPv6
	}
	key := state.ServiceKey{Family: fam, FWMark: s.FWMark}
	if s.FWMark == 0 {
		p, ok := state.ProtocolFromIPProto(s.Protocol)
		if !ok {
			return nil, false
		}
		a, ok := netip.AddrFromSlice(s.Address)
		if !ok {
			return nil, false
		}
		if fam == state.IPv4 {
			a = a.Unmap()
		}
		key.Protocol, key.Addr, key.Port = p, a, s.Port
	}
	svc := &state.Service{
		Key:         key,
		Scheduler:   s.SchedName,
		Flags:       state.SchedFlags(s.Flags & state.SvcFlagSchedMask),
		OnePacket:   s.Flags&state.SvcFlagOnePacket != 0,
		NetmaskBits: state.DefaultNetmaskBits(fam),
		Reals:       map[state.RealKey]state.Real{},
	}
	// The kernel keeps a timeout and netmask on non-persistent services
	// too; they mean nothing there, so they are not compared.
	if s.Flags&state.SvcFlagPersistent != 0 {
		svc.Timeout = s.Timeout
		svc.NetmaskBits = decodeNetmask(fam, s.Netmask)
	}
	return svc, true
}

func toIPVSDest(r state.Real) *ipvs.Destination {
	d := &ipvs.Destination{
		Address:        net.IP(r.Key.Addr.AsSlice()),
		Port:           r.Key.Port,
		Weight:         r.Weight,
		UpperThreshold: r.UpperThreshold,
		LowerThreshold: r.LowerThreshold,
		AddressFamily:  family(state.FamilyOf(r.Key.Addr)),
	}
	switch r.Forwarding {
	case state.DR:
		d.ConnectionFlags = ipvs.ConnectionFlagDirectRoute
	case state.TUN:
		d.ConnectionFlags = ipvs.ConnectionFlagTunnel
	default:
		d.ConnectionFlags = ipvs.ConnectionFlagMasq
	}
	return d
}

func fromIPVSDest(d *ipvs.Destination) state.Real {
	a, _ := netip.AddrFromSlice(d.Address)
	r := state.Real{
		Key:            state.RealKey{Addr: a.Unmap(), Port: d.Port},
		Weight:         d.Weight,
		UpperThreshold: d.UpperThreshold,
		LowerThreshold: d.LowerThreshold,
		Counters:       state.Counters{ActiveConns: d.ActiveConnections, InactiveConns: d.InactiveConnections},
	}
	switch d.ConnectionFlags & ipvs.ConnectionFlagFwdMask {
	case ipvs.ConnectionFlagDirectRoute:
		r.Forwarding = state.DR
	case ipvs.ConnectionFlagTunnel:
		r.Forwarding = state.TUN
	case ipvs.ConnectionFlagMasq:
		r.Forwarding = state.NAT
	default:
		r.Forwarding = state.Forwarding(fmt.Sprintf("fwd-%d", d.ConnectionFlags&ipvs.ConnectionFlagFwdMask))
	}
	return r
}

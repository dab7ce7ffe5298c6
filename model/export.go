package model

import (
	"bytes"
	"net/netip"

	"gopkg.in/yaml.v3"

	"github.com/lbx-dev/lbx/state"
)

// FromState turns a live state into a model (`lbx export`): the IPVS
// sysctls read, every service
// with its real servers, the given addresses, and the routes marked as
// lbx's (other routes are the host's: DHCP's, the distribution's). Defaults are written out
// so that the file says exactly what the kernel has.
func FromState(st *state.State, addrs []state.Address) *Model {
	m := &Model{Version: Version}
	if s := IPVSSysctlsFrom(st.Sysctls); s != nil {
		m.IPVS = &IPVS{Sysctls: s}
	}
	for _, k := range st.ServiceKeys() {
		s := st.Services[k]
		vs := &VirtualServer{Scheduler: s.Scheduler, OnePacket: s.OnePacket}
		if k.FWMark != 0 {
			vs.FWMark = k.FWMark
			if k.Family == state.IPv6 {
				vs.Family = 6
			}
		} else {
			vs.Address = &Addr{k.Addr}
			vs.Port = int(k.Port)
			vs.Protocol = string(k.Protocol)
		}
		for _, f := range []struct {
			bit  state.SchedFlags
			name string
		}{{state.SchedFlag1, "flag-1"}, {state.SchedFlag2, "flag-2"}, {state.SchedFlag3, "flag-3"}} {
			if s.Flags&f.bit != 0 {
				vs.SchedulerFlags = append(vs.SchedulerFlags, schedFlagName(s.Scheduler, f.name))
			}
		}
		if s.Timeout > 0 {
			t := Seconds(float64(s.Timeout))
			vs.Persistence = &Persistence{Timeout: &t}
			if s.NetmaskBits != state.DefaultNetmaskBits(k.Family) {
				vs.Persistence.Granularity = &Mask{Bits: s.NetmaskBits}
			}
		}
		for _, rk := range s.RealKeys() {
			r := s.Reals[rk]
			w := r.Weight
			rs := &RealServer{
				Address: Addr{rk.Addr}, Port: int(rk.Port), Weight: &w, Forwarding: string(r.Forwarding),
				UpperThreshold: r.UpperThreshold, LowerThreshold: r.LowerThreshold,
			}
			if r.TunnelType != "" {
				rs.Tunnel = &Tunnel{Type: r.TunnelType, Port: int(r.TunnelPort), Checksum: r.TunnelChecksum}
			}
			vs.RealServers = append(vs.RealServers, rs)
		}
		m.VirtualServers = append(m.VirtualServers, vs)
	}
	for _, a := range addrs {
		sa := &StaticAddress{Address: Prefix{netip.PrefixFrom(a.Key.Addr, a.Bits)}, Interface: a.Key.Interface, Label: a.Label}
		if a.Scope != "" && a.Scope != "global" {
			sa.Scope = a.Scope
		}
		m.Addresses = append(m.Addresses, sa)
	}
	for _, k := range st.RouteKeys() {
		if r := st.Routes[k]; r.Owned() {
			m.Routes = append(m.Routes, fromRoute(r))
		}
	}
	return m
}

// schedFlagName uses the scheduler's own name for a flag where it has one.
func schedFlagName(sched, flag string) string {
	switch {
	case (sched == "sh" || sched == "mh") && flag == "flag-1":
		return sched + "-fallback"
	case (sched == "sh" || sched == "mh") && flag == "flag-2":
		return sched + "-port"
	}
	return flag
}

// MarshalYAML renders a model as YAML (2-space indent), the inverse of
// Parse for every field the model holds.
func MarshalYAML(m *Model) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	enc.Close()
	return buf.Bytes(), nil
}

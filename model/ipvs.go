package model

import (
	"reflect"
	"strings"

	"github.com/lbx-dev/lbx/state"
)

// IPVS holds the director's IPVS settings that belong to no virtual
// server.
type IPVS struct {
	// Sysctls are IPVS's kernel settings (net.ipv4.vs.*, per network namespace) that plan and apply reconcile; lbx changes only those written here, one left out keeps the kernel's value.
	Sysctls *IPVSSysctls `yaml:"sysctls,omitempty"`
}

// IPVSSysctls are the net.ipv4.vs.* settings a director needs
// (Documentation/networking/ipvs-sysctl.rst). Each YAML key is the
// sysctl's own name; a boolean is written to the kernel as 1 or 0.
// Absent: lbx leaves the kernel's value alone.
type IPVSSysctls struct {
	// SloppyTCP lets IPVS take over a TCP flow it did not see start (any packet, not only a SYN, creates the connection entry): needed by N active directors behind ECMP (bgp), and after a failover without the sync daemon. Kernel default false.
	SloppyTCP *bool `yaml:"sloppy_tcp,omitempty"`
	// SloppySCTP is sloppy_tcp for SCTP (any chunk, not only INIT, creates the entry). Kernel default false.
	SloppySCTP *bool `yaml:"sloppy_sctp,omitempty"`
	// ConnReuseMode says what IPVS does with a new connection that reuses the ports of one in TIME_WAIT: 0 keeps it on the old real server, 1 reschedules it when safe (the kernel's default), bit 2 (2, 3) also reschedules from FIN_WAIT (DR directors see no client FIN-ACK). 0 is the old fix for the 1 s stall of busy NAT'd services with conntrack on.
	ConnReuseMode *int `yaml:"conn_reuse_mode,omitempty"`
	// ExpireNodestConn drops a connection entry at once when its real server was removed, instead of waiting for it to time out (clients reconnect to a live server at once). Kernel default false.
	ExpireNodestConn *bool `yaml:"expire_nodest_conn,omitempty"`
	// ExpireQuiescentTemplate expires a persistence template whose real server has weight 0, so that persistent clients move off a drained or failed (inhibit_on_failure) server. Kernel default false.
	ExpireQuiescentTemplate *bool `yaml:"expire_quiescent_template,omitempty"`
	// Conntrack keeps netfilter connection tracking for IPVS's connections (needed by iptables NAT or state matches on IPVS traffic). Kernel default false.
	Conntrack *bool `yaml:"conntrack,omitempty"`
	// ScheduleICMP schedules ICMP packets of services (ping to a VIP through IPVS). Kernel default false.
	ScheduleICMP *bool `yaml:"schedule_icmp,omitempty"`
	// IgnoreTunneled makes IPVS ignore packets that arrived tunnelled (a director that is also a TUN real server of another). Kernel default false.
	IgnoreTunneled *bool `yaml:"ignore_tunneled,omitempty"`
	// SNATReroute reroutes NAT replies by their new source address (policy routing of VIPs). Kernel default true.
	SNATReroute *bool `yaml:"snat_reroute,omitempty"`
	// PMTUDisc answers too-big packets of DR/TUN services with ICMP fragmentation needed instead of fragmenting them. Kernel default true.
	PMTUDisc *bool `yaml:"pmtu_disc,omitempty"`
	// BackupOnly turns off IPVS's forwarding while the sync daemon runs as backup (a director that only stands by). Kernel default false.
	BackupOnly *bool `yaml:"backup_only,omitempty"`
}

// ConnReuseModes are conn_reuse_mode's meaningful values (bits 1 and 2).
var ConnReuseModes = []int{0, 1, 2, 3}

// fields visits the settings in field order: the kernel name (the
// YAML key) and the field's value (a nil pointer when absent).
func (s *IPVSSysctls) fields(visit func(name string, v reflect.Value)) {
	if s == nil {
		return
	}
	rv := reflect.ValueOf(s).Elem()
	for i := 0; i < rv.NumField(); i++ {
		name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("yaml"), ",")
		visit(name, rv.Field(i))
	}
}

// Values are the settings the model names, as the kernel holds them.
func (s *IPVSSysctls) Values() map[state.SysctlKey]int {
	out := map[state.SysctlKey]int{}
	s.fields(func(name string, v reflect.Value) {
		if v.IsNil() {
			return
		}
		switch x := v.Interface().(type) {
		case *bool:
			out[state.IPVSSysctl(name)] = boolInt(*x)
		case *int:
			out[state.IPVSSysctl(name)] = *x
		}
	})
	return out
}

// Names reports whether the model names the setting (net.ipv4.vs.NAME).
func (s *IPVSSysctls) Names(name string) bool {
	_, ok := s.Values()[state.IPVSSysctl(name)]
	return ok
}

// IPVSSysctlsFrom is the inverse of Values (`lbx export`): each setting
// lbx models that values holds; a boolean is on for any value but 0, as
// the kernel reads it. Nil when values holds none.
func IPVSSysctlsFrom(values map[state.SysctlKey]int) *IPVSSysctls {
	s := &IPVSSysctls{}
	n := 0
	s.fields(func(name string, v reflect.Value) {
		x, ok := values[state.IPVSSysctl(name)]
		if !ok {
			return
		}
		n++
		switch v.Interface().(type) {
		case *bool:
			b := x != 0
			v.Set(reflect.ValueOf(&b))
		case *int:
			v.Set(reflect.ValueOf(&x))
		}
	})
	if n == 0 {
		return nil
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SysctlsOf is the model's IPVS sysctls section (nil when absent).
func (m *Model) SysctlsOf() *IPVSSysctls {
	if m.IPVS == nil {
		return nil
	}
	return m.IPVS.Sysctls
}

// compileSysctls puts the settings the model names into the desired
// state: only those, so that the plan leaves the others to the kernel.
func compileSysctls(d *Desired, m *Model) {
	for k, v := range m.SysctlsOf().Values() {
		d.State.SetSysctl(k, v)
	}
}

// ipvsSection checks the ipvs section's values.
func (v *validator) ipvsSection() {
	s := v.m.SysctlsOf()
	if s == nil || s.ConnReuseMode == nil {
		return
	}
	if n := *s.ConnReuseMode; n < 0 || n > 3 {
		v.errorf("ipvs.sysctls.conn_reuse_mode", "want 0 to 3 (bit 1: reschedule from TIME_WAIT, bit 2: from FIN_WAIT too), got %d", n)
	}
}

// sloppyWarnings: a bgp model whose announcements follow IPVS services
// but that turns sloppy TCP or SCTP off: another director's flows are
// dropped here after ECMP moves them.
func (v *validator) sloppyWarnings() {
	s := v.m.SysctlsOf()
	for _, name := range []string{"sloppy_tcp", "sloppy_sctp"} {
		if val, ok := s.Values()[state.IPVSSysctl(name)]; ok && val == 0 {
			v.errorf("ipvs.sysctls."+name, "%s is off: a flow moved here by ECMP from another director is dropped; set it to true", name)
		}
	}
}

package state

import (
	"maps"
	"strings"
)

// SysctlKey names a kernel setting the way sysctl(8) does:
// "net.ipv4.vs.sloppy_tcp". Its file is under /proc/sys (Path); the
// network namespace that reads the file is the one whose value it is.
type SysctlKey string

func (k SysctlKey) String() string { return string(k) }

// Less orders sysctls by name.
func (k SysctlKey) Less(o SysctlKey) bool { return k < o }

// Path is the setting's file: /proc/sys/net/ipv4/vs/sloppy_tcp.
func (k SysctlKey) Path() string { return "/proc/sys/" + strings.ReplaceAll(string(k), ".", "/") }

// Sysctl is one kernel setting and its value. lbx models integer
// settings only (every IPVS one is).
type Sysctl struct {
	Key   SysctlKey `json:"name"`
	Value int       `json:"value"`
}

// IPVSSysctlPrefix is where IPVS's settings live; the directory exists
// once ip_vs is loaded, in every network namespace.
const IPVSSysctlPrefix = "net.ipv4.vs."

// IPVSSysctl is the key of IPVS's setting NAME (net.ipv4.vs.NAME).
func IPVSSysctl(name string) SysctlKey { return SysctlKey(IPVSSysctlPrefix + name) }

// IPVSSysctlDefaults are the IPVS settings lbx models (model.IPVSSysctls
// has a field for each) with the values a freshly loaded ip_vs has
// (Documentation/networking/ipvs-sysctl.rst). Kernels read them all;
// lbx writes only those the model names.
var IPVSSysctlDefaults = map[SysctlKey]int{
	IPVSSysctl("backup_only"):               0,
	IPVSSysctl("conn_reuse_mode"):           1,
	IPVSSysctl("conntrack"):                 0,
	IPVSSysctl("expire_nodest_conn"):        0,
	IPVSSysctl("expire_quiescent_template"): 0,
	IPVSSysctl("ignore_tunneled"):           0,
	IPVSSysctl("pmtu_disc"):                 1,
	IPVSSysctl("schedule_icmp"):             0,
	IPVSSysctl("sloppy_sctp"):               0,
	IPVSSysctl("sloppy_tcp"):                0,
	IPVSSysctl("snat_reroute"):              1,
}

// IPVSSysctlKeys are the keys of IPVSSysctlDefaults in order: what a
// kernel read covers.
func IPVSSysctlKeys() []SysctlKey { return SortedKeys(IPVSSysctlDefaults) }

// SetSysctl records a setting's value (the map is made on first use:
// most states have none).
func (s *State) SetSysctl(k SysctlKey, v int) {
	if s.Sysctls == nil {
		s.Sysctls = map[SysctlKey]int{}
	}
	s.Sysctls[k] = v
}

// SysctlKeys returns the settings' keys in stable order.
func (s *State) SysctlKeys() []SysctlKey { return SortedKeys(s.Sysctls) }

// cloneSysctls copies the settings (nil stays nil).
func cloneSysctls(m map[SysctlKey]int) map[SysctlKey]int { return maps.Clone(m) }

// Package daemonview is the part of a model that only `lbx watch` carries
// out — VRRP instances, tracking scripts, sync groups, health checks, the
// IPVS sync daemon and the daemon's global settings — as canonical objects,
// and the pure diff between two such views.
//
// The daemon publishes the view of the model in force on its status
// socket (statusd.Status.DaemonModel); `lbx plan` diffs it against the new
// file's view and `lbx apply` diffs the view before a reload against the
// one after it: kernel objects are planned by package plan, these are the
// rest, which plan and apply would otherwise report as "No changes".
package daemonview

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lbx-dev/lbx/model"
)

// Kinds of daemon-owned object (Object.Kind).
const (
	KindVRRPInstance = "vrrp_instance"
	KindVRRPScript   = "vrrp_script"
	KindSyncGroup    = "sync_group"
	// KindChecks is a real server's health checking: its checks, notify
	// scripts and inhibit_on_failure.
	KindChecks = "real_server_checks"
	// KindServiceHealth is a virtual server's health settings: the
	// defaults of its checks, quorum, alpha, omega, ha_suspend.
	KindServiceHealth = "virtual_server_health"
	KindSyncDaemon    = "lvs_sync_daemon"
	// KindGlobal is the daemon's global settings (script user, VRRP
	// defaults, resync interval, ipvs_on_stop...).
	KindGlobal = "watch_global"
)

// Object is one daemon-owned object. Settings are the model's own fields
// under the model's names and in its formats (durations "1s", addresses
// as text), as lbx export writes them; unset fields are absent. That makes
// the view canonical: the same model gives the same view, and a view
// survives a JSON round trip unchanged (see Equal).
type Object struct {
	Address  string         `json:"address"` // "vrrp_instance.VI_1", "real_server_checks.tcp/10.0.0.1:80/10.1.0.2:80"
	Kind     string         `json:"kind"`
	Settings map[string]any `json:"settings"`
}

// Of is m's daemon-owned view, ordered by address.
func Of(m *model.Model) []Object {
	var out []Object
	add := func(kind, name string, v any) {
		s := settingsOf(v)
		if len(s) == 0 {
			return
		}
		out = append(out, Object{Address: kind + "." + name, Kind: kind, Settings: s})
	}
	for _, in := range m.VRRPInstances {
		if in != nil {
			add(KindVRRPInstance, in.Name, in)
		}
	}
	for name, s := range m.Scripts {
		add(KindVRRPScript, name, s)
	}
	for _, g := range m.SyncGroups {
		if g != nil {
			add(KindSyncGroup, g.Name, g)
		}
	}
	for _, vs := range m.VirtualServers {
		if vs == nil {
			continue
		}
		svc := serviceName(m, vs)
		add(KindServiceHealth, svc, serviceHealth{
			DelayLoop: vs.DelayLoop, Virtualhost: vs.Virtualhost, Quorum: vs.Quorum, Alpha: vs.Alpha,
			Omega: vs.Omega, HASuspend: vs.HASuspend, InhibitOnFailure: vs.InhibitOnFailure,
		})
		for _, rs := range vs.RealServers {
			if rs != nil {
				add(KindChecks, svc+"/"+rs.Key(vs).String(), realChecks{
					Checks: rs.Checks, NotifyUp: rs.NotifyUp, NotifyDown: rs.NotifyDown, InhibitOnFailure: rs.InhibitOnFailure,
				})
			}
		}
	}
	if m.Global.LVSSyncDaemon != nil {
		add(KindSyncDaemon, "global", m.Global.LVSSyncDaemon)
	}
	g := m.Global
	g.LVSSyncDaemon, g.DrainTimeout = nil, nil // the sync daemon is its own object; drains are apply's too
	add(KindGlobal, "global", g)
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// serviceName names a virtual server as plans do ("tcp/10.0.0.1:80",
// "fwmark4/1"); a group's service by its group ("tcp/group:web").
func serviceName(m *model.Model, vs *model.VirtualServer) string {
	if vs.Group != "" {
		return string(vs.ProtocolOf()) + "/group:" + vs.Group
	}
	if keys := m.ServiceKeys(vs); len(keys) > 0 {
		return keys[0].String()
	}
	return vs.Name
}

// serviceHealth is what of a virtual server only the daemon uses.
type serviceHealth struct {
	DelayLoop        *model.Duration `yaml:"delay_loop,omitempty"`
	Virtualhost      string          `yaml:"virtualhost,omitempty"`
	Quorum           *model.Quorum   `yaml:"quorum,omitempty"`
	Alpha            bool            `yaml:"alpha,omitempty"`
	Omega            bool            `yaml:"omega,omitempty"`
	HASuspend        bool            `yaml:"ha_suspend,omitempty"`
	InhibitOnFailure bool            `yaml:"inhibit_on_failure,omitempty"`
}

// realChecks is what of a real server only the daemon uses.
type realChecks struct {
	Checks           []*model.Check `yaml:"checks,omitempty"`
	NotifyUp         string         `yaml:"notify_up,omitempty"`
	NotifyDown       string         `yaml:"notify_down,omitempty"`
	InhibitOnFailure *bool          `yaml:"inhibit_on_failure,omitempty"`
}

var marshalerType = reflect.TypeOf((*yaml.Marshaler)(nil)).Elem()

// settingsOf is v (a model struct) as a map of its YAML fields.
func settingsOf(v any) map[string]any {
	x, ok := canonical(reflect.ValueOf(v))
	if !ok {
		return nil
	}
	m, _ := x.(map[string]any)
	return m
}

// canonical turns a model value into plain maps, lists and scalars under
// the YAML names, through the values' own MarshalYAML, leaving out what
// the YAML would (nil pointers; omitempty fields that are zero or empty);
// ok is false for a nil.
func canonical(v reflect.Value) (any, bool) {
	if !v.IsValid() {
		return nil, false
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return nil, false
	}
	if v.Type().Implements(marshalerType) && v.Kind() != reflect.Pointer {
		x, err := v.Interface().(yaml.Marshaler).MarshalYAML()
		if err != nil {
			return fmt.Sprint(v.Interface()), true
		}
		return canonical(reflect.ValueOf(x))
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return canonical(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			name, opts, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if name == "" || name == "-" || !v.Type().Field(i).IsExported() {
				continue
			}
			if opts == "omitempty" && (f.IsZero() || (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0) {
				continue
			}
			if x, ok := canonical(f); ok {
				out[name] = x
			}
		}
		return out, true
	case reflect.Slice, reflect.Array:
		var out []any
		for i := 0; i < v.Len(); i++ {
			x, _ := canonical(v.Index(i))
			out = append(out, x)
		}
		return out, true
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			if x, ok := canonical(v.MapIndex(k)); ok {
				out[fmt.Sprint(k.Interface())] = x
			}
		}
		return out, true
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	return fmt.Sprint(v.Interface()), true
}

// Equal says whether two settings values are the same, whether they were
// built by Of or decoded from JSON (where every number is a float64).
func Equal(a, b any) bool { return encode(a) == encode(b) }

// encode is a value's canonical JSON (maps with sorted keys).
func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

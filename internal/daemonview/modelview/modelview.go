// Package modelview builds a model's daemon-owned view
// (package daemonview): the canonical objects of effective values that
// lbx watch publishes and lbx plan and apply compare.
package modelview

import (
	"sort"

	"github.com/lbx-dev/lbx/internal/daemonview"
	"github.com/lbx-dev/lbx/model"
)

// Of is m's daemon-owned view, ordered by address.
func Of(m *model.Model) []daemonview.Object {
	var out []daemonview.Object
	add := func(kind, name string, v any) {
		if s := settingsOf(v); len(s) > 0 {
			out = append(out, daemonview.Object{Address: kind + "." + name, Kind: kind, Settings: s})
		}
	}
	for _, in := range m.VRRPInstances {
		if in != nil {
			add(daemonview.KindVRRPInstance, in.Name, instanceOf(m, in))
		}
	}
	for name, s := range trackedScripts(m) {
		add(daemonview.KindVRRPScript, name, scriptOf(m.Global, s))
	}
	for _, g := range m.SyncGroups {
		if g != nil {
			add(daemonview.KindSyncGroup, g.Name, g)
		}
	}
	checks := checksOf(m)
	for _, vs := range m.VirtualServers {
		if vs == nil {
			continue
		}
		svc := serviceName(m, vs)
		if h := healthOf(vs); h != healthOf(&model.VirtualServer{}) {
			add(daemonview.KindServiceHealth, svc, h)
		}
		for _, rs := range vs.RealServers {
			if rs != nil && len(rs.Checks) > 0 {
				add(daemonview.KindChecks, svc+"/"+rs.Key(vs).String(), checks.of(m, vs, rs))
			}
		}
	}
	if d := m.Global.LVSSyncDaemon; d != nil {
		add(daemonview.KindSyncDaemon, "global", syncDaemonOf(m, d))
	}
	if g := globalOf(m.Global); settingsOf(g) != nil && !daemonview.Equal(settingsOf(g), settingsOf(globalOf(model.Global{}))) {
		add(daemonview.KindGlobal, "global", g)
	}
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

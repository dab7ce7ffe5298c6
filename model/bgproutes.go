package model

// compileBGP lists the model's announcements in d and, for the kernel
// announcer, adds a route per prefix lbx watch announces (f.Announced):
// to the prefix, through the interface its address lives on, in the
// section's table, marked lbx's (proto 229) for the router daemon's
// import filter. One-shot plan and apply (no VRRP facts) leave the routes
// to lbx watch, as VRRP's virtual routes.
func compileBGP(d *Desired, m *Model, f Facts) {
	if m.BGP == nil {
		return
	}
	for _, a := range m.BGP.Announcements {
		if a == nil {
			continue
		}
		d.BGPAnnouncements = append(d.BGPAnnouncements, a.Prefix.String())
		if m.BGP.AnnouncerOf() != AnnouncerKernel {
			continue
		}
		rt := toRoute(&Route{To: Network{a.Prefix.Masked()}, Interface: a.IfaceOf(), Table: m.BGP.Kernel.tableOf(), Metric: m.BGP.Kernel.metricOf()}, "bgp")
		switch {
		case f.VRRP == nil:
			d.BGPRoutes = append(d.BGPRoutes, rt)
		case f.Announced[a.Prefix.Masked()]:
			d.State.Routes[rt.Key] = rt
		}
	}
}

func (k *BGPKernel) tableOf() *int {
	if k == nil {
		return nil
	}
	return k.Table
}

func (k *BGPKernel) metricOf() *int {
	if k == nil {
		return nil
	}
	return k.Metric
}

package main

// lbx's own description: lbx --help and the DESCRIPTION of lbx(1).
func init() {
	rootCmd.Long = `lbx keeps a Linux load balancer at a model written in YAML: IPVS virtual
and real servers, addresses, routes, VRRP instances and health checks (the
model is described in lbx.yaml(5)). One-shot commands show and make the
change: lbx plan prints what would change, lbx apply makes it, lbx export
and lbx convert write a model from the running kernel or from a keepalived
configuration. lbx watch stays resident (VRRP, health checks, drift repair,
reload on SIGHUP), usually as the systemd unit lbx.service reading
/etc/lbx/lbx.yaml; lbx status reads the running daemon.

lbx changes only what it owns: what it created is recorded under
/var/lib/lbx, and one lock (/run/lbx/lock) keeps two writers apart.`
}

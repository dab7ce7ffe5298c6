package nspawn

import "fmt"

// VRRPModel is the model the unit's tests run: VRRP only (the host kernel
// has no IPVS), one instance MASTER at once on lbx0 (the veth the tests
// make in the container), holding vips (each /24).
func VRRPModel(routerID string, vrid int, vips ...string) string {
	m := fmt.Sprintf(`version: 1
global:
  router_id: %s
vrrp_instances:
  - name: VI_1
    state: MASTER
    interface: lbx0
    virtual_router_id: %d
    priority: 150
    advert_int: 1s
    virtual_addresses:
`, routerID, vrid)
	for _, v := range vips {
		m += "      - {address: " + v + "/24}\n"
	}
	return m
}

# A VRRP transition reaches the kernel within 100 ms, with a large IPVS
# table: lbx watch with one VRRP instance (alone on its link: it becomes
# MASTER) and 1,000 services x 5 real servers. Measured from lbx's log
# line of the transition to the line of the apply that followed it (logged
# once the kernel acknowledged the address): the transition's reconcile
# must not pay for reading or planning the whole IPVS table.
. /e2e/watch-lib.sh
trap watch_cleanup EXIT

SVCS=1000
dummy vr0 192.0.2.1/24
{
	echo 'version: 1'
	echo 'global: {resync_interval: 300s}'
	echo 'vrrp_instances:'
	echo '  - {name: VI_1, interface: vr0, virtual_router_id: 50, priority: 100, version: 3, advert_int: 0.5, virtual_addresses: [{address: 192.0.2.100/24}]}'
	echo 'virtual_servers:'
	for i in $(seq 0 $((SVCS - 1))); do
		printf '  - {address: 10.0.%d.%d, port: 80, real_servers: [' $((i / 250)) $((i % 250 + 1))
		for r in 1 2 3 4 5; do printf '{address: 10.1.0.%d}%s' $r "$([[ $r == 5 ]] || echo ', ')"; done
		echo ']}'
	done
} >m.yaml
watch_start m.yaml
has_vip() { grep -q '192.0.2.100/24' <<<"$(ip -o addr show dev vr0)"; }
wait_until 60 "VI_1 MASTER: its address on vr0" has_vip
n=$(ipvsadm-save -n | grep -c '^-a' || true)
((n == SVCS * 5)) || fail "$n real servers in the kernel, want $((SVCS * 5))"
to_kernel=$(awk '
	function secs(ts, a) { split(substr(ts, 17), a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
	/msg="vrrp transition"/ && /to=MASTER/ && d == "" { d = secs($1); next }
	d != "" && /msg=applied/ && /trigger=vrrp/ { ms = (secs($1) - d) * 1000; if (ms < 0) ms += 86400000; printf "%.0f", ms; exit }' lbx.log)
echo "@@BENCH watch-vrrp-kernel transition-to-kernel=${to_kernel:-?}ms bound=100ms ($SVCS services, $n real servers)"
[[ -n $to_kernel ]] || fail "no 'vrrp transition ... to=MASTER' then 'applied trigger=vrrp' in lbx.log"
((to_kernel <= 100)) || fail "the VRRP transition took ${to_kernel} ms to reach the kernel, more than 100 ms"

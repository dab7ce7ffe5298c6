# SIGHUP to lbx watch with one weight changed reloads the model as a diff:
# exactly one kernel write (the reconcile's kernel_writes and the
# lbx_kernel_writes_total counter both move by 1), the kernel shows the new
# weight, the service is not recreated (its connection counter survives)
# and the other real servers are untouched; a real server that was down
# stays down (its health is kept: it is not re-added and re-removed).
. /e2e/watch-lib.sh
trap watch_cleanup EXIT

rs_net 10.1.0.11 10.1.0.12 10.1.0.13
dummy vip0 10.0.0.1/32 # a local VIP, so that touch_service's SYN reaches IPVS
# resync_interval is long so that the reconcile status shows is the reload's.
gen() {
	cat <<Y
version: 1
global: {resync_interval: 300s}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: nat
    real_servers:
      - address: 10.1.0.11
        port: 80
        weight: $1
        checks:
          - &chk
            type: http_get
            urls: [{path: /health}]
            delay_loop: 1s
            retry: 1
            delay_before_retry: 1s
            connect_timeout: 1s
      - {address: 10.1.0.12, port: 80, weight: 2, checks: [*chk]}
      - {address: 10.1.0.13, port: 80, weight: 3, checks: [*chk]}
Y
}
gen 1 | model m.yaml
for a in 10.1.0.11 10.1.0.12; do rs_start $a; done # 10.1.0.13 is down
watch_start m.yaml
wait_until 15 "10.1.0.13 (down) out, the others in" kernel_is "-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.11:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.1.0.12:80 -m -w 2"
sleep 3 # steady: 10.1.0.13 has failed several rounds

# A connection through the service: its counter must survive the reload.
touch_service 10.0.0.1 80
conns=$(service_conns -t 10.0.0.1:80)
((conns > 0)) || fail "the service counter did not move (conns=$conns)"
writes0=$(metric lbx_kernel_writes_total)
reload0=$(status_field last_reload)
note "before reload: conns=$conns lbx_kernel_writes_total=$writes0 last_reload='$reload0'"

gen 7 | model m.yaml
kill -HUP "$LBX_PID"
reloaded() { [[ $(status_field last_reload) != "$reload0" ]]; }
wait_until 10 "reload seen by lbx status" reloaded
run lbx status -o json
[[ -z $(status_field last_reload_error) ]] || fail "reload error: $(status_field last_reload_error)"
last_writes=$(json_int kernel_writes)
# Right after the reload, and for 3 more check rounds: 10.1.0.13 never
# comes back, 10.1.0.11 has the new weight, 10.1.0.12 is as it was.
want="-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.11:80 -m -w 7
-a -t 10.0.0.1:80 -r 10.1.0.12:80 -m -w 2"
wait_until 2 "new weight in the kernel" kernel_is "$want"
t0=$EPOCHREALTIME
while le "$(since "$t0")" 3; do
	if has_real 10.0.0.1:80 10.1.0.13:80; then fail "10.1.0.13 (down) was re-added after the reload"; fi
	sleep 0.05
done
expect_kernel <<<"$want"
writes1=$(metric lbx_kernel_writes_total)
after=$(service_conns -t 10.0.0.1:80)
note "after reload: last_reconcile.kernel_writes=$last_writes lbx_kernel_writes_total=$writes1 conns=$after"
[[ $last_writes == 1 ]] || fail "last_reconcile.kernel_writes=$last_writes after the reload, want 1"
(( writes1 - writes0 == 1 )) || fail "lbx_kernel_writes_total moved by $((writes1 - writes0)) over the reload, want 1"
((after >= conns)) || fail "service connection counter went from $conns to $after: the service was recreated"

# Its health is kept but not frozen: started now, it comes in.
rs_start 10.1.0.13
wait_until 5 "10.1.0.13 started -> in" has_real 10.0.0.1:80 10.1.0.13:80 3

# lbx watch runs its checks in a child process, lbx-check (as keepalived
# does): a killed lbx-check is started again and nothing flaps meanwhile
# (the kernel keeps the last known health, a server known down stays out
# until its checks pass); the new child still takes a stopped server out
# within the bound; and when lbx watch itself is killed with SIGKILL, its
# lbx-check does not outlive it.
. /e2e/watch-lib.sh
trap watch_cleanup EXIT
BOUND=4

rs_net 10.1.0.11 10.1.0.12 10.1.0.13
model m.yaml <<'Y'
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: nat
    real_servers:
      - address: 10.1.0.11
        port: 80
        checks:
          - &chk
            type: http_get
            urls: [{path: /health, status_codes: ["200"]}]
            delay_loop: 1s
            retry: 1
            delay_before_retry: 1s
            connect_timeout: 1s
      - {address: 10.1.0.12, port: 80, checks: [*chk]}
      - {address: 10.1.0.13, port: 80, checks: [*chk]}
Y
table() {
	echo "-A -t 10.0.0.1:80 -s wlc"
	local a
	for a in "$@"; do echo "-a -t 10.0.0.1:80 -r $a:80 -m -w 1"; done
}

rs_start 10.1.0.11
rs_start 10.1.0.12
watch_start m.yaml --checker process
child=$(child_of "$LBX_PID" lbx-check)
[[ -n $child ]] || fail "lbx watch --checker process has no lbx-check child"
note "lbx-check is pid $child"
# 10.1.0.13 has no httpd: down after its retries.
wait_until 10 "10.1.0.13 down, the other two in" kernel_is "$(table 10.1.0.11 10.1.0.12)"

# The child killed: lbx restarts it; the table holds all the while.
kill -KILL "$child"
t0=$EPOCHREALTIME
new=
while le "$(since "$t0")" 5; do
	kernel_is "$(table 10.1.0.11 10.1.0.12)" || expect_kernel <<<"$(table 10.1.0.11 10.1.0.12)"
	new=$(child_of "$LBX_PID" lbx-check)
	[[ -n $new && $new != "$child" ]] && break
	sleep 0.05
done
[[ -n $new && $new != "$child" ]] || fail "no new lbx-check within 5s of killing $child"
note "lbx-check restarted as pid $new after $(since "$t0")s"
grep -q 'the checker process is back' lbx.log || fail "no 'the checker process is back' in lbx.log"
# Three check rounds of the new child: nothing flaps.
for i in $(seq 30); do
	kernel_is "$(table 10.1.0.11 10.1.0.12)" || expect_kernel <<<"$(table 10.1.0.11 10.1.0.12)"
	sleep 0.1
done

# The new child does its job: a stopped server leaves, a started one comes in.
t0=$EPOCHREALTIME
rs_stop 10.1.0.12
wait_until 10 "10.1.0.12 stopped -> removed" kernel_is "$(table 10.1.0.11)"
removed=$WAITED
le "$removed" $BOUND || fail "removal by the restarted checker took ${removed}s, more than ${BOUND}s"
rs_start 10.1.0.13
wait_until 10 "10.1.0.13 started -> in" kernel_is "$(table 10.1.0.11 10.1.0.13)"
echo "@@BENCH watch-checker-process removal-after-restart=${removed}s bound=${BOUND}s"

# lbx watch killed outright: its child sees its socket close and exits.
kill -KILL "$LBX_PID"
wait "$LBX_PID" 2>/dev/null || true
LBX_PID=
wait_until 5 "lbx-check $new ended after lbx watch was killed" ended "$new"

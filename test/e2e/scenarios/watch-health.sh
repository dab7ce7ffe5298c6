# lbx watch's HTTP_GET checks drive the kernel: a stopped httpd leaves IPVS
# within delay_loop + retry x delay_before_retry + connect_timeout + 1 s
# (1 + 1 + 1 + 1 = 4 s), a restarted one comes back; under
# inhibit_on_failure its weight goes to 0 instead; all down puts the sorry
# server in, one back takes it out. The same three servers back two
# services, so one stopped httpd exercises both behaviours. A health
# transition reaches the kernel within 100 ms (from lbx's own log).
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
    sorry_server: {address: 10.1.0.99, port: 80}
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
  - address: 10.0.0.2
    port: 80
    forwarding: nat
    inhibit_on_failure: true
    real_servers:
      - {address: 10.1.0.11, port: 80, checks: [*chk]}
      - {address: 10.1.0.12, port: 80, checks: [*chk]}
      - {address: 10.1.0.13, port: 80, checks: [*chk]}
Y
# table W11 W12 W13 [SORRY]: the expected kernel, "-" for a server that is
# not in 10.0.0.1:80 (10.0.0.2:80 then has it at weight 0).
table() {
	echo "-A -t 10.0.0.1:80 -s wlc"
	echo "-A -t 10.0.0.2:80 -s wlc"
	local i=11 w
	for w in "$1" "$2" "$3"; do
		if [[ $w == - ]]; then
			echo "-a -t 10.0.0.2:80 -r 10.1.0.$i:80 -m -w 0"
		else
			echo "-a -t 10.0.0.1:80 -r 10.1.0.$i:80 -m -w $w"
			echo "-a -t 10.0.0.2:80 -r 10.1.0.$i:80 -m -w $w"
		fi
		i=$((i + 1))
	done
	[[ -z ${4:-} ]] || echo "-a -t 10.0.0.1:80 -r 10.1.0.99:80 -m -w 1"
}

for a in 10.1.0.11 10.1.0.12 10.1.0.13; do rs_start $a; done
watch_start m.yaml
wait_until 15 "all three servers up in both services" kernel_is "$(table 1 1 1)"
sleep 2 # a few checks pass: the next transition starts from steady state

# One server stopped: out of 10.0.0.1, weight 0 in 10.0.0.2 (inhibit).
t0=$EPOCHREALTIME
rs_stop 10.1.0.11
wait_until 10 "10.1.0.11 stopped -> removed from 10.0.0.1:80" lacks_real 10.0.0.1:80 10.1.0.11:80
removed=$WAITED
wait_until 10 "10.1.0.11 stopped -> weight 0 in 10.0.0.2:80 (inhibit_on_failure)" has_real 10.0.0.2:80 10.1.0.11:80 0
inhibited=$(since "$t0")
echo "@@BENCH watch-health removal=${removed}s inhibit=${inhibited}s bound=${BOUND}s"
le "$removed" $BOUND || fail "removal took ${removed}s, more than ${BOUND}s"
le "$inhibited" $BOUND || fail "weight 0 took ${inhibited}s, more than ${BOUND}s"
kernel_is "$(table - 1 1)" || expect_kernel <<<"$(table - 1 1)"
# The transition reaches the kernel within 100 ms: from the engine's
# "real server down" log line (it has the checker's verdict) to the log
# line of the apply that followed it (logged once the kernel acknowledged
# the writes).
to_kernel=$(awk '
	function secs(ts, a) { split(substr(ts, 17), a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
	/msg="real server down"/ && /10\.1\.0\.11:80/ && d == "" { d = secs($1); next }
	d != "" && /msg=applied/ { ms = (secs($1) - d) * 1000; if (ms < 0) ms += 86400000; printf "%.0f", ms; exit }' lbx.log)
echo "@@BENCH watch-health transition-to-kernel=${to_kernel:-?}ms bound=100ms"
[[ -n $to_kernel ]] || fail "no 'real server down' then 'applied' for 10.1.0.11 in lbx.log"
((to_kernel <= 100)) || fail "the health transition took ${to_kernel} ms to reach the kernel, more than 100 ms"

# Restarted: back after one successful check (next delay_loop).
t0=$EPOCHREALTIME
rs_start 10.1.0.11
wait_until 10 "10.1.0.11 restarted -> back in both services" kernel_is "$(table 1 1 1)"
back=$(since "$t0")
echo "@@BENCH watch-health readd=${back}s"
le "$back" 3 || fail "re-adding took ${back}s, more than delay_loop + 2s"

# All down: the sorry server is in 10.0.0.1:80 (and only then).
sleep 1
t0=$EPOCHREALTIME
for a in 10.1.0.11 10.1.0.12 10.1.0.13; do rs_stop $a; done
wait_until 10 "all stopped -> sorry server in" kernel_is "$(table - - - sorry)"
sorry=$(since "$t0")
le "$sorry" $BOUND || fail "sorry server took ${sorry}s, more than ${BOUND}s"

# One back: sorry server out, that server in.
t0=$EPOCHREALTIME
rs_start 10.1.0.12
wait_until 10 "10.1.0.12 back -> sorry server out" kernel_is "$(table - 1 -)"
echo "@@BENCH watch-health sorry-in=${sorry}s sorry-out=$(since "$t0")s"
# Steady: nothing flaps over three more check rounds.
sleep 3
expect_kernel <<<"$(table - 1 -)"

# Checks are independent: two real servers whose HTTP check is accepted and
# never answered (a busybox httpd CGI that sleeps), with a 5 s
# connect_timeout, do not delay the detection of a third server going down:
# it still leaves IPVS within delay_loop + retry x delay_before_retry +
# connect_timeout + 1 s of its own check (1 + 1 + 1 + 1 = 4 s). A checker
# that waited for the hanging probes would need 5 s or more per round.
. /e2e/watch-lib.sh
trap watch_cleanup EXIT
BOUND=4

rs_net 10.1.0.11 10.1.0.12 10.1.0.13 10.1.0.14
model m.yaml <<'Y'
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: nat
    inhibit_on_failure: true   # the hanging servers stay visible at weight 0
    real_servers:
      - address: 10.1.0.11
        port: 80
        checks:
          - &chk
            type: http_get
            urls: [{path: /health}]
            delay_loop: 1s
            retry: 1
            delay_before_retry: 1s
            connect_timeout: 1s
      - address: 10.1.0.12
        port: 80
        checks:
          - &hang
            type: http_get
            urls: [{path: /cgi-bin/hang}]
            delay_loop: 1s
            retry: 1
            delay_before_retry: 1s
            connect_timeout: 5s
      - {address: 10.1.0.13, port: 80, checks: [*hang]}
      - {address: 10.1.0.14, port: 80, checks: [*chk]}
Y
for a in 10.1.0.11 10.1.0.12 10.1.0.13 10.1.0.14; do rs_start $a; done
# The hang is real: the CGI is accepted and never answered.
if timeout 3 busybox wget -q -O /dev/null http://10.1.0.12/cgi-bin/hang; then fail "the hanging CGI answered"; fi
watch_start m.yaml
# The hanging servers fail (2 probes of 5 s): weight 0; the others stay 1.
want_hung="-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.11:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.1.0.12:80 -m -w 0
-a -t 10.0.0.1:80 -r 10.1.0.13:80 -m -w 0
-a -t 10.0.0.1:80 -r 10.1.0.14:80 -m -w 1"
wait_until 30 "hanging servers at weight 0" kernel_is "$want_hung"
# Now stop 10.1.0.14 while the hanging probes are in flight (they take 5 s
# each, every round), several times at different phases.
worst=0
for i in 1 2 3; do
	sleep 1.$((i * 3))
	t0=$EPOCHREALTIME
	rs_stop 10.1.0.14
	wait_until 15 "round $i: 10.1.0.14 stopped -> weight 0" has_real 10.0.0.1:80 10.1.0.14:80 0
	d=$(since "$t0")
	le "$d" "$worst" || worst=$d
	has_real 10.0.0.1:80 10.1.0.11:80 1 || fail "10.1.0.11 (healthy) lost its weight"
	rs_start 10.1.0.14
	wait_until 10 "round $i: 10.1.0.14 back" has_real 10.0.0.1:80 10.1.0.14:80 1
done
echo "@@BENCH watch-hang worst-removal=${worst}s bound=${BOUND}s hanging-timeout=5s"
le "$worst" $BOUND || fail "a server going down took ${worst}s to leave IPVS next to hanging checks (bound ${BOUND}s)"
expect_kernel <<<"$want_hung"
# No leak of hanging connections: lbx's open descriptors stay bounded.
fds=$(ls "/proc/$LBX_PID/fd" | wc -l)
note "lbx watch open fds: $fds"
((fds < 64)) || fail "lbx watch holds $fds descriptors after hanging checks"

# Drift made behind lbx watch's back with ipvsadm is repaired within one
# resync (global.resync_interval: 1s; bound 1 s + 2 s of slack for TCG):
# a real server deleted by hand comes back (keepalived leaves it deleted),
# a weight changed by hand is reset, a service deleted by hand is restored
# with its real servers. lbx_drift_repaired_total counts each repair.
. /e2e/watch-lib.sh
trap watch_cleanup EXIT
BOUND=3

rs_net 10.1.0.11 10.1.0.12
model m.yaml <<'Y'
version: 1
global: {resync_interval: 1s}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: nat
    real_servers:
      - address: 10.1.0.11
        port: 80
        weight: 5
        checks:
          - &chk
            type: http_get
            urls: [{path: /health}]
            delay_loop: 1s
            retry: 1
            delay_before_retry: 1s
            connect_timeout: 1s
      - {address: 10.1.0.12, port: 80, weight: 2, checks: [*chk]}
  - address: 10.0.0.2
    port: 8080
    forwarding: nat
    scheduler: rr
    real_servers:
      - {address: 10.1.0.11, port: 80, checks: [*chk]}
Y
want="-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.11:80 -m -w 5
-a -t 10.0.0.1:80 -r 10.1.0.12:80 -m -w 2
-A -t 10.0.0.2:8080 -s rr
-a -t 10.0.0.2:8080 -r 10.1.0.11:80 -m -w 1"
for a in 10.1.0.11 10.1.0.12; do rs_start $a; done
watch_start m.yaml
wait_until 15 "model in the kernel" kernel_is "$want"
sleep 2

# drift DESC CMD...: make the drift by hand, check it is there, then time
# the repair back to exactly the model.
drift() {
	local desc=$1
	shift
	local d0
	d0=$(metric lbx_drift_repaired_total)
	must "$@"
	# The resync may repair the edit before this line looks; then the
	# drift counter must already have moved.
	if kernel_is "$want"; then
		(($(metric lbx_drift_repaired_total) > d0)) || fail "the hand edit did not change the kernel"
	fi
	wait_until 10 "$desc -> repaired" kernel_is "$want"
	echo "@@BENCH watch-drift $desc repaired=${WAITED}s bound=${BOUND}s"
	le "$WAITED" $BOUND || fail "$desc: repaired after ${WAITED}s, more than one resync (${BOUND}s)"
	local d1
	d1=$(metric lbx_drift_repaired_total)
	((d1 > d0)) || fail "$desc: lbx_drift_repaired_total did not move ($d0 -> $d1)"
	sleep 1.5 # let the following resync run: it must find nothing
	expect_kernel <<<"$want"
}
drift real-deleted ipvsadm -d -t 10.0.0.1:80 -r 10.1.0.12:80
drift weight-changed ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.11:80 -m -w 9
drift service-deleted ipvsadm -D -t 10.0.0.2:8080

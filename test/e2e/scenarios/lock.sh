# Two applies at once. While a large apply (A) holds the lock, a second one
# with a short --lock-timeout exits 4 naming A's pid, and a third one with a
# long timeout waits and then applies. Never two at once: the kernel ends at
# exactly the last model. (The second and third use a one-service model so
# they reach the lock while A still plans and writes.)
n=2000 r=5
gen_model $n $r big.yaml
model small.yaml <<'Y'
version: 1
virtual_servers:
  - {address: 10.0.0.1, port: 80, forwarding: dr, real_servers: [{address: 10.1.0.5}]}
Y
lockfile=/run/lbx/lock
for attempt in 1 2 3; do
	ipvsadm -C
	rm -rf /var/lib/lbx /run/lbx
	lbx apply -f big.yaml --auto-approve >a.out 2>&1 &
	apid=$!
	for i in $(seq 1 500); do
		[[ -s $lockfile ]] && break
		sleep 0.02
	done
	[[ -s $lockfile ]] || fail "no holder written to $lockfile while apply runs"
	lbx apply -f small.yaml --auto-approve --lock-timeout 300s >c.out 2>&1 &
	cpid=$!
	run lbx apply -f small.yaml --auto-approve --lock-timeout 100ms
	if ((RC == 0)); then
		kill -0 $apid 2>/dev/null && fail "a second apply ran while the first one (pid $apid) was still running"
		note "attempt $attempt: the first apply finished within 100ms: inconclusive, again"
		wait $apid $cpid || true
		continue
	fi
	break
done
expect_rc 4 "lock timeout"
grep -q "$apid" <<<"$ERR_OUT$OUT" || fail "the lock error does not name the holder pid $apid"
wait $apid || { cat a.out; fail "the first apply failed"; }
wait $cpid || { cat c.out; fail "the waiting apply (--lock-timeout 300s) failed"; }
sed 's/^/  c| /' c.out
expect_kernel <<'K'
-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 1
K

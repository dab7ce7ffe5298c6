# Two applies at once. While a large apply holds the lock, a second one with
# a short --lock-timeout exits 4 naming the holder's pid; one with a long
# timeout waits and then applies. Never both at once: the kernel ends at the
# last model, whole.
n=2000 r=5
gen_model $n $r big.yaml
gen_model $n $r big2.yaml 9
lockfile=/run/lbx/lock
for attempt in 1 2 3; do
	ipvsadm -C
	rm -rf /var/lib/lbx
	lbx apply -f big.yaml --auto-approve >a.out 2>&1 &
	apid=$!
	for i in $(seq 1 400); do
		[[ -s $lockfile ]] && break
		sleep 0.02
	done
	[[ -s $lockfile ]] || note "lock file $lockfile empty or missing while apply runs"
	run lbx apply -f big2.yaml --auto-approve --lock-timeout 100ms
	if ((RC == 0)); then
		kill -0 $apid 2>/dev/null && fail "a second apply ran while the first one (pid $apid) was still running"
		note "attempt $attempt: the first apply finished within 100ms of the second: inconclusive, again"
		wait $apid || true
		continue
	fi
	expect_rc 4 "lock timeout"
	grep -q "$apid" <<<"$ERR_OUT$OUT" || fail "the lock error does not name the holder pid $apid"
	break
done
((RC == 4)) || fail "could not catch the first apply holding the lock in 3 attempts"
run lbx apply -f big2.yaml --auto-approve --lock-timeout 300s
expect_rc 0 "waited for the lock"
wait $apid || { cat a.out; fail "the first apply failed"; }
diff <(kernel_rules) <(gen_rules $n $r 9) >/dev/null || fail "kernel is not exactly big2.yaml after both applies"

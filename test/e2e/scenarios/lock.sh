# Two applies at once: while a large apply holds the lock, a second one with
# a short --lock-timeout fails with exit 4 naming the holder; one with a long
# timeout waits and then applies. The kernel ends at the last model, whole.
n=2000 r=5
gen_model $n $r big.yaml
gen_model $n $r big2.yaml 9
lbx apply -f big.yaml --auto-approve >a.out 2>&1 &
apid=$!
for i in $(seq 1 300); do
	[[ -n $(ipvsadm-save -n | head -n1) ]] && break
	sleep 0.05
done
kill -0 $apid 2>/dev/null || fail "the large apply finished before the second one could start (rig too fast?)"
run lbx apply -f big2.yaml --auto-approve --lock-timeout 1s
if ((RC == 0)); then
	fail "a second apply ran while the first one held the lock"
fi
expect_rc 4 "lock timeout"
grep -q "$apid" <<<"$ERR_OUT$OUT" || fail "the lock error does not name the holder pid $apid"
run lbx apply -f big2.yaml --auto-approve --lock-timeout 300s
expect_rc 0 "waited for the lock"
wait $apid || { cat a.out; fail "the first apply failed"; }
diff <(kernel_rules) <(gen_rules $n $r 9) >/dev/null || fail "kernel is not exactly big2.yaml after both applies"

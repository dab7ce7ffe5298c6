# kill -9 in the middle of a large apply (while it writes to the kernel),
# then apply again: the kernel ends at exactly the desired state (nothing
# missing, nothing extra, no stale lock in the way).
n=5000 r=5
gen_model $n $r big.yaml
started() { (($(head -c 4096 /proc/net/ip_vs | wc -l) > 4)); }
partial=0
for attempt in 1 2 3; do
	ipvsadm -C
	rm -rf /var/lib/lbx
	lbx apply -f big.yaml --auto-approve >a.out 2>&1 &
	apid=$!
	until started || ! kill -0 $apid 2>/dev/null; do sleep 0.01; done
	kill -9 $apid 2>/dev/null || true
	wait $apid 2>/dev/null || true
	partial=$(ipvsadm-save -n | grep -c '^-A' || true)
	note "attempt $attempt: services in the kernel at kill -9: $partial of $n"
	((partial > 0 && partial < n)) && break
done
((partial > 0 && partial < n)) || fail "could not kill the apply in the middle in 3 attempts"
run lbx apply -f big.yaml --auto-approve --lock-timeout 5s
expect_rc 0 "apply after kill -9"
diff <(kernel_rules) <(gen_rules $n $r) >diff.out || { head -20 diff.out; fail "kernel differs from the model after re-apply"; }
run lbx plan -f big.yaml --detailed-exitcode
expect_rc 0

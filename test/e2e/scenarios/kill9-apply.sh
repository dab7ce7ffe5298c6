# kill -9 in the middle of a large apply, then apply again: the kernel ends
# at exactly the desired state (nothing missing, nothing extra, no stale
# lock in the way).
n=2000 r=5
gen_model $n $r big.yaml
lbx apply -f big.yaml --auto-approve >a.out 2>&1 &
apid=$!
for i in $(seq 1 600); do
	(($(ipvsadm-save -n | grep -c '^-A') >= 100)) && break
	sleep 0.05
done
kill -9 $apid
wait $apid 2>/dev/null || true
partial=$(ipvsadm-save -n | grep -c '^-A' || true)
note "services in the kernel at kill -9: $partial of $n"
((partial > 0 && partial < n)) || fail "not killed in the middle ($partial of $n services): cannot test"
run lbx apply -f big.yaml --auto-approve --lock-timeout 5s
expect_rc 0 "apply after kill -9"
diff <(kernel_rules) <(gen_rules $n $r) >diff.out || { head -20 diff.out; fail "kernel differs from the model after re-apply"; }
run lbx plan -f big.yaml --detailed-exitcode
expect_rc 0

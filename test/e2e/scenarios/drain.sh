# A real server removed from a service with drain_timeout is first set to
# weight 0 in the kernel (new connections stop, existing ones finish), and
# deleted once idle or when the timeout passes.
dummy vip0 10.0.0.1/32
model m.yaml <<'Y'
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: dr
    scheduler: rr
    drain_timeout: 6s
    real_servers:
      - {address: 10.1.0.5}
      - {address: 10.1.0.6}
Y
must lbx apply -f m.yaml --auto-approve
# Give both real servers a connection entry so neither is idle.
for i in 1 2 3 4; do touch_service 10.0.0.1 80; done
must ipvsadm -Lnc
sed -i '/10.1.0.6/d' m.yaml
run lbx plan -f m.yaml
lbx apply -f m.yaml --auto-approve >apply.out 2>&1 &
apid=$!
seen0=no gone=no
for i in $(seq 1 150); do
	if grep -qxF -- "-a -t 10.0.0.1:80 -r 10.1.0.6:80 -g -w 0" <<<"$(kernel_rules)"; then seen0=yes; fi
	if ! grep -qF -- "-r 10.1.0.6:80" <<<"$(kernel_rules)"; then gone=yes; break; fi
	sleep 0.1
done
wait $apid || { cat apply.out; fail "apply exited $?"; }
cat apply.out
# Run plan/apply once more in case lbx finishes drains on a later run.
for i in $(seq 1 15); do
	grep -qF -- "-r 10.1.0.6:80" <<<"$(kernel_rules)" || { gone=yes; break; }
	sleep 1
	lbx apply -f m.yaml --auto-approve >/dev/null 2>&1 || true
done
note "weight 0 seen: $seen0, deleted: $gone"
[[ $seen0 == yes ]] || fail "the removed real server was never drained (weight 0) before deletion"
[[ $gone == yes ]] || fail "the drained real server was not deleted within 6s drain_timeout + 15s"
expect_kernel_line "-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 1"

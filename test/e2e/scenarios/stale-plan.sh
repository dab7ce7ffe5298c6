# A saved plan is refused when the kernel changed behind its back (exit 3,
# "stale"), and nothing is written; a fresh saved plan applies.
model m.yaml <<'Y'
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: dr
    real_servers:
      - {address: 10.1.0.5, weight: 1}
Y
must lbx apply -f m.yaml --auto-approve
sed -i 's/weight: 1/weight: 2/' m.yaml
must lbx plan -f m.yaml --out p.plan
[[ -s p.plan ]] || fail "plan --out wrote no file"
must ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 7 # behind its back
run lbx apply p.plan
expect_rc 3 "stale plan"
grep -qi stale <<<"$OUT$ERR_OUT" || fail "the refusal does not say 'stale'"
expect_kernel_line "-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 7"

must lbx plan -f m.yaml --out p2.plan
must lbx apply p2.plan
expect_kernel <<'K'
-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 2
K

# A service lbx did not create and the model does not declare is left alone
# by plan and apply; --prune removes it (and only it).
model m.yaml <<'Y'
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: dr
    real_servers:
      - {address: 10.1.0.5}
Y
must ipvsadm -A -t 10.0.0.9:80 -s rr
must ipvsadm -a -t 10.0.0.9:80 -r 10.1.0.99:80 -g -w 1
must lbx apply -f m.yaml --auto-approve
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0 "an unmanaged service is not a change"
expect_out_lacks "10.0.0.9"
expect_kernel <<'K'
-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 1
-A -t 10.0.0.9:80 -s rr
-a -t 10.0.0.9:80 -r 10.1.0.99:80 -g -w 1
K
run lbx plan -f m.yaml --prune --detailed-exitcode
expect_rc 2
expect_out_contains "- service.tcp/10.0.0.9:80"
must lbx apply -f m.yaml --auto-approve --prune
expect_kernel <<'K'
-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 1
K

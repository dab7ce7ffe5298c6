# Drift made by hand with ipvsadm: a managed service deleted, a weight
# changed, a stranger real server added inside a managed service. plan shows
# each; apply repairs each, back to exactly the model.
model m.yaml <<'Y'
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: dr
    real_servers:
      - {address: 10.1.0.5, weight: 5}
      - {address: 10.1.0.6}
  - address: 10.0.0.2
    port: 80
    forwarding: nat
    real_servers:
      - {address: 10.1.0.7, port: 8080}
Y
want='-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 5
-a -t 10.0.0.1:80 -r 10.1.0.6:80 -g -w 1
-A -t 10.0.0.2:80 -s wlc
-a -t 10.0.0.2:80 -r 10.1.0.7:8080 -m -w 1'
must lbx apply -f m.yaml --auto-approve
expect_kernel <<<"$want"

must ipvsadm -D -t 10.0.0.2:80
must ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 9
must ipvsadm -a -t 10.0.0.1:80 -r 10.9.9.9:80 -g -w 1
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 2 "drift is a change"
expect_out_contains "+ service.tcp/10.0.0.2:80"
expect_out_contains "+ real.tcp/10.0.0.2:80/10.1.0.7:8080"
expect_out_contains "~ real.tcp/10.0.0.1:80/10.1.0.5:80"
expect_out_contains "- real.tcp/10.0.0.1:80/10.9.9.9:80"
expect_plan "2 1 1"
must lbx apply -f m.yaml --auto-approve
expect_kernel <<<"$want"
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0

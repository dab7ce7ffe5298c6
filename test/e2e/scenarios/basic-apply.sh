# Cold apply of a small model: plan writes nothing, apply makes exactly the
# kernel table, plan right after has no changes, apply again writes nothing.
model m.yaml <<'Y'
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    protocol: tcp
    scheduler: wlc
    forwarding: dr
    real_servers:
      - {address: 10.1.0.5, port: 80, weight: 2}
      - {address: 10.1.0.6, port: 80}
  - address: 10.0.0.1
    port: 53
    protocol: udp
    scheduler: rr
    forwarding: nat
    real_servers:
      - {address: 10.1.0.7, port: 5353}
Y
want='-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 2
-a -t 10.0.0.1:80 -r 10.1.0.6:80 -g -w 1
-A -u 10.0.0.1:53 -s rr
-a -u 10.0.0.1:53 -r 10.1.0.7:5353 -m -w 1'

run lbx plan -f m.yaml --detailed-exitcode
expect_rc 2 "changes pending"
expect_out_contains "+ service.tcp/10.0.0.1:80"
expect_out_contains "+ real.udp/10.0.0.1:53/10.1.0.7:5353"
expect_plan "5 0 0"
expect_kernel_empty # plan must not write

must lbx apply -f m.yaml --auto-approve
expect_kernel <<<"$want"

run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0 "no changes right after apply"
expect_out_contains "No changes."

must lbx apply -f m.yaml --auto-approve -o json
[[ $(json_int kernel_writes) == 0 ]] || fail "second apply: kernel_writes=$(json_int kernel_writes), want 0"
grep -qE '"changed"[[:space:]]*:[[:space:]]*false' <<<"$OUT" || fail 'second apply: want "changed": false'
expect_kernel <<<"$want"

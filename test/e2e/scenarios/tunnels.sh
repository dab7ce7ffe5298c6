# TUN real servers with each encapsulation the kernel has: ipip, gue (with
# its UDP port) and gre (with checksums). lbx writes and reads the tunnel
# settings itself (moby/ipvs has no field for them), so plan after apply
# must be empty, and a change of encapsulation is one in-place edit.
model m.yaml <<'Y'
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    scheduler: rr
    forwarding: tun
    real_servers:
      - {address: 10.1.0.1, port: 80}
      - {address: 10.1.0.2, port: 80, tunnel: {type: gue, port: 6080}}
      - {address: 10.1.0.3, port: 80, tunnel: {type: gre, checksum: csum}}
Y
must lbx apply -f m.yaml --auto-approve
expect_kernel <<'K'
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.1.0.1:80 -i -w 1 --tun-type ipip
-a -t 10.0.0.1:80 -r 10.1.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 1 --tun-type gre --tun-csum
K
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0 "tunnel settings read back as written"

sed -i 's/tunnel: {type: gue, port: 6080}/tunnel: {type: ipip}/' m.yaml
run lbx plan -f m.yaml
expect_out_contains "~ real.tcp/10.0.0.1:80/10.1.0.2:80"
expect_plan "0 1 0"
must lbx apply -f m.yaml --auto-approve
expect_kernel <<'K'
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.1.0.1:80 -i -w 1 --tun-type ipip
-a -t 10.0.0.1:80 -r 10.1.0.2:80 -i -w 1 --tun-type ipip
-a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 1 --tun-type gre --tun-csum
K
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0 "back to ipip in place, nothing left to do"

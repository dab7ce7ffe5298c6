# Removing a real server, then a whole service, from the model removes
# exactly those from the kernel and leaves the rest as it was.
model m.yaml <<'Y'
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: dr
    real_servers:
      - {address: 10.1.0.5}
      - {address: 10.1.0.6}
      - {address: 10.1.0.7}
  - address: 10.0.0.2
    port: 443
    forwarding: nat
    real_servers:
      - {address: 10.1.0.8, port: 8443}
Y
must lbx apply -f m.yaml --auto-approve
expect_kernel_line "-a -t 10.0.0.1:80 -r 10.1.0.6:80 -g -w 1"

sed -i '/10.1.0.6/d' m.yaml
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 2
expect_out_contains "- real.tcp/10.0.0.1:80/10.1.0.6:80"
expect_plan "0 0 1"
must lbx apply -f m.yaml --auto-approve
expect_kernel <<'K'
-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 1
-a -t 10.0.0.1:80 -r 10.1.0.7:80 -g -w 1
-A -t 10.0.0.2:443 -s wlc
-a -t 10.0.0.2:443 -r 10.1.0.8:8443 -m -w 1
K

model m.yaml <<'Y'
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: dr
    real_servers:
      - {address: 10.1.0.5}
      - {address: 10.1.0.7}
Y
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 2
expect_out_contains "- service.tcp/10.0.0.2:443"
must lbx apply -f m.yaml --auto-approve
expect_kernel <<'K'
-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 1
-a -t 10.0.0.1:80 -r 10.1.0.7:80 -g -w 1
K
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0

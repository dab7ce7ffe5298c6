# Persistence timeout and granularity, as prefix length and as netmask, for
# IPv4 and IPv6; keepalived's 360 s default when no timeout is given.
model m.yaml <<'Y'
version: 1
virtual_servers:
  - {address: 10.0.0.1, port: 80, forwarding: dr, persistence: {timeout: 300s, granularity: 24}, real_servers: [{address: 10.1.0.5}]}
  - {address: 10.0.0.1, port: 81, forwarding: dr, persistence: {timeout: 60s, granularity: 255.255.0.0}, real_servers: [{address: 10.1.0.5}]}
  - {address: 10.0.0.1, port: 82, forwarding: dr, persistence: {}, real_servers: [{address: 10.1.0.5}]}
  - {address: "2001:db8::1", port: 80, forwarding: dr, persistence: {timeout: 120s, granularity: 64}, real_servers: [{address: "2001:db8::5"}]}
Y
must lbx apply -f m.yaml --auto-approve
expect_kernel_line "-A -t 10.0.0.1:80 -s wlc -p 300 -M 255.255.255.0"
expect_kernel_line "-A -t 10.0.0.1:81 -s wlc -p 60 -M 255.255.0.0"
expect_kernel_line "-A -t 10.0.0.1:82 -s wlc -p 360"
expect_kernel_line "-A -t [2001:db8::1]:80 -s wlc -p 120 -M 64"
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0

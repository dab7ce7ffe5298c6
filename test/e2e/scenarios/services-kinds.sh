# Every kind of service and forwarding method lands in the kernel as
# declared: fwmark (v4, v6), UDP, SCTP, IPv6, NAT, DR, TUN, one-packet,
# scheduler flags.
model m.yaml <<'Y'
version: 1
virtual_servers:
  - {address: 10.0.0.1, port: 80, protocol: tcp, scheduler: rr, forwarding: nat,
     real_servers: [{address: 10.1.0.1, port: 8080}]}
  - {address: 10.0.0.1, port: 81, protocol: tcp, scheduler: rr, forwarding: dr,
     real_servers: [{address: 10.1.0.2}]}
  - {address: 10.0.0.1, port: 82, protocol: tcp, scheduler: rr, forwarding: tun,
     real_servers: [{address: 10.1.0.3}]}
  - {address: 10.0.0.1, port: 53, protocol: udp, scheduler: rr, one_packet: true, forwarding: nat,
     real_servers: [{address: 10.1.0.4, weight: 3}]}
  - {address: 10.0.0.1, port: 3868, protocol: sctp, scheduler: sh, scheduler_flags: [sh-port, sh-fallback], forwarding: dr,
     real_servers: [{address: 10.1.0.5}]}
  - {address: "2001:db8::1", port: 443, protocol: tcp, scheduler: lc, forwarding: nat,
     real_servers: [{address: "2001:db8::10", port: 8443}]}
  - {fwmark: 7, scheduler: mh, scheduler_flags: [mh-port], forwarding: dr,
     real_servers: [{address: 10.1.0.6}]}
  - {fwmark: 8, family: 6, scheduler: rr, forwarding: dr,
     real_servers: [{address: "2001:db8::11"}]}
Y
must lbx apply -f m.yaml --auto-approve
expect_kernel <<'K'
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 1
-A -t 10.0.0.1:81 -s rr
-a -t 10.0.0.1:81 -r 10.1.0.2:81 -g -w 1
-A -t 10.0.0.1:82 -s rr
-a -t 10.0.0.1:82 -r 10.1.0.3:82 -i -w 1 --tun-type ipip
-A -u 10.0.0.1:53 -s rr -o
-a -u 10.0.0.1:53 -r 10.1.0.4:53 -m -w 3
-A --sctp-service 10.0.0.1:3868 -s sh -b sh-fallback,sh-port
-a --sctp-service 10.0.0.1:3868 -r 10.1.0.5:3868 -g -w 1
-A -t [2001:db8::1]:443 -s lc
-a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -m -w 1
-A -f 7 -s mh -b mh-port
-a -f 7 -r 10.1.0.6:0 -g -w 1
-A -f 8 -6 -s rr
-a -f 8 -6 -r [2001:db8::11]:0 -g -w 1
K
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0

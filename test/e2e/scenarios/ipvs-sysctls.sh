# IPVS sysctls as model settings (issue 21): plan shows each named
# setting whose kernel value differs (~ sysctl.net.ipv4.vs.NAME 0 -> 1, in
# text and JSON), apply writes it (read back from /proc/sys, the kernel's
# own view), a second plan is empty, drift by hand is repaired, a setting
# the model leaves out keeps the kernel's value, export carries them and
# plan --live reads them back, and they are per network namespace.
vs=/proc/sys/net/ipv4/vs
names="sloppy_tcp sloppy_sctp conn_reuse_mode expire_nodest_conn pmtu_disc"
declare -A saved
for n in $names; do saved[$n]=$(cat "$vs/$n"); done
restore() {
	for n in $names; do echo "${saved[$n]}" >"$vs/$n"; done
	ip netns del sx 2>/dev/null || true
}
trap restore EXIT
sysctl_is() { # NAME WANT [NETNS]
	local got
	if [[ -n ${3:-} ]]; then got=$(ip netns exec "$3" cat "$vs/$1"); else got=$(cat "$vs/$1"); fi
	[[ $got == "$2" ]] || fail "kernel${3:+ (netns $3)}: net.ipv4.vs.$1 is $got, want $2"
}

# A known start: the kernel's defaults, and pmtu_disc (left out of the
# model) off, to see that lbx leaves it so.
echo 0 >$vs/sloppy_tcp
echo 0 >$vs/sloppy_sctp
echo 1 >$vs/conn_reuse_mode
echo 0 >$vs/expire_nodest_conn
echo 0 >$vs/pmtu_disc
model m.yaml <<'Y'
version: 1
ipvs:
  sysctls: {sloppy_tcp: true, sloppy_sctp: true, conn_reuse_mode: 0, expire_nodest_conn: true}
virtual_servers:
  - {address: 10.0.0.1, port: 80, scheduler: mh, scheduler_flags: [mh-port], forwarding: dr, real_servers: [{address: 10.1.0.5}]}
Y
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 2
expect_out_contains "~ sysctl.net.ipv4.vs.sloppy_tcp  0 -> 1"
expect_out_contains "~ sysctl.net.ipv4.vs.sloppy_sctp  0 -> 1"
expect_out_contains "~ sysctl.net.ipv4.vs.conn_reuse_mode  1 -> 0"
expect_out_contains "~ sysctl.net.ipv4.vs.expire_nodest_conn  0 -> 1"
expect_out_lacks "pmtu_disc"
expect_plan "2 4 0"
# The settings come before the service (sloppy TCP on before flows arrive).
first=$(grep -m1 -E '^ +[-~+/]+ ' <<<"$OUT")
[[ $first == *sysctl.* ]] || fail "the first change is not a sysctl: $first"

run lbx plan -f m.yaml -o json
expect_rc 0
tr -d ' \n' <<<"$OUT" | grep -qF '"address":"sysctl.net.ipv4.vs.sloppy_tcp","type":"sysctl","change":{"actions":["update"],"before":{"name":"net.ipv4.vs.sloppy_tcp","value":0},"after":{"name":"net.ipv4.vs.sloppy_tcp","value":1}}' ||
	fail "plan JSON lacks the sloppy_tcp update"

must lbx apply -f m.yaml --auto-approve
sysctl_is sloppy_tcp 1
sysctl_is sloppy_sctp 1
sysctl_is conn_reuse_mode 0
sysctl_is expire_nodest_conn 1
sysctl_is pmtu_disc 0 # not in the model: the kernel's value stays
kernel_rules | grep -q -- "-A -t 10.0.0.1:80 -s mh" || fail "the service is not in IPVS"

note "idempotent: a second plan and apply change nothing"
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0 "plan after apply"
must lbx apply -f m.yaml --auto-approve
expect_plan "0 0 0"

note "drift by hand is planned and repaired"
echo 0 >$vs/sloppy_tcp
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 2
expect_out_contains "~ sysctl.net.ipv4.vs.sloppy_tcp  0 -> 1"
expect_plan "0 1 0"
must lbx apply -f m.yaml --auto-approve
sysctl_is sloppy_tcp 1

note "a setting that leaves the model keeps the kernel's value"
model m2.yaml <<'Y'
version: 1
ipvs:
  sysctls: {sloppy_tcp: true}
virtual_servers:
  - {address: 10.0.0.1, port: 80, scheduler: mh, scheduler_flags: [mh-port], forwarding: dr, real_servers: [{address: 10.1.0.5}]}
Y
run lbx plan -f m2.yaml --detailed-exitcode
expect_rc 0 "dropping settings from the model changes nothing"
sysctl_is conn_reuse_mode 0

note "export carries them; plan --live reads them back"
must lbx export
echo "$OUT" >exported.yaml
expect_out_contains "sloppy_tcp: true"
expect_out_contains "conn_reuse_mode: 0"
expect_out_contains "pmtu_disc: false"
run lbx plan -f exported.yaml --detailed-exitcode
expect_rc 0 "export -> plan round trip"
sed 's/sloppy_tcp: true/sloppy_tcp: false/' m.yaml >off.yaml
run lbx plan -f off.yaml --live exported.yaml
expect_rc 0
expect_out_contains "~ sysctl.net.ipv4.vs.sloppy_tcp  1 -> 0"
expect_plan "0 1 0"
sysctl_is sloppy_tcp 1 # --live reads a file, not the kernel

note "per network namespace: the namespace's own values"
must ip netns add sx
sysctl_is sloppy_tcp 0 sx
model ns.yaml <<'Y'
version: 1
ipvs:
  sysctls: {sloppy_tcp: true, conn_reuse_mode: 2}
Y
echo 0 >$vs/sloppy_tcp
run lbx plan --netns sx -f ns.yaml --state-dir "$PWD/state" --detailed-exitcode
expect_rc 2
expect_out_contains "~ sysctl.net.ipv4.vs.sloppy_tcp  0 -> 1"
expect_out_contains "~ sysctl.net.ipv4.vs.conn_reuse_mode  1 -> 2"
must lbx apply --netns sx -f ns.yaml --state-dir "$PWD/state" --auto-approve
sysctl_is sloppy_tcp 1 sx
sysctl_is conn_reuse_mode 2 sx
sysctl_is sloppy_tcp 0 # the host's is its own
sysctl_is conn_reuse_mode 0
run lbx plan --netns sx -f ns.yaml --state-dir "$PWD/state" --detailed-exitcode
expect_rc 0 "netns: plan after apply"

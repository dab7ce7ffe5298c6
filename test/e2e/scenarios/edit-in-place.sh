# In-place edits are one "~" change each and keep the service: the kernel's
# connection counter of the service survives every edit (a delete+add would
# reset it to 0).
dummy vip0 10.0.0.1/32
base() { # $1 scheduler, $2 persistence line, $3 real server extras, $4 forwarding
	model m.yaml <<Y
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    protocol: tcp
    scheduler: $1
$2
    real_servers:
      - {address: 10.1.0.5, port: 80, forwarding: $4$3}
      - {address: 10.1.0.6, port: 80, forwarding: dr, weight: 1}
Y
}
base wlc "" ", weight: 1" dr
must lbx apply -f m.yaml --auto-approve
expect_kernel_line "-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 1"
touch_service 10.0.0.1 80
conns=$(service_conns -t 10.0.0.1:80)
((conns >= 1)) || fail "no connection counted on the service (rig problem)"

# edit NAME, then the model args, then the kernel line that must appear.
step() {
	local name=$1 line=$6
	note "edit: $name"
	base "$2" "$3" "$4" "$5"
	run lbx plan -f m.yaml --detailed-exitcode
	expect_rc 2 "$name is a change"
	expect_plan "0 1 0"
	grep -qE '^[[:space:]]*~ ' <<<"$OUT" || fail "$name: no '~' line in the plan"
	must lbx apply -f m.yaml --auto-approve -o json
	[[ $(json_int kernel_writes) == 1 ]] || fail "$name: kernel_writes=$(json_int kernel_writes), want 1"
	if [[ $line == thresholds:* ]]; then
		got=$(real_thresholds -t 10.0.0.1:80 10.1.0.5:80)
		[[ $got == "${line#thresholds:}" ]] || fail "$name: kernel thresholds '$got', want '${line#thresholds:}'"
	else
		expect_kernel_line "$line"
	fi
	local now
	now=$(service_conns -t 10.0.0.1:80)
	((now >= conns)) || fail "$name: the service's connection counter went $conns -> $now (service recreated?)"
	touch_service 10.0.0.1 80
	conns=$(service_conns -t 10.0.0.1:80)
	run lbx plan -f m.yaml --detailed-exitcode
	expect_rc 0 "$name: no changes after apply"
}
step weight wlc "" ", weight: 3" dr "-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 3"
step scheduler rr "" ", weight: 3" dr "-A -t 10.0.0.1:80 -s rr"
step persistence rr "    persistence: {timeout: 300s, granularity: 24}" ", weight: 3" dr "-A -t 10.0.0.1:80 -s rr -p 300 -M 255.255.255.0"
step granularity rr "    persistence: {timeout: 300s, granularity: 16}" ", weight: 3" dr "-A -t 10.0.0.1:80 -s rr -p 300 -M 255.255.0.0"
step thresholds rr "    persistence: {timeout: 300s, granularity: 16}" ", weight: 3, upper_threshold: 100, lower_threshold: 10" dr "thresholds:100 10"
step forwarding rr "    persistence: {timeout: 300s, granularity: 16}" ", weight: 3, upper_threshold: 100, lower_threshold: 10" tun "-a -t 10.0.0.1:80 -r 10.1.0.5:80 -i -w 3 --tun-type ipip"
note "counter after all edits: $conns"

#!/bin/bash
# The test-mode entry of the e2e VM (/e2e/main). Runs every selected
# scenario in a clean kernel state and prints, per scenario:
#   @@BEGIN name
#   ...its log (commands, outputs, the failing assertion)...
#   @@SCENARIO name PASS|FAIL seconds
# and at the end "@@DONE pass=N fail=M". The Go driver parses exactly this.
set -u
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
cd /e2e

selected=()
while read -r s; do [[ -n $s ]] && selected+=("$s"); done </e2e/selected
is_selected() {
	local n=$1 s
	((${#selected[@]} == 0)) && return 0
	for s in "${selected[@]}"; do
		# shellcheck disable=SC2053 # glob match on purpose
		[[ $n == $s ]] && return 0
	done
	return 1
}

# Scenarios marked "# e2e: before-ipvs" need a kernel where ip_vs is not
# loaded yet; they run first, then the runner loads ip_vs and every
# scheduler module the kernel ships.
early=() late=()
for f in /e2e/scenarios/*.sh; do
	n=$(basename "$f" .sh)
	is_selected "$n" || continue
	if grep -q '^# e2e: before-ipvs' "$f"; then early+=("$n"); else late+=("$n"); fi
done

ipvs_mods() {
	local m
	for m in /lib/modules/$(uname -r)/kernel/net/netfilter/ipvs/ip_vs_*.ko*; do
		m=$(basename "$m")
		echo "${m%%.ko*}"
	done
}
load_ipvs() {
	modprobe ip_vs || echo "runner: modprobe ip_vs failed"
	local m
	for m in $(ipvs_mods); do modprobe "$m" || echo "runner: modprobe $m failed"; done
}

# reset_kernel gives each scenario a fresh kernel: IPVS reloaded (its
# connection table too: ipvsadm -C keeps connection entries, and a previous
# scenario's would skew connection counters), links and lbx state removed.
reset_kernel() {
	if [[ -e /proc/net/ip_vs ]]; then
		ipvsadm -C
		local m
		for m in $(ipvs_mods); do rmmod "$m" 2>/dev/null; done
		rmmod ip_vs 2>/dev/null || echo "runner: rmmod ip_vs failed: $(lsmod | grep '^ip_vs ')"
		load_ipvs
	fi
	local l
	for l in $(ls /sys/class/net); do
		[[ $l == lo ]] || ip link del "$l" 2>/dev/null
	done
	ip -4 addr flush dev lo scope global 2>/dev/null
	rm -rf /var/lib/lbx /run/lbx
}

pass=0 fail=0
run_one() {
	local n=$1 dir=/tmp/scenario-$1 start rc limit
	# A scenario may need longer: a line "# e2e: timeout SECONDS".
	limit=$(sed -n 's/^# e2e: timeout \([0-9][0-9]*\)$/\1/p' "/e2e/scenarios/$n.sh")
	limit=${limit:-${SCENARIO_TIMEOUT:-300}}
	reset_kernel
	mkdir -p "$dir"
	start=$(date +%s)
	# Its own session, so that stray children (a backgrounded lbx, a
	# listener) are killed with it and cannot leak into the next scenario.
	(cd "$dir" && exec setsid timeout -s KILL "$limit" bash -c 'set -eEuo pipefail; . /e2e/lib.sh; . "$1"' scenario "/e2e/scenarios/$n.sh") >"$dir.log" 2>&1 &
	local pid=$!
	wait "$pid"
	rc=$?
	kill -9 -- "-$pid" 2>/dev/null
	((rc == 137)) && echo "FAIL: scenario killed after ${limit}s" >>"$dir.log"
	echo "@@BEGIN $n"
	cat "$dir.log"
	if ((rc == 0)); then
		pass=$((pass + 1))
		echo "@@SCENARIO $n PASS $(($(date +%s) - start))"
	else
		fail=$((fail + 1))
		echo "@@SCENARIO $n FAIL $(($(date +%s) - start))"
	fi
}

for n in "${early[@]}"; do run_one "$n"; done
load_ipvs
for n in "${late[@]}"; do run_one "$n"; done
echo "@@DONE pass=$pass fail=$fail"

# VRRP parity over the wild corpus's files with lvs_sync_daemon (issue
# 25, item 3): keepalived's VRRP process needs IPVS there, which the host
# lacks, so TestWildVRRP (test/wildconf) skips them and this scenario does
# its comparison. For each file keepalived 2.2.7 accepts that has VRRP
# instances and lvs_sync_daemon (staged by test/wildconf/stage in
# /e2e/wild/vrrp-sync; the GPL/unlicensed ones only where
# ../shared/corpus/wild exists, the others counted as skipped),
# keepalived's VRRP process runs with TestWildVRRP's options (`--vrrp -d`:
# it dumps the configuration it runs with), and vrrpparity
# (test/wildconf/vrrpparity, TestWildVRRP's comparison) compares every
# instance of `lbx convert`'s model with the dump: router id, version,
# priority, advert interval, preemption, VIPs, source address, unicast
# peers, tracked interfaces' weights, and the set of instances.
#
# e2e: timeout 900

index=/e2e/wild/vrrp-sync
[[ -f $index ]] || fail "no staged corpus at $index (vm.sh runs test/wildconf/stage)"

# keepalived_dump N MAIN: keepalived's VRRP process on MAIN, its log (with
# the dump) in ka-N.log, stopped once the dump's VRRP topology is out (or
# it stopped, or 90 s: a file with hundreds of instances takes tens of s).
keepalived_dump() {
	local n=$1 main=$2 ka i
	rm -f k.pid v.pid
	keepalived --vrrp -n -l -d -D -i lbxtest -p "$PWD/k.pid" -r "$PWD/v.pid" -f "$main" >"ka-$n.log" 2>&1 &
	ka=$!
	for i in $(seq 1 900); do
		grep -qE '^(.*: )?------< Interfaces >|Stopped Keepalived|initialize ipvs' "ka-$n.log" && break
		kill -0 "$ka" 2>/dev/null || break
		sleep 0.1
	done
	kill "$ka" 2>/dev/null || true
	for i in $(seq 1 100); do kill -0 "$ka" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$ka" $(cat v.pid 2>/dev/null) 2>/dev/null || true
	wait "$ka" 2>/dev/null || true
}

total=0 instances=0 differ=0 refused=0 broken=0
failed=()
while IFS=$'\t' read -r name main tree ifaces; do
	total=$((total + 1))
	n=$total
	note "[$n] $name"
	[[ $tree == - ]] || { rm -rf /etc/keepalived && cp -a "$tree" /etc/keepalived; }
	wild_links "$ifaces"
	keepalived_dump "$n" "$main"
	if ! lbx convert --config-id lbxtest "$main" >"$n.yaml" 2>"convert-$n.err"; then
		refused=$((refused + 1)) failed+=("$name: lbx convert refuses it")
		grep -m3 error "convert-$n.err" || true
	else
		rc=0
		vrrpparity "ka-$n.log" "$n.yaml" >"parity-$n.out" 2>&1 || rc=$?
		cat "parity-$n.out"
		got=$(sed -n 's/^@@VRRP instances=\([0-9]*\) differ=\([0-9]*\)$/\1 \2/p' "parity-$n.out")
		if [[ -n $got ]]; then
			instances=$((instances + ${got% *})) differ=$((differ + ${got#* }))
		fi
		if ((rc == 1)); then
			failed+=("$name: differs")
		elif ((rc != 0)); then
			broken=$((broken + 1)) failed+=("$name: not compared")
			tail -8 "ka-$n.log" || true
		fi
	fi
	[[ $tree == - ]] || rm -rf /etc/keepalived
	wild_unlinks "$ifaces"
done <"$index"

skipped=$(cat /e2e/wild/skipped)
note "parity-wild-vrrp: $total files with VRRP and lvs_sync_daemon that keepalived accepts; $instances instances compared with keepalived's dump, $differ differences; $refused refused by lbx convert, $broken not compared; $skipped corpus files skipped (../shared/corpus/wild absent)"
echo "@@VRRPPARITY files=$total instances=$instances differ=$differ refused=$refused broken=$broken skipped=$skipped"
for f in "${failed[@]}"; do note "$f"; done
((${#failed[@]} == 0)) || fail "${#failed[@]} of $total files without VRRP parity"

# Parity oracle over the wild keepalived.conf corpus (issue 25, item 3):
# for every corpus file that keepalived 2.2.7 accepts and that declares
# virtual servers (staged by test/wildconf/stage at /e2e/wild; the
# GPL/unlicensed ones only where ../shared/corpus/wild exists, the others
# counted as skipped), keepalived --check programs IPVS, then
# `lbx convert | lbx apply` programs it from an empty table: the sorted
# `ipvsadm-save -n` and `ipvsadm -Ln --thresholds` must be identical.
#
# The files name real servers nobody runs here, so keepalived's checkers
# would take them out: a default route into a dummy link (packets dropped,
# no error) makes every connect wait for its connect_timeout, and the
# table is read as soon as it is stable after startup, before any checker
# can fail. Files lbx refuses are TestWildConvert's known failures
# (test/wildconf/convert_test.go): counted, not compared. Files whose
# includes name absolute paths get their tree at /etc/keepalived (the
# guest is thrown away).
#
# e2e: timeout 1500

index=/e2e/wild/index
[[ -s $index ]] || fail "no staged corpus at $index (vm.sh runs test/wildconf/stage)"

ip link add lbxsink type dummy
ip link set lbxsink up
ip route add default dev lbxsink
ip -6 addr add 2001:db8:ffff::1/64 dev lbxsink nodad 2>/dev/null || true
ip -6 route add default dev lbxsink 2>/dev/null || true

# links NAMES: a dummy link (up) for each interface the file names.
links() {
	local l
	for l in ${1//,/ }; do
		ip link show "$l" >/dev/null 2>&1 && continue
		ip link add "$l" type dummy 2>/dev/null && ip link set "$l" up
	done
	return 0
}

unlinks() {
	local l
	for l in ${1//,/ }; do ip link del "$l" 2>/dev/null || true; done
	return 0
}

# stable_table OUT: waits until ipvsadm-save -n gives the same (non-empty
# once anything shows) output twice 0.3 s apart, then writes it to OUT.
stable_table() {
	local prev="" cur i
	for i in $(seq 1 40); do
		cur=$(ipvsadm-save -n | sort)
		[[ -n $cur && $cur == "$prev" ]] && break
		prev=$cur
		sleep 0.3
	done
	printf '%s\n' "$cur" >"$1"
}

# keepalived_table NAME MAIN: keepalived --check's table for MAIN, in
# ka-NAME.save and ka-NAME.thr; returns 1 when keepalived did not start.
keepalived_table() {
	local n=$1 main=$2 ka i
	ipvsadm -C
	rm -f ka.pid ka-check.pid
	keepalived --check -n -l -D -i lbxtest -f "$main" -p "$PWD/ka.pid" -c "$PWD/ka-check.pid" >"ka-$n.log" 2>&1 &
	ka=$!
	for i in $(seq 1 600); do
		grep -q "Startup complete" "ka-$n.log" && break
		kill -0 "$ka" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q "Startup complete" "ka-$n.log"; then
		kill -9 "$ka" $(cat ka-check.pid 2>/dev/null) 2>/dev/null || true
		wait "$ka" 2>/dev/null || true
		return 1
	fi
	stable_table "ka-$n.save"
	ipvsadm -Ln --thresholds | sort >"ka-$n.thr"
	# SIGKILL: a clean stop would remove the rules just read.
	kill -9 "$ka" $(cat ka-check.pid 2>/dev/null) 2>/dev/null || true
	wait "$ka" 2>/dev/null || true
	ipvsadm -C
	return 0
}

# showdiff A B: the first lines of a unified diff.
showdiff() { diff -u "$1" "$2" | head -40 || true; }

total=0 same=0 refused=0 differ=0 noka=0 empty=0
differing=() refusing=() nostart=()
while IFS=$'\t' read -r name main tree ifaces; do
	total=$((total + 1))
	n=$total
	note "[$n] $name"
	[[ $tree == - ]] || { rm -rf /etc/keepalived && cp -a "$tree" /etc/keepalived; }
	links "$ifaces"
	if ! keepalived_table "$n" "$main"; then
		noka=$((noka + 1)) nostart+=("$name")
		tail -5 "ka-$n.log" || true
		note "  keepalived did not start"
		unlinks "$ifaces"
		continue
	fi
	if [[ ! -s ka-$n.save ]] || ! grep -q '^-A' "ka-$n.save"; then
		empty=$((empty + 1))
		note "  keepalived programmed no service (its virtual servers are all skipped)"
	fi
	if ! lbx convert --config-id lbxtest "$main" >"$n.yaml" 2>"convert-$n.err"; then
		refused=$((refused + 1)) refusing+=("$name")
		grep -m3 error "convert-$n.err" || true
		note "  lbx convert refuses it (a known failure of TestWildConvert)"
		unlinks "$ifaces"
		continue
	fi
	rm -rf /var/lib/lbx /run/lbx
	if ! lbx apply -f "$n.yaml" --auto-approve >"apply-$n.out" 2>&1; then
		tail -5 "apply-$n.out"
		differ=$((differ + 1)) differing+=("$name (apply failed)")
		note "  lbx apply failed"
	else
		ipvsadm-save -n | sort >"lbx-$n.save"
		ipvsadm -Ln --thresholds | sort >"lbx-$n.thr"
		if cmp -s "ka-$n.save" "lbx-$n.save" && cmp -s "ka-$n.thr" "lbx-$n.thr"; then
			same=$((same + 1))
			note "  parity: $(grep -c '^-A' "ka-$n.save") services, $(grep -c '^-a' "ka-$n.save") real servers"
		else
			differ=$((differ + 1)) differing+=("$name")
			note "  differs (- keepalived, + lbx):"
			grep -E 'Removing|Disabling|Adding sorry|quorum|Activating' "ka-$n.log" | head -5 || true
			showdiff "ka-$n.save" "lbx-$n.save"
			showdiff "ka-$n.thr" "lbx-$n.thr"
		fi
	fi
	ipvsadm -C
	rm -rf /var/lib/lbx /run/lbx
	[[ $tree == - ]] || rm -rf /etc/keepalived
	unlinks "$ifaces"
done <"$index"

skipped=$(cat /e2e/wild/skipped)
note "parity-wild: $total files with virtual servers that keepalived accepts; $same with parity, $differ differ, $refused refused by lbx convert, $noka keepalived did not start; $empty where keepalived programmed no service; $skipped skipped (../shared/corpus/wild absent)"
echo "@@PARITY files=$total same=$same differ=$differ refused=$refused nostart=$noka skipped=$skipped"
for f in "${differing[@]}"; do note "differs: $f"; done
for f in "${refusing[@]}"; do note "refused: $f"; done
for f in "${nostart[@]}"; do note "keepalived did not start: $f"; done
((differ == 0 && noka == 0)) || fail "$differ files differ, keepalived did not start on $noka"

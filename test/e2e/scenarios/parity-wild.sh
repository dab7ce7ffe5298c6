# Parity oracle over the wild keepalived.conf corpus (issue 25, item 3):
# for every corpus file that keepalived 2.2.7 accepts and that declares
# virtual servers (staged by test/wildconf/stage at /e2e/wild; the
# GPL/unlicensed ones only where ../shared/corpus/wild exists, the others
# counted as skipped), keepalived --check programs IPVS, then
# `lbx convert | lbx apply` programs it from an empty table: the sorted
# `ipvsadm-save -n` and `ipvsadm -Ln --thresholds` must be identical.
# keepalived's first table depends on health (alpha real servers start
# down, a quorum down brings the sorry server in); lbx apply puts every
# real server in by design, so a file that differs there is compared
# with lbx watch's first table, the resident analogue.
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
	if [[ -n $cur ]]; then printf '%s\n' "$cur" >"$1"; else : >"$1"; fi
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

# watch_table NAME: lbx watch's table at its start (health checks running,
# as keepalived's) for NAME.yaml, in watch-NAME.save and watch-NAME.thr.
watch_table() {
	local n=$1 w
	ipvsadm -C
	rm -rf /var/lib/lbx /run/lbx
	lbx watch -f "$n.yaml" >"watch-$n.log" 2>&1 &
	w=$!
	sleep 1
	stable_table "watch-$n.save"
	ipvsadm -Ln --thresholds | sort >"watch-$n.thr"
	kill "$w" 2>/dev/null || true
	wait "$w" 2>/dev/null || true
	ipvsadm -C
}

# same NAME WHO: WHO's tables for NAME equal keepalived's.
same() { cmp -s "ka-$1.save" "$2-$1.save" && cmp -s "ka-$1.thr" "$2-$1.thr"; }

# Known differences, each with its reason (lbx convert reports the model's
# limits named here); a file listed here that differs does not fail the
# scenario, any other does.
declare -A known=(
	[pqarmitage/keepalived-devel-tools/configs/check_align.conf]="persistence_engine sip is not in the model (reported by lbx convert); the rest differs only by health at start (quorum, sorry servers), equal under lbx watch"
	[pqarmitage/keepalived-devel-tools/configs/bfd_check.conf]="BFD_CHECK is not in the model (reported): keepalived starts the alpha real server down and the sorry server in; without a check lbx keeps it up"
	[pqarmitage/keepalived-devel-tools/configs/1495.conf]="init_file: keepalived writes 3 to a missing track file at start, lbx does not (reported by lbx convert); equal when keepalived's run here has left the file"
)

# showdiff A B: the first lines of a unified diff.
showdiff() { diff -u "$1" "$2" | head -40 || true; }

total=0 same=0 watched=0 refused=0 differ=0 knowndiff=0 noka=0 empty=0
differing=() refusing=() nostart=() watching=() knowing=()
while IFS=$'\t' read -r name main tree ifaces; do
	total=$((total + 1))
	n=$total
	note "[$n] $name"
	[[ $tree == - ]] || { rm -rf /etc/keepalived && cp -a "$tree" /etc/keepalived; }
	wild_links "$ifaces"
	if ! keepalived_table "$n" "$main"; then
		noka=$((noka + 1)) nostart+=("$name")
		tail -5 "ka-$n.log" || true
		note "  keepalived did not start"
		wild_unlinks "$ifaces"
		continue
	fi
	if ! grep -q '^-A' "ka-$n.save"; then
		empty=$((empty + 1))
		note "  keepalived programmed no service (its virtual servers are all skipped)"
	fi
	if ! lbx convert --config-id lbxtest "$main" >"$n.yaml" 2>"convert-$n.err"; then
		refused=$((refused + 1)) refusing+=("$name")
		grep -m3 error "convert-$n.err" || true
		note "  lbx convert refuses it (a known failure of TestWildConvert)"
		wild_unlinks "$ifaces"
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
		if same "$n" lbx; then
			same=$((same + 1))
			note "  parity: $(grep -c '^-A' "ka-$n.save") services, $(grep -c '^-a' "ka-$n.save") real servers"
		else
			# keepalived's table at its start depends on health: alpha
			# servers start down, a quorum down brings the sorry server,
			# sorry_server_inhibit keeps it at weight 0. One-shot apply puts
			# every real server in by design; lbx watch is the analogue.
			watch_table "$n"
			if same "$n" watch; then
				watched=$((watched + 1)) watching+=("$name")
				note "  parity with lbx watch's start (apply differs: health at startup)"
				showdiff "ka-$n.save" "lbx-$n.save"
			else
				if [[ -n ${known[$name]:-} ]]; then
					knowndiff=$((knowndiff + 1)) knowing+=("$name: ${known[$name]}")
				else
					differ=$((differ + 1)) differing+=("$name")
				fi
				note "  differs (- keepalived, + lbx apply):"
				grep -E 'Removing|Disabling|Adding sorry|quorum' "ka-$n.log" | head -5 || true
				showdiff "ka-$n.save" "lbx-$n.save"
				showdiff "ka-$n.thr" "lbx-$n.thr"
				note "  and (- keepalived, + lbx watch):"
				showdiff "ka-$n.save" "watch-$n.save"
				tail -3 "watch-$n.log" || true
			fi
		fi
	fi
	ipvsadm -C
	rm -rf /var/lib/lbx /run/lbx
	[[ $tree == - ]] || rm -rf /etc/keepalived
	wild_unlinks "$ifaces"
done <"$index"

skipped=$(cat /e2e/wild/skipped)
note "parity-wild: $total files with virtual servers that keepalived accepts; $same with parity under lbx apply, $watched more under lbx watch (health at startup), $knowndiff known differences, $differ other differences, $refused refused by lbx convert, $noka keepalived did not start; $empty where keepalived programmed no service; $skipped skipped (../shared/corpus/wild absent)"
echo "@@PARITY files=$total apply=$same watch=$watched known=$knowndiff differ=$differ refused=$refused nostart=$noka skipped=$skipped"
for f in "${watching[@]}"; do note "parity with lbx watch only: $f"; done
for f in "${knowing[@]}"; do note "known difference: $f"; done
for f in "${differing[@]}"; do note "differs: $f"; done
for f in "${refusing[@]}"; do note "refused: $f"; done
for f in "${nostart[@]}"; do note "keepalived did not start: $f"; done
((differ == 0 && noka == 0)) || fail "$differ files differ (not known), keepalived did not start on $noka"

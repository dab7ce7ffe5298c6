# Cold apply of every example in examples/: every service of the plan
# appears in the kernel, plan right after exits 0, apply again writes nothing.
shopt -s nullglob
ex=(/e2e/examples/*.yaml)
((${#ex[@]} > 0)) || fail "no examples/*.yaml in the repo"
for f in "${ex[@]}"; do
	note "example $(basename "$f")"
	ipvsadm -C
	rm -rf /var/lib/lbx
	links_for "$f"
	# A fleet's model (nodes:) is applied as its first node.
	node=()
	if grep -q '^nodes:' "$f"; then
		node=(--node "$(awk '/^nodes:/ {n = 1; next} n && /^  [A-Za-z0-9_.-]+:/ {sub(/^  /, ""); sub(/:.*/, ""); print; exit}' "$f")")
	fi
	run lbx plan -f "$f" "${node[@]}" -o json
	expect_rc 0
	svcs=$(grep -oE '"address"[[:space:]]*:[[:space:]]*"service\.[^"]*"' <<<"$OUT" | sed 's/.*"service\.//; s/"$//' | sort -u || true)
	must lbx apply -f "$f" "${node[@]}" --auto-approve
	for s in $svcs; do
		case $s in
		fwmark*) k="-A -f ${s##*/}" ;;
		tcp/*) k="-A -t ${s#tcp/}" ;;
		udp/*) k="-A -u ${s#udp/}" ;;
		sctp/*) k="-A --sctp-service ${s#sctp/}" ;;
		esac
		grep -qF -- "$k " <<<"$(kernel_rules)" || fail "$(basename "$f"): planned service $s is not in the kernel"
	done
	before=$(kernel_rules)
	run lbx plan -f "$f" "${node[@]}" --detailed-exitcode
	expect_rc 0 "$(basename "$f"): no changes right after apply"
	must lbx apply -f "$f" "${node[@]}" --auto-approve -o json
	[[ $(json_int kernel_writes) == 0 ]] || fail "$(basename "$f"): second apply wrote $(json_int kernel_writes) times"
	[[ $(kernel_rules) == "$before" ]] || fail "$(basename "$f"): second apply changed the kernel"
	for l in $(ls /sys/class/net); do [[ $l == lo ]] || ip link del "$l"; done
done

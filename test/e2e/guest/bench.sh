#!/bin/bash
# The bench-mode entry of the e2e VM (/e2e/main): 2,000 services x 5 real
# servers, lbx next to its anchor, in this one boot, median of $REPS runs;
# then the same at $SCALE services (median of $SCALE_REPS), with each
# figure beside its 2,000 one and the anchor's growth beside lbx's; then
# the cost of adding 1,000 services to a table of 0, 5,000, 10,000 and
# $SCALE (growth; GROWTH=0: not). Cold applies run in a new network
# namespace each (see cold). One line per comparison:
#   @@BENCH name lbx=Xs anchor=Ys ratio=R.RR target=<=T (...)
# and "@@BENCH FAIL name ..." when a ratio misses its target (a
# measurement, not a broken build). A correctness check that fails (the
# kernel's rules, one kernel write for one weight) stops the bench before
# "bench: done", which make bench-vm then reports as a failure.
set -euo pipefail
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
. /e2e/lib.sh
trap - ERR
# LBX_GUEST_REPS, LBX_GUEST_SCALE, LBX_GUEST_SCALE_REPS, LBX_GUEST_GROWTH on the host.
[[ ! -f /e2e/env ]] || . /e2e/env
REPS=${REPS:-3}
SCALE=${SCALE:-20000}    # services of the scale run; 0: none
SCALE_REPS=${SCALE_REPS:-3}
r=5
modprobe ip_vs && modprobe ip_vs_wlc
cd /tmp

# secs CMD...: wall time of CMD in seconds (output discarded).
secs() {
	local t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; return 1; }
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f", b-a}'
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
spread() { printf '%s\n' "$@" | sort -n | awk 'NR==1{lo=$1} {hi=$1} END{printf "%.3f-%.3f", lo, hi}'; }

# Medians by "name@services", for the side-by-side scale lines.
declare -A LBX ANCHOR
# report NAME TARGET lbx-times... -- anchor-name anchor-times...
# TARGET is the highest ratio allowed ("-": none).
report() {
	local name=$1 target=$2; shift 2
	local l=() a=() an
	while [[ $1 != -- ]]; do l+=("$1"); shift; done
	shift; an=$1; shift
	a=("$@")
	local ml ma
	ml=$(median "${l[@]}") ma=$(median "${a[@]}")
	# Issue 27 sets its ratio targets at 2,000 x 5; at $SCALE it asks for
	# the ratios reported and the growth judged (scale, below).
	[[ $n == 2000 ]] || target=-
	LBX[$name@$n]=$ml ANCHOR[$name@$n]=$ma
	awk -v n="$name@$n" -v l="$ml" -v a="$ma" -v an="$an" -v k="${#l[@]}" -v t="$target" -v ls="$(spread "${l[@]}")" -v as="$(spread "${a[@]}")" 'BEGIN{
		r = (a > 0) ? l / a : 0
		printf "@@BENCH %-34s lbx=%.3fs %s=%.3fs ratio=%.2f", n, l, an, a, r
		if (t != "-") printf " target=<=%s", t
		printf " (median of %d; lbx %ss, %s %ss)\n", k, ls, an, as
		if (t != "-" && r > t + 0) printf "@@BENCH FAIL %s ratio=%.2f target=<=%s (missed)\n", n, r, t
	}'
	# The kernel's part gets its growth printed, not judged: lbx does not
	# choose what the kernel costs per request.
	[[ $n == 2000 || -z ${LBX[$name@2000]:-} ]] || scale "$name" "$([[ $name == *kernel-part ]] && echo -)"
}

# scale NAME [-]: lbx's time at 2,000 and at $n services side by side, and
# how it grew, beside the anchor's growth. Linear is the ratio of the sizes;
# the target allows 20 % more ("-": no target), of the anchor's growth where
# that was more: the anchors (ipvsadm-save, ipvsadm-restore) cost the same
# per line at any size, so one grown beyond linear in the same run measures
# how much slower the shared host ran the larger size, which lbx's time
# carried too (a run of f64718e: the anchor 14.1, lbx 12.3, 12.8, 13.7; the
# run before, the anchor 10.6 and lbx 10.2-10.5).
scale() {
	awk -v name="${1// /}" -v a="${LBX[$1@2000]}" -v b="${LBX[$1@$n]}" \
		-v ra="${ANCHOR[$1@2000]}" -v rb="${ANCHOR[$1@$n]}" -v s="$n" -v judge="${2:-yes}" 'BEGIN{
		lin = s / 2000; g = b / a; ag = rb / ra; t = 1.2 * (ag > lin ? ag : lin)
		printf "@@BENCH scale-%-24s lbx@2000=%.3fs lbx@%d=%.3fs growth=%.1f", name, a, s, b, g
		if (judge != "-") printf " target=<=%.1f", t
		printf " (linear: %.0f) anchor-growth=%.1f ratio@2000=%.2f ratio@%d=%.2f\n", lin, ag, a/ra, s, b/rb
		if (judge != "-" && g > t) printf "@@BENCH FAIL scale-%s growth=%.1f target=<=%.1f (missed)\n", name, g, t
	}'
}
fresh() { ipvsadm -C; rm -rf /var/lib/lbx; }
# check_kernel RULES WHAT [NETNS]: the kernel's table equals RULES.
check_kernel() {
	diff -q <(${3:+ip netns exec "$3"} ipvsadm-save -n | sort) "$1" >/dev/null || { echo "bench: kernel differs from $1 after $2" >&2; exit 1; }
}

# A cold apply runs in a new network namespace: IPVS state is per
# namespace, so this is a kernel with no IPVS state at all, as after a
# boot. Not a flushed table: IPVS keeps deleted real servers in a
# per-namespace trash for 2 to 4 minutes and walks that whole list on every
# real server added (ip_vs_trash_get_dest), so after `ipvsadm -C` of
# 100,000 real servers every add costs O(trash): 185 s instead of 10 s for
# lbx at 20,000 x 5 (docs/performance.md). "apply-after-flush" shows it.
# Its loopback goes up: with lo down the kernel refuses NAT real servers
# (EINVAL, "address not unicast").
NS=lbxbench
ns_new() { ip netns add $NS && ip netns exec $NS ip link set lo up && rm -rf /var/lib/lbx; }
ns_gone() { ip netns exec $NS ipvsadm -C; ip netns del $NS; settle; }
# settle: waits (30 s at most) until the kernel has freed a deleted
# namespace's IPVS objects, in the background, before the next timing: its
# per-CPU memory (each object has some) stops shrinking for a second.
settle() {
	local now last=-1 i
	for i in $(seq 30); do
		now=$(awk '/^Percpu:/ {print $2}' /proc/meminfo)
		[[ $now != "$last" ]] || return 0
		last=$now
		sleep 1
	done
}

# cold RULES CMD...: CMD's wall time in a new namespace (in T; its stderr
# in cold.log), and the table it made must be RULES.
cold() {
	local rules=$1; shift
	ns_new
	local t0=$EPOCHREALTIME
	ip netns exec $NS "$@" >/dev/null 2>cold.log || { echo "bench: '$*' failed: $(tail -3 cold.log)" >&2; exit 1; }
	T=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f", b-a}')
	check_kernel "$rules" "$*" $NS
	ns_gone
}
# kernel_secs LOG: the seconds lbx's IPVS writer waited for the kernel
# (the "ipvs requests written" debug lines of kernel/ipvsnl).
kernel_secs() {
	sed -n 's/.*msg="ipvs requests written".*took_ms=\([0-9.]*\).*/\1/p' "$1" | awk '{s += $1} END{printf "%.4f", s/1000}'
}
# rules_range FROM TO: gen_rules' lines of services FROM..TO-1, in model
# order (for ipvsadm -R: ipvsadm-restore flushes the table first).
rules_range() {
	awk -v s="$1" -v e="$2" -v r=$r 'BEGIN{
		for (i = s; i < e; i++) {
			v = sprintf("10.10.%d.%d:80", int(i/250), i%250+1)
			printf "-A -t %s -s wlc\n", v
			for (k = 0; k < r; k++) printf "-a -t %s -r 10.20.%d.%d:8080 -m -w 1\n", v, int(i/250), (i%250)*5%250+k+1
		}
	}'
}
# decode_secs MODEL: lbx's load of MODEL on its own (YAML, decode,
# validation), from the debug line model.LoadFile logs.
decode_secs() {
	local log
	log=$(lbx validate -f "$1" --log-level debug 2>&1 >/dev/null)
	sed -n 's/.*msg="model loaded".*decode_ms=\([0-9.]*\).*/\1/p' <<<"$log" | awk '{printf "%.4f", $1/1000}'
}

# bench N REPS [full]: every comparison at N services x r real servers;
# "full" adds the figures that explain them (2,000 only).
bench() {
	n=$1
	local reps=$2 full=${3:-} i
	gen_model "$n" $r big.yaml
	gen_model "$n" $r big2.yaml 9
	gen_rules "$n" $r >rules.txt
	echo "bench: $n services x $r real servers ($(wc -l <rules.txt) IPVS objects, $(wc -c <big.yaml) bytes of YAML), $reps runs each, kernel $(uname -r), $(nproc) vCPU (qemu TCG)"

	# 1. no-op plan vs ipvsadm-save -n (the state was made by lbx apply).
	fresh; lbx apply -f big.yaml --auto-approve >/dev/null 2>&1
	local lp=() sp=() ld=()
	for i in $(seq "$reps"); do
		lp+=("$(secs lbx plan -f big.yaml)")
		sp+=("$(secs ipvsadm-save -n)")
	done
	lbx plan -f big.yaml --detailed-exitcode >/dev/null 2>&1 || { echo "bench: no-op plan is not empty" >&2; exit 1; }
	report "noop-plan" 0.70 "${lp[@]}" -- ipvsadm-save "${sp[@]}"
	if [[ -n $full ]]; then # loading the model alone; kernel read + YAML out
		local lv=() le=()
		for i in $(seq "$reps"); do
			lv+=("$(secs lbx validate -f big.yaml)")
			le+=("$(secs lbx export)")
		done
		report "  validate (model only)" - "${lv[@]}" -- ipvsadm-save "${sp[@]}"
		report "  export (kernel->YAML)" - "${le[@]}" -- ipvsadm-save "${sp[@]}"
	fi

	# 2. one weight changed: lbx apply end to end vs reading the state with
	# ipvsadm-save -n (the target), and vs the one ipvsadm -e a human would type.
	local lw=() ew=() writes=() w
	for i in $(seq "$reps"); do
		lbx apply -f big.yaml --auto-approve >/dev/null 2>&1
		t0=$EPOCHREALTIME
		OUT=$(lbx apply -f big2.yaml --auto-approve -o json 2>/dev/null)
		lw+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f", b-a}')")
		writes+=("$(json_int kernel_writes)")
		[[ -z $full ]] || ew+=("$(secs ipvsadm -e -t 10.10.0.1:80 -r 10.20.0.1:8080 -m -w 9)")
	done
	report "one-weight-apply" 1.0 "${lw[@]}" -- ipvsadm-save "${sp[@]}"
	if [[ -n $full ]]; then
		report "  one-weight-apply" - "${lw[@]}" -- "ipvsadm-e" "${ew[@]}"
		# Where one such apply spends its time: its debug log (slog's
		# times) between the start and the end, for reading against the
		# figures above.
		lbx apply -f big.yaml --auto-approve >/dev/null 2>&1
		echo "bench: one-weight-apply trace start $EPOCHREALTIME (epoch s)"
		lbx apply -f big2.yaml --auto-approve --log-level debug 2>&1 >/dev/null | cut -c1-200 | sed 's/^/bench: one-weight-apply trace /'
		echo "bench: one-weight-apply trace end $EPOCHREALTIME (epoch s)"
	fi
	echo "@@BENCH one-weight-apply@$n kernel_writes=${writes[*]} (must be 1)"
	for w in "${writes[@]}"; do
		[[ $w == 1 ]] || { echo "bench: one-weight-apply@$n made $w kernel writes, want 1" >&2; exit 1; }
	done
	# 3. apply from empty (a new namespace each run) vs ipvsadm-restore of
	# the same rules; beside it the part of lbx's time its writer waited for
	# the kernel.
	local la=() lk=() ra=() ma=() fa=() fr=()
	fresh
	# The model's load on its own (inside lbx: no process start, no
	# kernel), with the table flushed: while it holds 20,000 x 5, the
	# kernel's estimator walks 120,000 counters every 2 s on the two
	# emulated CPUs and lands in a 2-s load at a random phase (at 20,000 on
	# 2026-12-06: 2.03-2.85 s with the table loaded, 2.05-2.17 s flushed;
	# 0.20-0.23 s at 2,000 either way). 5 runs: one is 2 s at most.
	for i in $(seq $((reps > 5 ? reps : 5))); do ld+=("$(decode_secs big.yaml)"); done
	report "  model-decode" - "${ld[@]}" -- ipvsadm-save "${sp[@]}"
	for i in $(seq "$reps"); do
		cold rules.txt lbx apply -f big.yaml --auto-approve --log-level debug
		la+=("$T") lk+=("$(kernel_secs cold.log)")
		cold rules.txt ipvsadm-restore <rules.txt
		ra+=("$T")
	done
	report "apply-from-empty" 0.40 "${la[@]}" -- ipvsadm-restore "${ra[@]}"
	report "  apply-from-empty-kernel-part" - "${lk[@]}" -- ipvsadm-restore "${ra[@]}"
	if [[ -n $full ]]; then
		# moby/ipvs's one-request-per-call writer, for the note.
		for i in $(seq "$reps"); do
			LBX_IPVS_WRITER=moby cold rules.txt lbx apply -f big.yaml --auto-approve
			ma+=("$T")
		done
		report "apply-from-empty-moby-writer" - "${ma[@]}" -- ipvsadm-restore "${ra[@]}"
		# The same right after `ipvsadm -C` of the same table: every real
		# server added walks the kernel's trash (see cold above).
		for i in $(seq "$reps"); do
			lbx apply -f big.yaml --auto-approve >/dev/null 2>&1
			fresh; fa+=("$(secs lbx apply -f big.yaml --auto-approve)"); check_kernel rules.txt "lbx apply"
			fresh; fr+=("$(secs ipvsadm-restore <rules.txt)"); check_kernel rules.txt "ipvsadm-restore"
		done
		report "apply-after-flush" - "${fa[@]}" -- ipvsadm-restore "${fr[@]}"
	fi

	fresh
}

# growth: the cost of adding 1,000 services x r to a table of 0, 5,000,
# 10,000 and $SCALE services (each tool in its own new namespace, filled
# untimed), for lbx (the model of B+1,000 applied; its writer's kernel part
# beside) and ipvsadm -R (the kernel's part for ipvsadm). Linear cost means
# flat lines; one run each.
growth() {
	local b prev=0 t0 step=1000 lbx_t=() lbx_k=() adm_t=() sizes=(0 5000 10000 "$SCALE")
	ns_new
	for b in "${sizes[@]}"; do
		((b == 0)) || { gen_model "$b" $r fill.yaml; ip netns exec $NS lbx apply -f fill.yaml --auto-approve >/dev/null 2>&1; }
		gen_model $((b + step)) $r step.yaml
		t0=$EPOCHREALTIME
		ip netns exec $NS lbx apply -f step.yaml --auto-approve --log-level debug >/dev/null 2>cold.log
		lbx_t+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f", b-a}')") lbx_k+=("$(kernel_secs cold.log)")
	done
	ns_gone
	ns_new
	for b in "${sizes[@]}"; do
		rules_range "$prev" "$b" | ip netns exec $NS ipvsadm -R
		rules_range "$b" $((b + step)) >step.txt
		t0=$EPOCHREALTIME
		ip netns exec $NS ipvsadm -R <step.txt
		adm_t+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f", b-a}')")
		prev=$((b + step))
	done
	ns_gone
	local i
	for i in "${!sizes[@]}"; do
		awk -v b="${sizes[$i]}" -v l="${lbx_t[$i]}" -v k="${lbx_k[$i]}" -v a="${adm_t[$i]}" 'BEGIN{
			printf "@@BENCH add-1000@%-28d lbx=%.3fs ipvsadm-R=%.3fs ratio=%.2f (one run; lbx kernel part %.3fs)\n", b, l, a, l/a, k
		}'
	done
	awk -v s="$SCALE" -v l0="${lbx_t[0]}" -v l1="${lbx_t[3]}" -v k0="${lbx_k[0]}" -v k1="${lbx_k[3]}" -v a0="${adm_t[0]}" -v a1="${adm_t[3]}" 'BEGIN{
		printf "@@BENCH add-1000-growth lbx@0=%.3fs lbx@%d=%.3fs growth=%.1f kernel-part@0=%.3fs kernel-part@%d=%.3fs growth=%.1f ipvsadm-R@0=%.3fs ipvsadm-R@%d=%.3fs growth=%.1f (flat: 1; lbx decodes and reads the whole table, so its total grows)\n", l0, s, l1, l1/l0, k0, s, k1, k1/k0, a0, s, a1, a1/a0
	}'
}

bench 2000 "$REPS" full
((SCALE <= 0)) || bench "$SCALE" "$SCALE_REPS"
((SCALE <= 0)) || [[ ${GROWTH:-1} == 0 ]] || growth
echo "bench: done"

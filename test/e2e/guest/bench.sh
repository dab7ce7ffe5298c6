#!/bin/bash
# The bench-mode entry of the e2e VM (/e2e/main): 2,000 services x 5 real
# servers, lbx next to its anchor, in this one boot, median of $REPS runs.
# One line per comparison: "@@BENCH name lbx=Xs anchor=Ys ratio=R.RR ...".
set -euo pipefail
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
. /e2e/lib.sh
trap - ERR
REPS=${REPS:-5}
n=2000 r=5
modprobe ip_vs && modprobe ip_vs_wlc
cd /tmp
gen_model $n $r big.yaml
gen_model $n $r big2.yaml 9
gen_rules $n $r >rules.txt
echo "bench: $n services x $r real servers ($(wc -l <rules.txt) IPVS objects), $REPS runs each, kernel $(uname -r), $(nproc) vCPU (qemu TCG)"

# secs CMD...: wall time of CMD in seconds (output discarded).
secs() {
	local t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; return 1; }
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f", b-a}'
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
report() { # name lbx-times... -- anchor-name anchor-times...
	local name=$1; shift
	local l=() a=() an
	while [[ $1 != -- ]]; do l+=("$1"); shift; done
	shift; an=$1; shift
	a=("$@")
	local ml ma
	ml=$(median "${l[@]}") ma=$(median "${a[@]}")
	awk -v n="$name" -v l="$ml" -v a="$ma" -v an="$an" -v k="$REPS" \
		'BEGIN{printf "@@BENCH %-28s lbx=%.3fs %s=%.3fs ratio=%.2f (median of %d)\n", n, l, an, a, (a>0)?l/a:0, k}'
}
fresh() { ipvsadm -C; rm -rf /var/lib/lbx; }
check_kernel() {
	diff -q <(ipvsadm-save -n | sort) "$1" >/dev/null || { echo "bench: kernel differs from $1 after $2" >&2; exit 1; }
}

# 1. apply from empty vs ipvsadm-restore of the same rules.
la=() ra=() ma=()
for i in $(seq "$REPS"); do
	fresh; la+=("$(secs lbx apply -f big.yaml --auto-approve)"); check_kernel rules.txt "lbx apply"
	fresh; ra+=("$(secs ipvsadm-restore <rules.txt)"); check_kernel rules.txt "ipvsadm-restore"
done
report "apply-from-empty" "${la[@]}" -- ipvsadm-restore "${ra[@]}"
# The same with moby/ipvs's one-request-per-call writer, for the note.
for i in $(seq "$REPS"); do
	fresh; ma+=("$(LBX_IPVS_WRITER=moby secs lbx apply -f big.yaml --auto-approve)"); check_kernel rules.txt "lbx apply (moby)"
done
report "apply-from-empty-moby-writer" "${ma[@]}" -- ipvsadm-restore "${ra[@]}"

# 2. no-op plan vs ipvsadm-save -n (the state was made by lbx apply).
fresh; lbx apply -f big.yaml --auto-approve >/dev/null 2>&1
lp=() sp=()
for i in $(seq "$REPS"); do
	lp+=("$(secs lbx plan -f big.yaml)")
	sp+=("$(secs ipvsadm-save -n)")
done
lbx plan -f big.yaml --detailed-exitcode >/dev/null 2>&1 || { echo "bench: no-op plan is not empty" >&2; exit 1; }
report "noop-plan" "${lp[@]}" -- ipvsadm-save "${sp[@]}"
# For reading the no-op plan: loading the model alone; kernel read + YAML out.
lv=() le=()
for i in $(seq "$REPS"); do
	lv+=("$(secs lbx validate -f big.yaml)")
	le+=("$(secs lbx export)")
done
report "  validate (model only)" "${lv[@]}" -- ipvsadm-save "${sp[@]}"
report "  export (kernel->YAML)" "${le[@]}" -- ipvsadm-save "${sp[@]}"

# 3. one weight change: lbx apply vs the single ipvsadm -e a human would type.
lw=() ew=() writes=()
for i in $(seq "$REPS"); do
	lbx apply -f big.yaml --auto-approve >/dev/null 2>&1
	t0=$EPOCHREALTIME
	OUT=$(lbx apply -f big2.yaml --auto-approve -o json 2>/dev/null)
	lw+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f", b-a}')")
	writes+=("$(json_int kernel_writes)")
	ew+=("$(secs ipvsadm -e -t 10.10.0.1:80 -r 10.20.0.1:8080 -m -w 9)")
done
report "one-weight-change" "${lw[@]}" -- "ipvsadm-e" "${ew[@]}"
echo "@@BENCH one-weight-change kernel_writes=${writes[*]} (must be 1)"
for w in "${writes[@]}"; do [[ $w == 1 ]] || echo "@@BENCH FAIL one-weight-change kernel_writes=$w, want 1"; done
echo "bench: done"

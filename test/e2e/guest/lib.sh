# lib.sh: assertions for e2e scenarios, sourced by the runner before each
# scenario (bash, set -eEuo pipefail, cwd a fresh /tmp/scenario-NAME).
#
# Every assertion about the load balancer reads the KERNEL (ipvsadm, ip),
# never lbx's report of itself. lbx's own output is only checked for what it
# promises to print (plan lines, exit codes, messages).

trap 'echo "FAIL: line $LINENO: command exited $?: $BASH_COMMAND" >&2' ERR

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

note() { echo "# $*"; }

# run CMD...: runs CMD, keeps its exit code in RC, stdout in OUT, stderr in
# ERR_OUT, and logs all three. Never fails by itself.
run() {
	echo "+ $*"
	local o e
	o=$(mktemp) e=$(mktemp)
	RC=0
	"$@" >"$o" 2>"$e" || RC=$?
	OUT=$(cat "$o") ERR_OUT=$(cat "$e")
	rm -f "$o" "$e"
	[[ -n $OUT ]] && sed 's/^/  | /' <<<"$OUT"
	[[ -n $ERR_OUT ]] && sed 's/^/  ! /' <<<"$ERR_OUT"
	echo "  = exit $RC"
	return 0
}

# must CMD...: run and require exit 0.
must() {
	run "$@"
	((RC == 0)) || fail "'$*' exited $RC, want 0"
}

expect_rc() {
	((RC == $1)) || fail "exit code $RC, want $1${2:+ ($2)}"
}

expect_out_contains() {
	grep -qF -- "$1" <<<"$OUT" || fail "stdout lacks '$1'"
}

expect_out_lacks() {
	if grep -qF -- "$1" <<<"$OUT"; then fail "stdout has '$1'"; fi
}

expect_err_contains() {
	grep -qiF -- "$1" <<<"$ERR_OUT" || fail "stderr lacks '$1'"
}

# kernel_rules: the kernel's IPVS table, numeric, sorted (ipvsadm-save -n).
kernel_rules() { ipvsadm-save -n | sort; }

# expect_kernel: the kernel's table must equal stdin (order-insensitive).
# Lines are ipvsadm-save -n lines, e.g.
#   -A -t 10.0.0.1:80 -s wlc
#   -a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 1
expect_kernel() {
	local want got
	want=$(grep -v '^[[:space:]]*$' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | sort)
	got=$(kernel_rules)
	if [[ $want != "$got" ]]; then
		echo "kernel table differs (- want, + got):" >&2
		diff -U0 <(echo "$want") <(echo "$got") | grep -v '^@@' | tail -n +3 >&2 || true
		fail "kernel IPVS table is not the expected one"
	fi
}

# expect_kernel_line LINE: one exact line of ipvsadm-save -n is present.
expect_kernel_line() {
	grep -qxF -- "$1" <<<"$(kernel_rules)" || {
		kernel_rules | sed 's/^/  k /' >&2
		fail "kernel lacks: $1"
	}
}

expect_kernel_no_line() {
	if grep -qxF -- "$1" <<<"$(kernel_rules)"; then fail "kernel still has: $1"; fi
}

expect_kernel_empty() {
	local got
	got=$(kernel_rules)
	[[ -z $got ]] || {
		echo "$got" | sed 's/^/  k /' >&2
		fail "kernel IPVS table not empty"
	}
}

# plan_summary: the "Plan: A to add, C to change, D to destroy." numbers of
# the last run as "A C D" ("0 0 0" for "No changes.").
plan_summary() {
	if grep -q '^No changes' <<<"$OUT"; then
		echo "0 0 0"
		return
	fi
	sed -n 's/^Plan: \([0-9]*\) to add, \([0-9]*\) to change, \([0-9]*\) to destroy\..*/\1 \2 \3/p' <<<"$OUT" | tail -n1
}

expect_plan() {
	local got
	got=$(plan_summary)
	[[ $got == "$1" ]] || fail "plan summary '${got:-none}', want '$1' (add change destroy)"
}

# service_conns PROTO-FLAG VIP:PORT: the service's connection counter from
# the kernel's stats (survives edits, reset when the service is recreated).
service_conns() {
	ipvsadm -Ln --stats "$1" "$2" | awk -v s="$2" '$2==s && !n++{print $3}'
}

# touch_service VIP PORT: sends one TCP SYN to VIP:PORT from this host so
# that IPVS schedules a connection (the counter moves even if no real server
# answers). Waits, up to 10 s, until the service's counter has moved, so a
# slow guest does not cut the connect short; callers assert the counter.
touch_service() {
	local before i p
	before=$(service_conns -t "$1:$2")
	bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null &
	p=$!
	for i in $(seq 100); do
		(($(service_conns -t "$1:$2") > before)) && break
		sleep 0.1
	done
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

# dummy LINK [ADDR...]: a dummy link, up, with addresses.
dummy() {
	local l=$1
	shift
	ip link add "$l" type dummy
	ip link set "$l" up
	local a
	for a in "$@"; do ip addr add "$a" dev "$l"; done
}

# model FILE: writes stdin to FILE (a YAML model) and logs it.
model() {
	cat >"$1"
	sed 's/^/  > /' "$1"
}

# real_thresholds SVC-FLAG SVC RS: "UPPER LOWER" of a real server, from the
# kernel (ipvsadm-save does not print thresholds).
real_thresholds() {
	ipvsadm -Ln --thresholds "$1" "$2" | awk -v r="$3" '$1=="->" && $2==r {print $3, $4}'
}

# gen_model N R FILE [WEIGHT_OF_FIRST]: a model of N TCP services with R NAT
# real servers each (10.10.x.y:80 -> 10.20.x.y+k:8080).
gen_model() {
	awk -v n="$1" -v r="$2" -v w="${4:-1}" 'BEGIN{
		print "version: 1"; print "virtual_servers:"
		for (i = 0; i < n; i++) {
			printf "  - address: 10.10.%d.%d\n    port: 80\n    protocol: tcp\n    scheduler: wlc\n    forwarding: nat\n    real_servers:\n", int(i/250), i%250+1
			for (k = 0; k < r; k++) printf "      - {address: 10.20.%d.%d, port: 8080, weight: %d}\n", int(i/250), (i%250)*5%250+k+1, (i==0 && k==0) ? w : 1
		}
	}' >"$3"
}

# gen_rules N R [WEIGHT_OF_FIRST]: the same as ipvsadm-save -n lines (sorted).
gen_rules() {
	awk -v n="$1" -v r="$2" -v w="${3:-1}" 'BEGIN{
		for (i = 0; i < n; i++) {
			s = sprintf("10.10.%d.%d:80", int(i/250), i%250+1)
			printf "-A -t %s -s wlc\n", s
			for (k = 0; k < r; k++) printf "-a -t %s -r 10.20.%d.%d:8080 -m -w %d\n", s, int(i/250), (i%250)*5%250+k+1, (i==0 && k==0) ? w : 1
		}
	}' | sort
}

# json_int KEY: an integer field of the JSON in OUT (flat enough for grep).
json_int() {
	sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\([0-9]*\).*/\1/p" <<<"$OUT" | awk 'NR==1'
}

# links_for MODEL: creates a dummy link for every interface the model names.
links_for() {
	local l
	for l in $(sed -n 's/.*interface:[[:space:]]*\([A-Za-z0-9_.-]*\).*/\1/p' "$1" | sort -u); do
		[[ -e /sys/class/net/$l ]] || dummy "$l"
	done
}

# wild_links NAMES: a dummy link (up, multicast: keepalived's VRRP wants
# it) for each interface a corpus file names (comma-separated), and
# wild_unlinks NAMES deletes them again; for the parity-wild scenarios.
wild_links() {
	local l
	for l in ${1//,/ }; do
		ip link show "$l" >/dev/null 2>&1 && continue
		ip link add "$l" type dummy 2>/dev/null && ip link set "$l" multicast on up
	done
	return 0
}

wild_unlinks() {
	local l
	for l in ${1//,/ }; do ip link del "$l" 2>/dev/null || true; done
	return 0
}

# watch-lib.sh: helpers for the `lbx watch` scenarios (watch-*.sh) and
# bench-watch.sh, sourced after lib.sh. Real servers are busybox httpd
# processes in one network namespace "rs" reached from the director (the
# root namespace) over a veth: director 10.1.0.1/16, servers 10.1.x.y.
# Every assertion still reads the kernel (ipvsadm); lbx is only asked for
# what it promises (status JSON, metrics counters).

METRICS=127.0.0.1:9650
WWW=$PWD/www

# rs_net ADDR...: the namespace "rs", its veth to the director, ADDRs on it
# (/16), and a web root with /health (200) and /cgi-bin/hang (never answers).
rs_net() {
	# The runner deletes links, not namespaces: a previous scenario's "rs"
	# may still be there.
	ip netns del rs 2>/dev/null || true
	ip netns add rs
	ip link add rs-d type veth peer name rs-r
	ip link set rs-r netns rs
	ip addr add 10.1.0.1/16 dev rs-d
	ip link set rs-d up
	ip netns exec rs ip link set lo up
	ip netns exec rs ip link set rs-r up
	local a
	for a in "$@"; do ip netns exec rs ip addr add "$a/16" dev rs-r; done
	mkdir -p "$WWW/cgi-bin"
	echo ok >"$WWW/health"
	printf '#!/bin/sh\nexec sleep 100000\n' >"$WWW/cgi-bin/hang"
	chmod 755 "$WWW/cgi-bin/hang"
}

# rs_start ADDR: busybox httpd on ADDR:80 in "rs" (pid in httpd-ADDR.pid).
# Waits until it answers, so that a check right after sees it up.
rs_start() {
	ip netns exec rs busybox httpd -f -p "$1:80" -h "$WWW" </dev/null >/dev/null 2>&1 &
	echo $! >"httpd-$1.pid"
	local i
	for i in $(seq 50); do
		timeout 2 busybox wget -q -O /dev/null "http://$1/health" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "httpd on $1 does not answer"
}

# rs_stop ADDR: kills that httpd (connections to it are then refused).
rs_stop() {
	local p
	p=$(cat "httpd-$1.pid")
	kill "$p"
	wait "$p" 2>/dev/null || true
	rm -f "httpd-$1.pid"
}

# watch_start MODEL [ARGS...]: lbx watch in the background (LBX_PID), its
# log in lbx.log, metrics on $METRICS; waits for its status socket.
watch_start() {
	local m=$1
	shift
	echo "+ lbx watch -f $m --metrics-addr $METRICS $* &"
	lbx watch -f "$m" --metrics-addr "$METRICS" "$@" >>lbx.log 2>&1 &
	LBX_PID=$!
	local i
	for i in $(seq 100); do
		lbx status >/dev/null 2>&1 && return 0
		kill -0 "$LBX_PID" 2>/dev/null || fail "lbx watch exited: $(tail -n 20 lbx.log)"
		sleep 0.1
	done
	fail "lbx watch: no status after 10s"
}

# watch_stop: SIGTERM to lbx watch, and wait for it.
watch_stop() {
	[[ -n ${LBX_PID:-} ]] || return 0
	kill -TERM "$LBX_PID" 2>/dev/null || true
	wait "$LBX_PID" 2>/dev/null || true
	LBX_PID=
}

# watch_cleanup (EXIT trap): stops lbx and shows its log, which is what a
# failure report needs.
watch_cleanup() {
	watch_stop
	ip netns del rs 2>/dev/null || true
	if [[ -s lbx.log ]]; then
		echo "--- lbx watch log (last 60 lines)"
		tail -n 60 lbx.log | sed 's/^/  L /'
	fi
}

# ka_start CONF: keepalived's checker process (keepalived --check) on CONF
# in the background (KA_PID), its log in ka.log; ka_stop: SIGTERM, and
# wait. ka_cleanup (EXIT trap of the scenarios that run both): stops both
# daemons and shows both logs.
KA_PID=
ka_start() {
	echo "+ keepalived --check -n -l -D -f $1 &"
	keepalived --check -n -l -D -f "$PWD/$1" -p "$PWD/ka.pid" -c "$PWD/ka-check.pid" >ka.log 2>&1 &
	KA_PID=$!
}
ka_stop() {
	[[ -n $KA_PID ]] || return 0
	kill -TERM "$KA_PID" 2>/dev/null || true
	wait "$KA_PID" 2>/dev/null || true
	KA_PID=
}
ka_cleanup() {
	ka_stop
	watch_cleanup
	[[ ! -s ka.log ]] || { echo "--- keepalived log (last 30 lines)"; tail -n 30 ka.log | sed 's/^/  K /'; }
}

# notes_script: note.sh, a script that appends its arguments as one line
# to $NOTES (notes.log here): the notify and quorum scripts of the parity
# scenarios, the same file for keepalived and lbx.
NOTES=$PWD/notes.log
notes_script() {
	printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>%s\n' "$NOTES" >note.sh
	chmod 755 note.sh
}

# svc_rules VIP:PORT: the kernel's real servers of one TCP service as
# "ADDR:PORT WEIGHT" lines, sorted (empty when the service is missing).
svc_rules() {
	ipvsadm -Ln -t "$1" 2>/dev/null | awk '$1=="->" && $2 ~ /^[0-9]/ {print $2, $4}' | sort
}

# has_real VIP:PORT RS:PORT [WEIGHT]: the kernel has that real server (with
# that weight).
has_real() {
	local l
	l=$(svc_rules "$1" | awk -v r="$2" '$1==r')
	[[ -n $l ]] || return 1
	[[ -z ${3:-} ]] || [[ ${l#* } == "$3" ]]
}
lacks_real() { ! has_real "$@"; }

# kernel_is WANT: ipvsadm-save -n equals WANT (lines, any order).
kernel_is() {
	[[ $(kernel_rules) == "$(grep -v '^[[:space:]]*$' <<<"$1" | sed 's/^[[:space:]]*//' | sort)" ]]
}

# wait_until SECS DESC CMD...: polls CMD every 50 ms until it succeeds;
# WAITED is the time it took (seconds, 3 decimals). Fails after SECS.
wait_until() {
	local lim=$1 desc=$2 t0=$EPOCHREALTIME
	shift 2
	while ! "$@"; do
		if awk -v a="$t0" -v b="$EPOCHREALTIME" -v l="$lim" 'BEGIN{exit !(b-a > l)}'; then
			kernel_rules | sed 's/^/  k /' >&2
			fail "not within ${lim}s: $desc"
		fi
		sleep 0.05
	done
	WAITED=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.3f", b-a}')
	note "$desc: ${WAITED}s"
}

# since T0: seconds from EPOCHREALTIME T0 to now.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.3f", b-a}'; }

# le A B: A <= B (decimals).
le() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a <= b)}'; }

# metric NAME: the sum of a Prometheus counter's samples from lbx watch.
metric() {
	busybox wget -q -O - "http://$METRICS/metrics" | awk -v n="$1" '$1==n || index($1, n"{")==1 {s+=$2} END{printf "%d\n", s}'
}

# status_field KEY: a scalar of `lbx status -o json` (first occurrence).
status_field() {
	lbx status -o json 2>/dev/null | sed -n "s/^[[:space:]]*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | awk 'NR==1'
}

# proc_cpu PID: utime+stime of PID in seconds; proc_hwm PID: VmHWM in kB.
proc_cpu() { proc_cpu_split "$1" | awk '{printf "%.2f\n", $1 + $2}'; }
proc_hwm() { awk '$1=="VmHWM:"{print $2}' "/proc/$1/status"; }
# proc_pages PID: where PID's resident pages are now, "anon=A file=F
# shmem=S" in kB (a binary run from the initramfs shows as shmem).
proc_pages() { awk '$1=="RssAnon:"{a=$2} $1=="RssFile:"{f=$2} $1=="RssShmem:"{s=$2} END{printf "anon=%s file=%s shmem=%s kB", a, f, s}' "/proc/$1/status"; }
# proc_cpu_split PID: "USER SYS" seconds of PID.
proc_cpu_split() {
	local hz
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	awk -v hz="$hz" '{sub(/^.*\) /, ""); printf "%.2f %.2f\n", $12/hz, $13/hz}' "/proc/$1/stat"
}
# machine_busy: seconds the whole machine's CPUs were busy since boot
# (user, nice, system, irq, softirq, steal of /proc/stat): what a check
# costs the director in all, the kernel's network work done on behalf of
# either side and by ksoftirqd included.
machine_busy() {
	local hz
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	awk -v hz="$hz" '$1=="cpu"{printf "%.2f\n", ($2+$3+$4+$7+$8+$9)/hz; exit}' /proc/stat
}

# ended PID: the process is gone, or a zombie nobody reaped yet (its
# parent is dead): not running.
ended() { [[ ! -e /proc/$1 ]] || awk '{sub(/^.*\) /, ""); exit !($1 == "Z")}' "/proc/$1/stat" 2>/dev/null; }

# child_of PID [NAME]: the first child process of PID (keepalived's
# checker), or its first child called NAME (lbx watch's lbx-check).
child_of() {
	local f
	for f in /proc/[0-9]*/stat; do
		awk -v p="$1" -v n="${2:+($2)}" '{c = $2; sub(/^.*\) /, ""); if ($2 == p && (n == "" || c == n)) {split(FILENAME, a, "/"); print a[3]; exit 0}}' "$f" 2>/dev/null || true # a process that ended meanwhile
	done | awk 'NR==1'
}

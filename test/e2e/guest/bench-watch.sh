#!/bin/bash
# The bench-watch entry of the e2e VM (/e2e/main): $N real servers
# HTTP-checked every second for $DUR s, lbx watch next to keepalived's
# checker process (keepalived --check) on the same keepalived.conf (lbx runs
# `lbx convert` of it), one after the other, IPVS flushed in between, for
# $ROUNDS rounds. One busybox httpd in a namespace holding all $N addresses
# serves every check (its accept backlog raised from busybox's 9 to $BACKLOG,
# default 1024, by relisten). Prints, each ratio the median of the rounds'
# ratios, with issue 27's targets:
#   @@BENCH checker-cpu lbx=Xs keepalived=Ys ratio=R.RR   (utime+stime)
#   @@BENCH checker-cpu-per-probe lbx=Xus keepalived=Yus ratio=R.RR target=<=0.80
#   @@BENCH machine-cpu-per-probe lbx=Xus keepalived=Yus ratio=R.RR
#   @@BENCH tool-cpu lbx=Xs keepalived=Ys ratio=R.RR target=<=0.90 (all processes)
#   @@BENCH checker-rss lbx=XkB keepalived=YkB ratio=R.RR (VmHWM)
#   @@BENCH tool-rss lbx=XkB keepalived=YkB ratio=R.RR target=<=1.50 (VmHWM summed)
# The checker process is lbx-check (lbx watch's child) and keepalived's
# checker child; the tool is that plus its parent (lbx watch; keepalived's
# parent): what each costs the director in all.
#   @@BENCH checker-up lbx=N/500 keepalived=M/500 target=500/500 (lowest count seen)
#   @@BENCH checker-flaps lbx=A keepalived=B               (down transitions)
# and "bench-watch: done". "@@BENCH FAIL NAME ..." for each target missed
# (lbx let a server go down in a sample, a ratio over its target); the run
# stops with a FAIL line when the kernel never had the whole table.
# STRACE=1 (strace in the guest) also prints each checker's and parent's
# system calls per probe over STRACE_SECS (10) s of the run (syscall_census).
set -euo pipefail
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
. /e2e/lib.sh
trap - ERR
. /e2e/env
N=${N:-500} DUR=${DUR:-60} SVCS=${SVCS:-10} ROUNDS=${ROUNDS:-3} BACKLOG=${BACKLOG:-1024}
modprobe ip_vs && modprobe ip_vs_wlc
mkdir -p /tmp/bench-watch && cd /tmp/bench-watch
. /e2e/watch-lib.sh
fail() { echo "@@BENCH FAIL $*"; exit 1; }
per=$((N / SVCS))
addr() { echo "10.1.$((1 + $1 / 250)).$(($1 % 250 + 1))"; }

# The real servers: every address on the namespace's veth (one batch), one
# httpd on *:80.
rs_net
for i in $(seq 0 $((N - 1))); do echo "addr add $(addr "$i")/16 dev rs-r"; done >addrs.batch
ip -n rs -batch addrs.batch
ip netns exec rs busybox httpd -f -p 80 -h "$WWW" </dev/null >/dev/null 2>&1 &
HTTPD=$!
sleep 0.5
# busybox httpd listens with a backlog of 9; in the saturated VM that one
# queue overflowed about once a probe, each overflow cost a probe a 1 s SYN
# retransmission and two in a row took a server down, for both checkers
# (BACKLOG=9 keeps it so). Both checkers meet the same queue either way.
if ((BACKLOG != 9)); then relisten "$HTTPD" "$BACKLOG" || fail "relisten $HTTPD $BACKLOG"; fi
busybox wget -q -O /dev/null "http://$(addr $((N - 1)))/health" || fail "httpd does not answer on $(addr $((N - 1)))"

# The same configuration for both: SVCS services x N/SVCS real servers.
{
	echo 'global_defs {'
	echo '    router_id bench'
	echo '}'
	for s in $(seq 0 $((SVCS - 1))); do
		echo "virtual_server 10.0.0.$((s + 1)) 80 {"
		echo '    delay_loop 1'
		echo '    lvs_sched wlc'
		echo '    lvs_method NAT'
		echo '    protocol TCP'
		for k in $(seq 0 $((per - 1))); do
			echo "    real_server $(addr $((s * per + k))) 80 {"
			echo '        weight 1'
			echo '        HTTP_GET {'
			echo '            url {'
			echo '                path /health'
			echo '                status_code 200'
			echo '            }'
			echo '            connect_timeout 2'
			echo '            retry 1'
			echo '            delay_before_retry 1'
			echo '        }'
			echo '    }'
		done
		echo '}'
	done
} >k.conf
lbx convert k.conf >m.yaml 2>convert.log || { cat convert.log; fail "lbx convert k.conf"; }
echo "bench-watch: $N real servers ($SVCS services x $per) HTTP_GET every 1s for ${DUR}s, httpd backlog $BACKLOG, kernel $(uname -r), $(nproc) vCPU (qemu TCG)"

# passive_opens: connections the real servers' namespace accepted (its TCP
# PassiveOpens counter): the number of probes a checker actually sent.
passive_opens() { ip netns exec rs awk '$1 == "Tcp:" && $2 ~ /^[0-9]/ {print $7}' /proc/net/snmp; }

# listen_overflows: connections the servers' listen queue had no room for
# (TcpExt ListenOverflows in their namespace): busybox httpd listens with a
# backlog of 9 and forks per connection, so when the VM is saturated SYNs
# are dropped and the checker's connect waits for the retransmission (1 s).
listen_overflows() {
	ip netns exec rs awk '$1 == "TcpExt:" && !h {for (i = 2; i <= NF; i++) if ($i == "ListenOverflows") c = i; h = 1; next} $1 == "TcpExt:" {print $c}' /proc/net/netstat
}

# socket_census (SOCKETS=1 only: it costs CPU in the guest): TCP sockets by
# state on the director's side and in the servers' namespace (IPv4 and
# IPv6 tables: busybox httpd listens on [::]:80), and the
# httpd's processes (from /proc: the guest's busybox has no pgrep).
socket_census() {
	((${SOCKETS:-0})) || return 0
	printf ' director: %s rs: %s httpd-procs=%s' "$(tcp_states </proc/net/tcp)" \
		"$(ip netns exec rs cat /proc/net/tcp /proc/net/tcp6 | tcp_states)" "$(grep -ls "httpd.-f" /proc/[0-9]*/cmdline | wc -l)"
}
# tcp_states: /proc/net/tcp's sockets counted by state (st, hex).
tcp_states() {
	awk 'BEGIN { split("ESTAB SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING", name, " ") }
		FNR > 1 { n[name[index("0123456789ABCDEF", substr($4, 2, 1)) - 1]]++ }
		END { for (s in n) printf "%s=%d ", s, n[s] }'
}

# syscall_census PID PARENT WHO (STRACE=1 only, strace in the guest):
# counts the system calls of the checker PID and of its PARENT over
# STRACE_SECS s (10) with strace -c -f, and prints each one's calls per
# probe (probes by PassiveOpens over the same window), most first. strace
# slows what it traces: the counts are the figure, not the CPU.
syscall_census() {
	((${STRACE:-0})) || return 0
	command -v strace >/dev/null || { echo "bench-watch: STRACE=1 but no strace in the guest"; return 0; }
	local secs=${STRACE_SECS:-10} opens0 probes p tracers=()
	opens0=$(passive_opens)
	for p in "$1" "$2"; do
		timeout -s INT "$secs" strace -c -f -p "$p" -o "strace-$p.txt" 2>/dev/null &
		tracers+=($!)
	done
	wait "${tracers[@]}" || true
	probes=$(($(passive_opens) - opens0))
	for p in "$1" "$2"; do
		# strace -c's table: calls in column 4, errors (when any) in 5, the name last.
		awk '/^-/ { body = !body; next } body && $NF != "total" { print $NF, $4, (NF == 6) ? $5 : 0 }' "strace-$p.txt" |
			sort -k2,2nr | awk -v n="$probes" -v who="$3$([[ $p == "$2" ]] && echo ' parent')" '
				{ t += $2; l = l sprintf(" %s=%.2f", $1, $2 / n); if ($3 > 0) l = l sprintf("(%.2f failed)", $3 / n) }
				END { printf "bench-watch: %s syscalls per probe over %d probes: total=%.2f%s\n", who, n, t / n, l }'
	done
}

up_count() { ipvsadm -Ln | awk '$1=="->" && $2 ~ /^[0-9]/ && $4 > 0' | wc -l; }

# run_for PID WHO PARENT: samples the kernel's up count every 5 s for DUR
# s; sets CPU (s), SPLIT ("USER SYS" s) and HWM (kB) of the checker PID,
# TCPU and THWM of PID and PARENT together, MINUP (lowest count after the
# first full table), LAST, PROBES, OVER (listen overflows) and BUSY (the
# whole VM's busy CPU-seconds), all over the run.
run_for() {
	local pid=$1 who=$2 parent=$3 t0=$EPOCHREALTIME n full=0 traced=0 opens0 busy0 over0
	MINUP=$N
	opens0=$(passive_opens) over0=$(listen_overflows)
	busy0=$(machine_busy)
	while le "$(since "$t0")" "$DUR"; do
		kill -0 "$pid" 2>/dev/null || fail "$who exited early"
		n=$(up_count)
		if ((n == N)); then full=1; fi
		if ((full && n < MINUP)); then MINUP=$n; fi
		echo "bench-watch: $who t=$(since "$t0")s up=$n cpu=$(proc_cpu "$pid")s parent-cpu=$(proc_cpu "$parent")s$(socket_census)"
		if ((full && !traced)); then traced=1; syscall_census "$pid" "$parent" "$who"; fi
		sleep 5
	done
	((full)) || { MINUP=$(up_count); echo "bench-watch: $who never had all $N servers up"; }
	LAST=$(up_count)
	CPU=$(proc_cpu "$pid") HWM=$(proc_hwm "$pid") SPLIT=$(proc_cpu_split "$pid") PAGES=$(proc_pages "$pid")
	TCPU=$(awk -v a="$CPU" -v b="$(proc_cpu "$parent")" 'BEGIN{printf "%.2f", a+b}')
	THWM=$((HWM + $(proc_hwm "$parent")))
	PROBES=$(($(passive_opens) - opens0)) OVER=$(($(listen_overflows) - over0))
	BUSY=$(awk -v a="$(machine_busy)" -v b="$busy0" 'BEGIN{printf "%.2f", a-b}')
	MINUP=$((MINUP < LAST ? MINUP : LAST))
	echo "bench-watch: $who cpu=${CPU}s (user sys: $SPLIT) hwm=${HWM}kB (now: $PAGES); with its parent cpu=${TCPU}s hwm=${THWM}kB; machine-busy=${BUSY}s lowest-up=$MINUP last-up=$LAST probes=$PROBES listen-overflows=$OVER"
}

# lbx_run: one run of lbx watch (no metrics endpoint, no status reader: the
# daemon alone); sets what run_for sets and DOWN.
lbx_run() {
	ipvsadm -C
	rm -rf /var/lib/lbx /run/lbx
	lbx watch -f m.yaml --checker process >lbx.log 2>&1 &
	local pid=$! i child=
	for i in $(seq 100); do child=$(child_of "$pid" lbx-check); [[ -n $child ]] && break; sleep 0.1; done
	[[ -n $child ]] || { tail lbx.log; fail "lbx watch's checker process did not start"; }
	run_for "$child" lbx-check "$pid"
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	DOWN=$(grep -c 'real server down' lbx.log || true)
	# Why lbx took servers down (the first words of the reason, most common first).
	grep 'real server down' lbx.log | sed 's/.*reason=//' | cut -c1-60 | sort | uniq -c | sort -rn | head -n 3 | sed 's/^/bench-watch: lbx down reason: /' || true
	# When (seconds since the first log line, in 5 s buckets): a burst at the
	# start is not the same trouble as take-downs all along.
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^time=/) { split(substr($i, index($i, "T") + 1), c, ":"); t = c[1]*3600 + c[2]*60 + c[3]; if (t0 == "") t0 = t; if ($0 ~ /real server down/) n[int((t - t0) / 5)]++ } }
		END { for (b = 0; b < 100; b++) if (b in n) printf "%d-%ds:%d ", b*5, b*5+5, n[b]; print "" }' lbx.log | sed 's/^/bench-watch: lbx down by time: /' || true
	ipvsadm -C
}

# ka_run: one run of keepalived --check; its checker child process is
# measured.
ka_run() {
	ipvsadm -C
	rm -f ka.pid ka-check.pid
	keepalived --check -n -l -D -f "$PWD/k.conf" -p "$PWD/ka.pid" -c "$PWD/ka-check.pid" >ka.log 2>&1 &
	local ka=$! i
	for i in $(seq 100); do [[ -s ka-check.pid ]] && break; sleep 0.1; done
	[[ -s ka-check.pid ]] || { tail ka.log; fail "keepalived's checker did not start"; }
	run_for "$(cat ka-check.pid)" keepalived-checker "$(cat ka.pid)"
	kill -TERM "$ka"
	wait "$ka" 2>/dev/null || true
	DOWN=$(grep -c 'Removing service' ka.log || true)
	grep -i 'timeout\|error\|refused' ka.log | sed 's/^.*Keepalived[^:]*: //; s/\[[0-9.]*\]:tcp:80//g' | cut -c1-60 | sort | uniq -c | sort -rn | head -n 3 | sed 's/^/bench-watch: keepalived down reason: /' || true
	ipvsadm -C
}

# $ROUNDS rounds of one lbx run and one keepalived run each, the order
# swapped every round (AB BA AB: a drift of the machine over the rounds, or
# an effect of going first, then weighs on both alike). The
# VM is saturated and a run's figures swing by 10-20 %; each round's
# ratio pairs two neighbouring runs and the median of the rounds' ratios
# is the figure.
declare -a Lcpu Kcpu Lper Kper Lmach Kmach Ltcpu Ktcpu Rcpu Rper Rmach Rtcpu Ldown Kdown
lhwm=0 khwm=0 lthwm=0 kthwm=0 lup=$N kup=$N lover=0 kover=0
percheck() { awk -v c="$1" -v n="$2" 'BEGIN{printf "%.0f", (n>0)?c*1e6/n:0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b>0)?a/b:0}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{m=int((NR+1)/2); printf "%s", (NR%2)?v[m]:(v[m]+v[m+1])/2}'; }
# tally L|K: adds the run just made to lbx's (L) or keepalived's (K) figures.
tally() {
	local -n cpu=${1}cpu per=${1}per mach=${1}mach tcpu=${1}tcpu
	local p=${1,}
	local -n hwm=${p}hwm thwm=${p}thwm up=${p}up over=${p}over downs=${1}down
	cpu+=("$CPU") per+=("$(percheck "$CPU" "$PROBES")") mach+=("$(percheck "$BUSY" "$PROBES")") downs+=("$DOWN") tcpu+=("$TCPU")
	((HWM > hwm)) && hwm=$HWM
	((THWM > thwm)) && thwm=$THWM
	((MINUP < up)) && up=$MINUP
	over=$((over + OVER))
}
lbx_round() { lbx_run && tally L; }
ka_round() { ka_run && tally K; }
for r in $(seq 1 "$ROUNDS"); do
	echo "bench-watch: round $r of $ROUNDS"
	if ((r % 2 == 0)); then ka_round; lbx_round; else lbx_round; ka_round; fi
	k=$((r - 1))
	Rcpu+=("$(ratio "${Lcpu[k]}" "${Kcpu[k]}")") Rtcpu+=("$(ratio "${Ltcpu[k]}" "${Ktcpu[k]}")") Rper+=("$(ratio "${Lper[k]}" "${Kper[k]}")") Rmach+=("$(ratio "${Lmach[k]}" "${Kmach[k]}")")
	echo "bench-watch: round $r ratios: cpu ${Rcpu[k]}, cpu per probe ${Rper[k]}, machine per probe ${Rmach[k]}"
done
kill "$HTTPD" 2>/dev/null || true

of="median of $ROUNDS rounds"
# bench NAME LBX ANCHOR RATIO TARGET NOTE: one @@BENCH line (TARGET "-":
# none), and "@@BENCH FAIL NAME ..." when RATIO is over TARGET (issue 27:
# a measurement, not a broken run).
bench() {
	local name=$1 l=$2 k=$3 r=$4 t=$5 note=$6
	echo "@@BENCH $name lbx=$l keepalived=$k ratio=$r$([[ $t == - ]] || echo " target=<=$t") ($note)"
	if [[ $t == - ]] || ! awk -v r="$r" -v t="$t" 'BEGIN{exit !(r > t)}'; then return 0; fi
	echo "@@BENCH FAIL $name ratio=$r target=<=$t (missed)"
}
bench checker-cpu "$(median "${Lcpu[@]}")s" "$(median "${Kcpu[@]}")s" "$(median "${Rcpu[@]}")" - "${DUR}s, $N servers; $of, round ratios ${Rcpu[*]}"
bench checker-cpu-per-probe "$(median "${Lper[@]}")us" "$(median "${Kper[@]}")us" "$(median "${Rper[@]}")" 0.80 "probes counted by the servers' TCP PassiveOpens; $of, round ratios ${Rper[*]}"
bench machine-cpu-per-probe "$(median "${Lmach[@]}")us" "$(median "${Kmach[@]}")us" "$(median "${Rmach[@]}")" - "every CPU of the VM: checker, httpd, kernel and ksoftirqd; $of, round ratios ${Rmach[*]}"
bench tool-cpu "$(median "${Ltcpu[@]}")s" "$(median "${Ktcpu[@]}")s" "$(median "${Rtcpu[@]}")" 0.90 "checker process and its parent: lbx watch, keepalived's parent; $of, round ratios ${Rtcpu[*]}"
bench checker-rss "${lhwm}kB" "${khwm}kB" "$(ratio "$lhwm" "$khwm")" - "VmHWM of lbx-check and of keepalived's checker, highest of $ROUNDS runs"
bench tool-rss "${lthwm}kB" "${kthwm}kB" "$(ratio "$lthwm" "$kthwm")" 1.50 "VmHWM of the checker process plus its parent, highest of $ROUNDS runs"
echo "@@BENCH checker-up lbx=$lup/$N keepalived=$kup/$N target=$N/$N (lowest count seen over $ROUNDS runs, sampled every 5s)"
sum() { local n=0 v; for v in "$@"; do n=$((n + v)); done; echo "$n"; }
echo "@@BENCH checker-flaps lbx=$(sum "${Ldown[@]}") keepalived=$(sum "${Kdown[@]}") (servers taken down over $ROUNDS runs of ${DUR}s: lbx 'real server down', keepalived 'Removing service' log lines; by run lbx ${Ldown[*]}, keepalived ${Kdown[*]})"
echo "@@BENCH server-listen-overflows lbx=$lover keepalived=$kover (SYNs the httpd's listen queue dropped over $ROUNDS runs: each costs a probe a 1 s retransmission)"
# Every server up in every sample (issue 27), and never fewer than keepalived kept.
((lup == N)) || echo "@@BENCH FAIL checker-up lbx=$lup/$N keepalived=$kup/$N target=$N/$N (missed: lbx let servers go down)"
echo "bench-watch: done"

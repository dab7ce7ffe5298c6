#!/bin/bash
# The bench-watch entry of the e2e VM (/e2e/main): $N real servers
# HTTP-checked every second for $DUR s, lbx watch next to keepalived's
# checker process (keepalived --check) on the same keepalived.conf (lbx runs
# `lbx convert` of it), one after the other, IPVS flushed in between, for
# $ROUNDS rounds. One web server process in a namespace holding all $N
# addresses serves every check ($SERVER, below: webserve, or busybox httpd
# with its accept backlog raised from busybox's 9 to $BACKLOG, default
# 1024, by relisten). Prints, each ratio the median of the rounds'
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
#
# Then the scale round (issue 27 item 4; SCALE_N=0 skips it): SCALE_N
# (5000) servers checked every SCALE_DELAY (10) s, the same 500 probes a
# second as the 500 rounds (one server process cannot answer 5,000 a second
# in the TCG guest), SCALE_ROUNDS (3) rounds of SCALE_DUR (50) s, the same
# lines named NAME-5000, plus
#   @@BENCH start-to-all-up-5000 lbx=Xs keepalived=Ys ratio=R.RR
#       (from the tool's start until the kernel had every server up: the
#       first apply of 5,000 real servers and the checks' start)
#   @@BENCH growth-checker-cpu-per-probe lbx=G keepalived=H ratio=G/H
#   @@BENCH growth-checker-rss, growth-tool-rss: each tool's figure at
#       5,000 over its figure at 500, both figures in the note.
set -euo pipefail
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
. /e2e/lib.sh
trap - ERR
. /e2e/env
N=${N:-500} DUR=${DUR:-60} SVCS=${SVCS:-10} ROUNDS=${ROUNDS:-3} BACKLOG=${BACKLOG:-1024} DELAY=1
SCALE_N=${SCALE_N:-5000} SCALE_DELAY=${SCALE_DELAY:-10} SCALE_DUR=${SCALE_DUR:-50} SCALE_ROUNDS=${SCALE_ROUNDS:-3}
modprobe ip_vs && modprobe ip_vs_wlc
mkdir -p /tmp/bench-watch && cd /tmp/bench-watch
. /e2e/watch-lib.sh
fail() { echo "@@BENCH FAIL $*"; exit 1; }
# addr I: real server I's address (the loops over thousands inline it: a
# $(...) a server costs seconds in the emulated guest).
addr() { echo "10.1.$((1 + $1 / 250)).$(($1 % 250 + 1))"; }

# add_addrs FROM TO: the real servers FROM..TO-1 as addresses on the
# namespace's veth (one batch); the one httpd on *:80 answers on them all.
add_addrs() {
	local i
	for ((i = $1; i < $2; i++)); do echo "addr add 10.1.$((1 + i / 250)).$((i % 250 + 1))/16 dev rs-r"; done >addrs.batch
	ip -n rs -batch addrs.batch
}

rs_net
add_addrs 0 "$N"
# SERVER: webserve (default; test/e2e/webserve: Go's net/http, one
# process, answers at once) or busybox (busybox httpd, a process forked
# per connection: in the emulated guest it set the pace and held
# keepalived's checker, which reads each reply to the server's close,
# 10-20 % under its delay_loop; webserve's doc comment has the figures).
case ${SERVER:=webserve} in
webserve) ip netns exec rs webserve :80 "$WWW" </dev/null >/dev/null 2>&1 & ;;
busybox) ip netns exec rs busybox httpd -f -p 80 -h "$WWW" </dev/null >/dev/null 2>&1 & ;;
*) fail "SERVER=$SERVER: want webserve or busybox" ;;
esac
HTTPD=$!
sleep 0.5
# busybox httpd listens with a backlog of 9; in the saturated VM that one
# queue overflowed about once a probe, each overflow cost a probe a 1 s SYN
# retransmission and two in a row took a server down, for both checkers
# (BACKLOG=9 keeps it so). Both checkers meet the same queue either way.
# webserve listens with the kernel's somaxconn (4096).
if [[ $SERVER == busybox ]] && ((BACKLOG != 9)); then relisten "$HTTPD" "$BACKLOG" || fail "relisten $HTTPD $BACKLOG"; fi
busybox wget -q -O /dev/null "http://$(addr $((N - 1)))/health" || fail "httpd does not answer on $(addr $((N - 1)))"

# write_conf: the same configuration for both: SVCS services x N/SVCS
# real servers, HTTP_GET every DELAY s; k.conf and its `lbx convert`, m.yaml.
write_conf() {
	local per=$((N / SVCS)) s k i
	{
		echo 'global_defs {'
		echo '    router_id bench'
		echo '}'
		for s in $(seq 0 $((SVCS - 1))); do
			echo "virtual_server 10.0.0.$((s + 1)) 80 {"
			echo "    delay_loop $DELAY"
			echo '    lvs_sched wlc'
			echo '    lvs_method NAT'
			echo '    protocol TCP'
			for ((k = 0; k < per; k++)); do
				i=$((s * per + k))
				echo "    real_server 10.1.$((1 + i / 250)).$((i % 250 + 1)) 80 {"
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
	echo "bench-watch: $N real servers ($SVCS services x $per) HTTP_GET every ${DELAY}s for ${DUR}s, $ROUNDS rounds, server $SERVER$([[ $SERVER == busybox ]] && echo " (backlog $BACKLOG)"), kernel $(uname -r), $(nproc) vCPU (qemu TCG)"
}

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

# up_count: the real servers with a weight in the kernel's table, read from
# /proc/net/ip_vs (one read; ipvsadm would be a process and a netlink dump
# per sample).
up_count() { awk '$1=="->" && $2 ~ /^[0-9A-F]+:/ && $4 > 0' /proc/net/ip_vs | wc -l; }

# watch_full: from now on, samples the kernel's up count every 0.05 s,
# beside the tool just launched, and writes the seconds from START (its
# launch) to the first full table into full.t. It runs apart from
# run_for, which starts once the checker process is found: finding it
# (a scan of /proc for lbx, a pid file for keepalived) is not on the
# clock.
watch_full() {
	rm -f full.t
	(
		while ((N > $(up_count))); do sleep 0.05; done
		since "$START" >full.t
	) &
	FULL_PID=$!
}

# run_for PID WHO PARENT: samples the kernel's up count for DUR s, every
# 0.05 s until the table is full (TUP: seconds from START, the tool's
# launch, to that, as watch_full saw it; empty if never), then every 5 s; sets CPU (s), SPLIT
# ("USER SYS" s) and HWM (kB) of the checker PID since its start, CPUW
# (s) of it over the run alone, TCPU and THWM of PID and PARENT together,
# MINUP (lowest count after the first full table), LAST, PROBES, OVER
# (listen overflows) and BUSY (the whole VM's busy CPU-seconds), all over
# the run. The CPU per probe is CPUW over PROBES: the CPU and the probes
# of the same seconds. The checker's start (the Go or C start, the first
# probe of every server, before the run is timed) is in CPU and TCPU, not
# per probe.
run_for() {
	local pid=$1 who=$2 parent=$3 t0=$EPOCHREALTIME n full=0 traced=0 polls=0 opens0 busy0 over0 cpu0
	MINUP=$N TUP=
	opens0=$(passive_opens) over0=$(listen_overflows) cpu0=$(proc_cpu "$pid")
	busy0=$(machine_busy)
	while le "$(since "$t0")" "$DUR"; do
		kill -0 "$pid" 2>/dev/null || fail "$who exited early"
		n=$(up_count)
		if ((!full && n == N)); then
			wait "$FULL_PID" 2>/dev/null
			full=1 TUP=$(<full.t)
			echo "bench-watch: $who had all $N servers up ${TUP}s after its start"
		fi
		if ((full && n < MINUP)); then MINUP=$n; fi
		if ((full || polls++ % 100 == 0)); then
			echo "bench-watch: $who t=$(since "$t0")s up=$n cpu=$(proc_cpu "$pid")s parent-cpu=$(proc_cpu "$parent")s$(socket_census)"
		fi
		if ((full && !traced)); then traced=1; syscall_census "$pid" "$parent" "$who"; fi
		if ((full)); then sleep 5; else sleep 0.05; fi
	done
	((full)) || { kill "$FULL_PID" 2>/dev/null; wait "$FULL_PID" 2>/dev/null; MINUP=$(up_count); echo "bench-watch: $who never had all $N servers up"; }
	LAST=$(up_count)
	CPU=$(proc_cpu "$pid") HWM=$(proc_hwm "$pid") SPLIT=$(proc_cpu_split "$pid") PAGES=$(proc_pages "$pid")
	TCPU=$(awk -v a="$CPU" -v b="$(proc_cpu "$parent")" 'BEGIN{printf "%.2f", a+b}')
	THWM=$((HWM + $(proc_hwm "$parent")))
	PROBES=$(($(passive_opens) - opens0)) OVER=$(($(listen_overflows) - over0))
	CPUW=$(awk -v a="$CPU" -v b="$cpu0" 'BEGIN{printf "%.2f", a-b}')
	BUSY=$(awk -v a="$(machine_busy)" -v b="$busy0" 'BEGIN{printf "%.2f", a-b}')
	MINUP=$((MINUP < LAST ? MINUP : LAST))
	echo "bench-watch: $who cpu=${CPU}s (user sys: $SPLIT; over the run ${CPUW}s) hwm=${HWM}kB (now: $PAGES); with its parent cpu=${TCPU}s hwm=${THWM}kB; machine-busy=${BUSY}s lowest-up=$MINUP last-up=$LAST probes=$PROBES listen-overflows=$OVER"
}

# lbx_run: one run of lbx watch (no metrics endpoint, no status reader: the
# daemon alone); sets what run_for sets and DOWN.
lbx_run() {
	ipvsadm -C
	rm -rf /var/lib/lbx /run/lbx
	START=$EPOCHREALTIME
	lbx watch -f m.yaml --checker process >lbx.log 2>&1 &
	local pid=$! i child=
	watch_full
	for i in $(seq 300); do
		child=$(child_of "$pid" lbx-check)
		# The build probe's lbx-check (lbx watch's start) ends at once;
		# the checker stays.
		[[ -n $child ]] && sleep 0.3 && ! ended "$child" && break
		child=
		sleep 0.1
	done
	[[ -n $child ]] || { tail lbx.log; fail "lbx watch's checker process did not start"; }
	run_for "$child" lbx-check "$pid"
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	DOWN=$(grep -c 'real server down' lbx.log || true)
	# Its start: seconds from the launch (START) to "lbx watch started"
	# (model loaded, lbx-check given its targets) and to the first applies.
	grep -m 3 'lbx watch started\|msg=applied' lbx.log | awk -v t0="$START" '
		{ split(substr($1, index($1, "T") + 1), c, ":"); t = c[1]*3600 + c[2]*60 + c[3] - (t0 - int(t0 / 86400) * 86400)
		  m = ($0 ~ /msg=applied/) ? "applied" : "started"; took = ""; for (i = 1; i <= NF; i++) if ($i ~ /^(took|changes)=/) took = took " " $i
		  printf "bench-watch: lbx start: %s %.2fs after launch%s\n", m, t, took }' || true
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
	START=$EPOCHREALTIME
	keepalived --check -n -l -D -f "$PWD/k.conf" -p "$PWD/ka.pid" -c "$PWD/ka-check.pid" >ka.log 2>&1 &
	local ka=$! i
	watch_full
	for i in $(seq 300); do [[ -s ka-check.pid ]] && break; sleep 0.1; done
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
percheck() { awk -v c="$1" -v n="$2" 'BEGIN{printf "%.0f", (n>0)?c*1e6/n:0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b>0)?a/b:0}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{m=int((NR+1)/2); printf "%s", (NR%2)?v[m]:(v[m]+v[m+1])/2}'; }
sum() { local n=0 v; for v in "$@"; do n=$((n + v)); done; echo "$n"; }
# tally L|K: adds the run just made to lbx's (L) or keepalived's (K) figures.
tally() {
	local -n cpu=${1}cpu per=${1}per mach=${1}mach tcpu=${1}tcpu tup=${1}tup
	local p=${1,}
	local -n hwm=${p}hwm thwm=${p}thwm up=${p}up over=${p}over downs=${1}down
	cpu+=("$CPU") per+=("$(percheck "$CPUW" "$PROBES")") mach+=("$(percheck "$BUSY" "$PROBES")") downs+=("$DOWN") tcpu+=("$TCPU") tup+=("${TUP:-never}")
	((HWM > hwm)) && hwm=$HWM
	((THWM > thwm)) && thwm=$THWM
	((MINUP < up)) && up=$MINUP
	over=$((over + OVER))
}
lbx_round() { lbx_run && tally L; }
ka_round() { ka_run && tally K; }

# bench NAME LBX ANCHOR RATIO TARGET NOTE: one @@BENCH line (TARGET "-":
# none), and "@@BENCH FAIL NAME ..." when RATIO is over TARGET (issue 27:
# a measurement, not a broken run).
bench() {
	local name=$1 l=$2 k=$3 r=$4 t=$5 note=$6
	echo "@@BENCH $name lbx=$l keepalived=$k ratio=$r$([[ $t == - ]] || echo " target=<=$t") ($note)"
	if [[ $t == - ]] || ! awk -v r="$r" -v t="$t" 'BEGIN{exit !(r > t)}'; then return 0; fi
	echo "@@BENCH FAIL $name ratio=$r target=<=$t (missed)"
}

# measure SUFFIX TARGETS: $ROUNDS rounds at N servers, then the @@BENCH
# lines, each name with SUFFIX ("" at 500, "-5000" for the scale round);
# TARGETS 0 leaves issue 27's ratio targets (set at 500) off the lines,
# and judges the servers kept up against keepalived's count instead of
# every one (see the end). Leaves each tool's
# medians in MED_Lper, MED_Kper and its peaks in lhwm, khwm, lthwm, kthwm.
measure() {
	local sfx=$1 targets=$2 r k of="median of $ROUNDS rounds" tp=0.80 tt=0.90 tr=1.50
	((targets)) || tp=- tt=- tr=-
	Lcpu=() Kcpu=() Lper=() Kper=() Lmach=() Kmach=() Ltcpu=() Ktcpu=() Ltup=() Ktup=() Ldown=() Kdown=()
	Rcpu=() Rper=() Rmach=() Rtcpu=()
	lhwm=0 khwm=0 lthwm=0 kthwm=0 lup=$N kup=$N lover=0 kover=0
	for r in $(seq 1 "$ROUNDS"); do
		echo "bench-watch: round $r of $ROUNDS ($N servers)"
		if ((r % 2 == 0)); then ka_round; lbx_round; else lbx_round; ka_round; fi
		k=$((r - 1))
		Rcpu+=("$(ratio "${Lcpu[k]}" "${Kcpu[k]}")") Rtcpu+=("$(ratio "${Ltcpu[k]}" "${Ktcpu[k]}")") Rper+=("$(ratio "${Lper[k]}" "${Kper[k]}")") Rmach+=("$(ratio "${Lmach[k]}" "${Kmach[k]}")")
		echo "bench-watch: round $r ratios: cpu ${Rcpu[k]}, cpu per probe ${Rper[k]}, machine per probe ${Rmach[k]}"
	done
	MED_Lper=$(median "${Lper[@]}") MED_Kper=$(median "${Kper[@]}")
	bench "checker-cpu$sfx" "$(median "${Lcpu[@]}")s" "$(median "${Kcpu[@]}")s" "$(median "${Rcpu[@]}")" - "${DUR}s, $N servers every ${DELAY}s; $of, round ratios ${Rcpu[*]}"
	bench "checker-cpu-per-probe$sfx" "${MED_Lper}us" "${MED_Kper}us" "$(median "${Rper[@]}")" "$tp" "the checker's CPU over the run by the probes in it, counted by the servers' TCP PassiveOpens; $of, round ratios ${Rper[*]}"
	bench "machine-cpu-per-probe$sfx" "$(median "${Lmach[@]}")us" "$(median "${Kmach[@]}")us" "$(median "${Rmach[@]}")" - "every CPU of the VM: checker, httpd, kernel and ksoftirqd; $of, round ratios ${Rmach[*]}"
	bench "tool-cpu$sfx" "$(median "${Ltcpu[@]}")s" "$(median "${Ktcpu[@]}")s" "$(median "${Rtcpu[@]}")" "$tt" "checker process and its parent: lbx watch, keepalived's parent; $of, round ratios ${Rtcpu[*]}"
	bench "checker-rss$sfx" "${lhwm}kB" "${khwm}kB" "$(ratio "$lhwm" "$khwm")" - "VmHWM of lbx-check and of keepalived's checker, highest of $ROUNDS runs"
	bench "tool-rss$sfx" "${lthwm}kB" "${kthwm}kB" "$(ratio "$lthwm" "$kthwm")" "$tr" "VmHWM of the checker process plus its parent, highest of $ROUNDS runs"
	if [[ " ${Ltup[*]} ${Ktup[*]} " == *" never "* ]]; then
		echo "@@BENCH start-to-all-up$sfx lbx=${Ltup[*]}s keepalived=${Ktup[*]}s (a tool never had all $N servers up)"
	else
		bench "start-to-all-up$sfx" "$(median "${Ltup[@]}")s" "$(median "${Ktup[@]}")s" "$(ratio "$(median "${Ltup[@]}")" "$(median "${Ktup[@]}")")" - "from the tool's start until the kernel had all $N servers up (sampled every 0.05 s from the launch): the first apply and the checks' start; $of, runs lbx ${Ltup[*]}, keepalived ${Ktup[*]}"
	fi
	# At 500 every server up in every sample (issue 27). At 5,000, where the
	# issue asks for the figures reported, never fewer than keepalived kept:
	# there one web server process in the two emulated CPUs answers later
	# than the checks' timeouts now and then, for both tools (2026-12-06:
	# lbx kept 4,200 and 4,004, keepalived 2,777 and 3,387).
	local up_target="$N/$N" up_met=$((lup == N)) up_miss="lbx let servers go down"
	((targets)) || up_target=">=$kup" up_met=$((lup >= kup)) up_miss="lbx kept fewer up than keepalived"
	echo "@@BENCH checker-up$sfx lbx=$lup/$N keepalived=$kup/$N target=$up_target (lowest count seen over $ROUNDS runs, sampled every 5s)"
	echo "@@BENCH checker-flaps$sfx lbx=$(sum "${Ldown[@]}") keepalived=$(sum "${Kdown[@]}") (servers taken down over $ROUNDS runs of ${DUR}s: lbx 'real server down', keepalived 'Removing service' log lines; by run lbx ${Ldown[*]}, keepalived ${Kdown[*]})"
	echo "@@BENCH server-listen-overflows$sfx lbx=$lover keepalived=$kover (SYNs the httpd's listen queue dropped over $ROUNDS runs: each costs a probe a 1 s retransmission)"
	((up_met)) || echo "@@BENCH FAIL checker-up$sfx lbx=$lup/$N keepalived=$kup/$N target=$up_target (missed: $up_miss)"
}

write_conf
measure "" 1

# The scale round (issue 27 item 4): SCALE_N servers every SCALE_DELAY s,
# the 500 rounds' probe rate; growth lines put each tool's figure at
# SCALE_N beside its figure at N.
if ((SCALE_N > 0)); then
	n0=$N per0_l=$MED_Lper per0_k=$MED_Kper hwm0_l=$lhwm hwm0_k=$khwm thwm0_l=$lthwm thwm0_k=$kthwm
	add_addrs "$N" "$SCALE_N"
	# The director reaches every server on one link: one neighbour entry
	# each, and the kernel's default table holds 1024 (gc_thresh3); beyond
	# it connect fails and both checkers kept exactly 1023 of 5,000 up.
	# A director with that many servers on a link needs the same.
	for t in 1 2 3; do echo $((SCALE_N + t * 1024)) >/proc/sys/net/ipv4/neigh/default/gc_thresh$t; done
	N=$SCALE_N DELAY=$SCALE_DELAY DUR=$SCALE_DUR ROUNDS=$SCALE_ROUNDS
	busybox wget -q -O /dev/null "http://$(addr $((N - 1)))/health" || fail "httpd does not answer on $(addr $((N - 1)))"
	write_conf
	measure "-$N" 0
	# growth NAME L0 L K0 K UNIT: each tool's figure at N over its figure at n0.
	growth() {
		local gl gk
		gl=$(ratio "$3" "$2") gk=$(ratio "$5" "$4")
		bench "growth-$1" "$gl" "$gk" "$(ratio "$gl" "$gk")" - "$1 at $N servers over at $n0: lbx $2$6 -> $3$6, keepalived $4$6 -> $5$6"
	}
	growth checker-cpu-per-probe "$per0_l" "$MED_Lper" "$per0_k" "$MED_Kper" us
	growth checker-rss "$hwm0_l" "$lhwm" "$hwm0_k" "$khwm" kB
	growth tool-rss "$thwm0_l" "$lthwm" "$thwm0_k" "$kthwm" kB
fi
kill "$HTTPD" 2>/dev/null || true
echo "bench-watch: done"

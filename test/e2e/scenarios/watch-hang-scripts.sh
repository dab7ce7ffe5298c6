# lbx watch on the real IPVS kernel while every script of its own hangs
# (issue 26, "a hung script of every kind"): real server notify_up and
# notify_down, the quorum's up and down scripts, and one real server's
# MISC_CHECK all sleep for ever. A flapping real server (its httpd
# stopped and started ROUNDS times) must still leave IPVS within its check
# bound and come back each time; the MISC_CHECK's timeout takes its server
# out; `lbx status` answers throughout; at most one run of each command
# lives at once; the scripts that overflowed the queue are counted (status
# `scripts_dropped_<kind>` and lbx_scripts_dropped_total, equal); SIGTERM
# stops lbx watch within 5 s with no script process left.
. /e2e/watch-lib.sh
trap watch_cleanup EXIT

# A: 10.1.0.11, an httpd checked by HTTP_GET (refused once stopped):
# delay_loop + connect_timeout + 1 s. B: 10.1.0.12, a MISC_CHECK that
# never ends, killed at its 1 s timeout: a failure.
BOUND=2.5
ROUNDS=16
PERKEY=8 # scriptq's default: jobs that may wait per command and kind
LANES=6  # commands x kinds: A's up and down, B's down, quorum up and down, misc
MARK=987654

printf '#!/bin/sh\necho "$$ $1" >>%s/started\nsleep %s\n' "$PWD" "$MARK" >hang.sh
chmod 755 hang.sh
H=$PWD/hang.sh
: >started

rs_net 10.1.0.11
model m.yaml <<Y
version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    forwarding: nat
    quorum: {min: 1, up_script: $H quorum_up, down_script: $H quorum_down}
    real_servers:
      - address: 10.1.0.11
        port: 80
        notify_up: $H notify_up
        notify_down: $H notify_down
        checks:
          - type: http_get
            urls: [{path: /health, status_codes: ["200"]}]
            delay_loop: 500ms
            retry: 0
            connect_timeout: 1s
      - address: 10.1.0.12
        port: 80
        notify_up: $H notify_up_b
        notify_down: $H notify_down_b
        checks: [{type: misc, path: $H misc, delay_loop: 1s, timeout: 1s}]
Y

# procs ERE: "PID CMDLINE" of each live process whose command line
# matches ERE (the guest's busybox has no pgrep).
procs() {
	local f c
	for f in /proc/[0-9]*; do
		c=$(tr '\0' ' ' <"$f/cmdline" 2>/dev/null) || continue
		[[ -n $c && $c =~ $1 ]] || continue
		grep -q '^State:.*Z' "$f/status" 2>/dev/null || echo "${f#/proc/} $c"
	done
}
# hung: how many hang.sh runs (or their sleeps) live now.
hung() { procs "hang\.sh|sleep $MARK" | awk 'END{print NR}'; }
# ran KIND: how many hang.sh runs of KIND started.
ran() { awk -v k="$1" '$2==k' started | awk 'END{print NR}'; }
ran_some() { (($(ran "$1") >= 1)); }
peak=0
sample() {
	local n
	n=$(hung)
	((n <= peak)) || peak=$n
	timeout 5 lbx status >/dev/null || fail "lbx status did not answer while the scripts hang"
}

rs_start 10.1.0.11
watch_start m.yaml
# B's check hangs and is killed at its timeout: B leaves IPVS (within its
# first check: warmup <= delay_loop, then the 1 s timeout).
wait_until 10 "B's hung MISC_CHECK (killed at its timeout) -> B out" lacks_real 10.0.0.1:80 10.1.0.12:80
has_real 10.0.0.1:80 10.1.0.11:80 1 || fail "A is not in 10.0.0.1:80"
wait_until 10 "B's notify_down ran (and hangs)" ran_some notify_down_b
sample

# The flapping: every transition queues a notify and a quorum script of a
# lane whose first run hangs 30 s, so from the (PERKEY+2)th on they drop.
t0=$EPOCHREALTIME
worst=0
for r in $(seq "$ROUNDS"); do
	rs_stop 10.1.0.11
	wait_until 10 "round $r: A stopped -> out of IPVS" lacks_real 10.0.0.1:80 10.1.0.11:80
	le "$WAITED" $BOUND || fail "round $r: removal took ${WAITED}s, more than ${BOUND}s, with the scripts hanging"
	le "$WAITED" "$worst" || worst=$WAITED
	sample
	rs_start 10.1.0.11
	wait_until 10 "round $r: A started -> back in IPVS" has_real 10.0.0.1:80 10.1.0.11:80 1
	le "$WAITED" $BOUND || fail "round $r: re-adding took ${WAITED}s, more than ${BOUND}s, with the scripts hanging"
	sample
done
flap=$(since "$t0")
# B stayed out: its hung check never passed.
lacks_real 10.0.0.1:80 10.1.0.12:80 || fail "B is back in IPVS, but its MISC_CHECK never ends"
echo "@@BENCH watch-hang-scripts rounds=$ROUNDS flap=${flap}s worst-removal=${worst}s bound=${BOUND}s peak-hung=$peak"
# Each command of each kind runs one at a time (the sh and its sleep: 2
# processes a run).
((peak <= 2 * LANES)) || fail "$peak hang.sh processes at once, more than 2 x $LANES lanes"
for k in notify_up notify_down quorum_up quorum_down misc notify_down_b; do
	ran_some $k || fail "no $k script ran: $(sort -k2 started | awk '{print $2}' | uniq -c | tr '\n' ' ')"
done

# The counters: each of A's lanes got ROUNDS jobs (quorum_up one more, at
# the start); one ran, PERKEY waited, the rest overflowed, less one per
# 30 s timeout that freed a slot.
sleep 1.5 # one metrics export (the reconcile loop's turn)
freed=$(awk -v f="$flap" 'BEGIN{printf "%d", f / 30 + 1}')
lbx status -o json >status.json || fail "lbx status -o json failed"
for k in notify_up notify_down quorum_up quorum_down; do
	s=$(status_field "scripts_dropped_$k")
	m=$(metric "lbx_scripts_dropped_total{kind=\"$k\"}")
	note "dropped $k: status=${s:-none} metrics=$m"
	[[ -n $s ]] || fail "lbx status has no scripts_dropped_$k: $(cat status.json)"
	lo=$((ROUNDS - 1 - PERKEY - freed))
	hi=$((ROUNDS + 1 - 1 - PERKEY))
	((s >= lo && s <= hi)) || fail "scripts_dropped_$k=$s, want $lo..$hi ($ROUNDS transitions, one running, $PERKEY waiting)"
	((m == s)) || fail "lbx_scripts_dropped_total{kind=$k}=$m but status says $s"
done
sample

# SIGTERM: lbx watch stops within 5 s, and every script with it.
t0=$EPOCHREALTIME
kill -TERM "$LBX_PID"
wait "$LBX_PID" || true
LBX_PID=
stop=$(since "$t0")
echo "@@BENCH watch-hang-scripts stop=${stop}s bound=5s"
le "$stop" 5 || fail "lbx watch took ${stop}s to stop with hanging scripts, more than 5 s"
sleep 0.2
left=$(procs "hang\.sh|sleep $MARK|lbx-check")
[[ -z $left ]] || fail "processes left after lbx watch stopped: $left"

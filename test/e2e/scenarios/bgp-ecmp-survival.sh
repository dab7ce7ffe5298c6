# Flows that survive a director's loss (issue 21): a router namespace
# running bird2 spreads a VIP over three directors by ECMP (merge paths,
# the kernel's L4 multipath hash); each director is a namespace running
# `lbx watch` (one model, nodes: lb1-lb3) that announces the VIP over BGP
# and forwards it by IPVS DR to three real servers in namespaces. A client
# behind the router holds N long-lived TCP connections (holdconn, a line
# every 200 ms). Director 1 then dies like a machine: its link goes down
# and its lbx watch and lbx-bgp get SIGKILL, so the router notices only at
# the hold timer (3 s). The connections that still work are counted.
#
# The router's ECMP is hash-threshold: losing the first of three nexthops
# moves the dead director's flows and also some of a surviving director's
# (d2's upper hash range goes to d3). With scheduler mh (mh-port) and
# sloppy_tcp (the model's ipvs.sysctls), every connection must survive:
# the director that takes a flow mid-connection picks the same real
# server. The same with scheduler wlc and sloppy_tcp off is reported, not
# asserted: there a moved flow reaches a director that does not know it
# and is reset.

VIP=192.0.2.10
PORT=8080
N=${SURVIVAL_CONNS:-90}
DEAD=1
NSS=(r c d1 d2 d3 s1 s2 s3)

# nsx NS CMD...: CMD in network namespace NS. Background processes run
# `ip netns exec` directly instead, so that $! is their own pid (a
# backgrounded function would be a subshell around them).
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# setsys NS KEY VALUE: /proc/sys/net/KEY of namespace NS.
setsys() { nsx "$1" bash -c 'echo "$2" >"/proc/sys/net/$1"' setsys "$2" "$3"; }

# teardown: every process of the scenario's namespaces killed, the
# namespaces deleted (their IPVS tables with them).
teardown() {
	local ns p
	for ns in "${NSS[@]}"; do
		[[ -e /run/netns/$ns ]] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	done
	sleep 0.2
	for ns in "${NSS[@]}"; do
		[[ ! -e /run/netns/$ns ]] || ip netns del "$ns"
	done
}

# show_logs: what a failure report needs, from the current round's dir.
show_logs() {
	local f
	for f in "$ROUND"/bird.log "$ROUND"/d*/lbx.log "$ROUND"/client.err; do
		[[ -s $f ]] || continue
		echo "--- $f (last 25 lines)"
		tail -n 25 "$f" | sed 's/^/  | /'
	done
}
ROUND=$PWD
trap 'rc=$?; ((rc == 0)) || show_logs; teardown' EXIT

# topology: r holds the LAN bridge br0 (10.0.0.0/24: router .254,
# directors .1-.3, real servers .11-.13) and the client's link (10.9.0.0/24).
topology() {
	local ns i k
	for ns in "${NSS[@]}"; do
		ip netns add "$ns"
		nsx "$ns" ip link set lo up
	done
	nsx r ip link add br0 type bridge forward_delay 0
	nsx r ip link set br0 up
	nsx r ip addr add 10.0.0.254/24 dev br0
	setsys r ipv4/ip_forward 1
	setsys r ipv4/fib_multipath_hash_policy 1
	ip -n r link add rc type veth peer name eth0 netns c
	nsx r ip addr add 10.9.0.1/24 dev rc
	nsx r ip link set rc up
	nsx c ip addr add 10.9.0.2/24 dev eth0
	nsx c ip link set eth0 up
	nsx c ip route add default via 10.9.0.1
	# The client's packets reach the router with their socket's hash
	# (veth keeps skb->hash), which the router's L4 multipath hash then
	# uses; TCP draws a new one at each retransmission timeout
	# (net.core.txrehash), which would move a flow to another director
	# where a real router, hashing the headers, keeps it on one.
	setsys c core/txrehash 0
	for i in 1 2 3; do
		lan_port "d$i" "10.0.0.$i"
		# A director's default route: its resets (a flow it does not
		# know, without sloppy_tcp) reach the client.
		nsx "d$i" ip route add default via 10.0.0.254
		lan_port "s$i" "10.0.0.1$i"
		# A DR real server: the VIP on lo, never answered for in ARP.
		nsx "s$i" ip addr add "$VIP/32" dev lo
		for k in all eth0; do
			setsys "s$i" "ipv4/conf/$k/arp_ignore" 1
			setsys "s$i" "ipv4/conf/$k/arp_announce" 2
		done
		nsx "s$i" ip route add default via 10.0.0.254
		ip netns exec "s$i" holdconn serve "0.0.0.0:$PORT" "s$i" 2>>"$ROUND/s$i.err" &
		disown # killed by teardown, which bash need not report
	done
}

# lan_port NS ADDR: NS's eth0 on the router's bridge, with ADDR/24.
lan_port() {
	ip -n r link add "p-$1" type veth peer name eth0 netns "$1"
	nsx r ip link set "p-$1" master br0 up
	nsx "$1" ip addr add "$2/24" dev eth0
	nsx "$1" ip link set eth0 up
}

# router: bird2 in r, ECMP into the kernel, a passive session per director
# (hold 3 s, keepalive 1 s).
router() {
	cat >"$ROUND/bird.conf" <<EOF
log "$ROUND/bird.log" all;
router id 10.0.0.254;
debug protocols { states, routes };
protocol device { scan time 1; }
protocol kernel {
	ipv4 { import none; export all; };
	merge paths on;
}
template bgp director {
	local 10.0.0.254 as 65000;
	hold time 3;
	keepalive time 1;
	connect retry time 1;
	passive on;
	ipv4 { import all; export none; };
}
protocol bgp d1 from director { neighbor 10.0.0.1 as 65001; }
protocol bgp d2 from director { neighbor 10.0.0.2 as 65001; }
protocol bgp d3 from director { neighbor 10.0.0.3 as 65001; }
EOF
	ip netns exec r bird -f -c "$ROUND/bird.conf" -s "$ROUND/bird.ctl" -P "$ROUND/bird.pid" >>"$ROUND/bird.out" 2>&1 &
	disown
}

# director_model SCHED SLOPPY: the one model of the three directors.
director_model() {
	local flags=""
	[[ $1 != mh ]] || flags="scheduler_flags: [mh-port], "
	model "$ROUND/lbx.yaml" <<EOF
version: 1
ipvs:
  sysctls: {sloppy_tcp: $2, sloppy_sctp: $2}
addresses:
  - {address: $VIP/32, interface: lo}
virtual_servers:
  - {name: echo, address: $VIP, port: $PORT, protocol: tcp, scheduler: $1, ${flags}forwarding: dr,
     real_servers: [{address: 10.0.0.11}, {address: 10.0.0.12}, {address: 10.0.0.13}]}
bgp:
  local_as: 65001
  peers:
    - {address: 10.0.0.254, as: 65000, hold_time: 3s, keepalive: 1s}
  announcements:
    - {prefix: $VIP/32, interface: lo, when: {virtual_servers: [echo]}}
nodes:
  lb1: {bgp: {router_id: 10.0.0.1}}
  lb2: {bgp: {router_id: 10.0.0.2}}
  lb3: {bgp: {router_id: 10.0.0.3}}
EOF
}

# directors: lbx watch (and its lbx-bgp) in d1-d3, each its own node.
directors() {
	local i
	for i in 1 2 3; do
		mkdir -p "$ROUND/d$i"
		echo "+ ip netns exec d$i lbx watch -f lbx.yaml --node lb$i --state-dir d$i --run-dir d$i --checker inline &"
		ip netns exec "d$i" lbx watch -f "$ROUND/lbx.yaml" --node "lb$i" --state-dir "$ROUND/d$i" --run-dir "$ROUND/d$i" \
			--checker inline >>"$ROUND/d$i/lbx.log" 2>&1 &
		disown
	done
}

# nexthops: the directors the router's kernel sends the VIP to, one a line.
nexthops() { nsx r ip -4 route show "$VIP/32" | awk '{for (i = 1; i < NF; i++) if ($i == "via") print $(i+1)}' | sort; }
nexthops_are() { [[ $(nexthops | tr '\n' ' ') == "$1" ]]; }

# wait_for SECS DESC CMD...: polls CMD every 100 ms; WAITED is the time.
wait_for() {
	local lim=$1 desc=$2 t0=$EPOCHREALTIME
	shift 2
	until "$@"; do
		awk -v a="$t0" -v b="$EPOCHREALTIME" -v l="$lim" 'BEGIN{exit !(b-a > l)}' && fail "not within ${lim}s: $desc"
		sleep 0.1
	done
	WAITED=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
	note "$desc: ${WAITED}s"
}

# client_conns NS: the client's connections (ADDR:PORT) in NS's IPVS table.
client_conns() { nsx "$1" ipvsadm -Lnc | awk '$1=="TCP" && $4 ~ /^10\.9\.0\.2:/ {print $4}' | sort -u; }

# client_ready: holdconn has all N connections answered.
client_ready() {
	grep -q "^ready $N\$" "$ROUND/client.out" && return 0
	kill -0 "$CLIENT" 2>/dev/null || fail "holdconn exited: $(cat "$ROUND/client.err")"
	return 1
}

# round NAME SCHED SLOPPY: the whole rig, N connections, director 1's
# death; sets KEPT, DEAD_KEPT, DEAD_N.
round() {
	local name=$1 i p
	ROUND=$PWD/$name
	mkdir -p "$ROUND"
	note "=== round $name: scheduler $2, sloppy_tcp $3"
	topology
	router
	director_model "$2" "$3"
	directors
	wait_for 90 "$name: three nexthops on the router" nexthops_are "10.0.0.1 10.0.0.2 10.0.0.3 "
	nsx r ip route show "$VIP/32" | sed 's/^/  r| /'
	for i in 1 2 3; do
		[[ $(nsx "d$i" cat /proc/sys/net/ipv4/vs/sloppy_tcp) == "$([[ $3 == true ]] && echo 1 || echo 0)" ]] ||
			fail "d$i: sloppy_tcp is $(nsx "d$i" cat /proc/sys/net/ipv4/vs/sloppy_tcp), the model says $3"
		nsx "d$i" ipvsadm-save -n | sed "s/^/  d$i| /"
	done

	ip netns exec c holdconn hold -n "$N" "$VIP:$PORT" >"$ROUND/client.out" 2>"$ROUND/client.err" &
	CLIENT=$!
	wait_for 60 "$name: $N connections answered" client_ready
	sleep 1
	for i in 1 2 3; do
		client_conns "d$i" >"$ROUND/d$i.conns"
		note "d$i holds $(wc -l <"$ROUND/d$i.conns") of the client's connections"
	done
	DEAD_N=$(wc -l <"$ROUND/d$DEAD.conns")
	[[ $(cat "$ROUND"/d?.conns | sort -u | wc -l) == "$N" && $(cat "$ROUND"/d?.conns | wc -l) == "$N" ]] ||
		fail "the directors' tables do not hold each of the $N connections once (ECMP moved flows before the death)"
	((DEAD_N > 0)) || fail "ECMP gave director $DEAD none of the $N connections: nothing to lose"

	# Director 1 dies like a machine: no FIN, no withdraw, no forwarding.
	local t0=$EPOCHREALTIME
	nsx "d$DEAD" ip link set eth0 down
	for p in $(ip netns pids "d$DEAD"); do kill -9 "$p" 2>/dev/null || true; done
	wait_for 15 "$name: the router drops director $DEAD (hold timer 3s)" nexthops_are "10.0.0.2 10.0.0.3 "

	# Each connection now has up to 20 s to exchange one more line.
	kill -TERM "$CLIENT"
	wait "$CLIENT" || fail "holdconn: $(cat "$ROUND/client.err")"
	note "$name: $(since "$t0")s from the death to the report"
	{ grep '^conn .* broken' "$ROUND/client.out" | head -n 10 || true; grep -v '^conn ' "$ROUND/client.out"; } | sed 's/^/  c| /'
	KEPT=$(awk '$1=="conn" && $4=="ok"' "$ROUND/client.out" | wc -l)
	[[ $(grep -c '^conn ' "$ROUND/client.out") == "$N" ]] || fail "holdconn reported $(grep -c '^conn ' "$ROUND/client.out") connections, want $N"
	DEAD_KEPT=$(awk 'NR==FNR{dead[$1]=1; next} $1=="conn" && $4=="ok" && ($2 in dead)' "$ROUND/d$DEAD.conns" "$ROUND/client.out" | wc -l)
	# Flows a surviving director took from the other one (each needs
	# sloppy_tcp to get an entry: none without it).
	local j
	MOVED=0
	for i in 1 2 3; do
		((i != DEAD)) || continue
		j=$((6 - i - DEAD)) # the other survivor
		MOVED=$((MOVED + $(client_conns "d$i" | awk 'NR==FNR{was[$1]=1; next} ($1 in was)' "$ROUND/d$j.conns" - | wc -l)))
	done
	note "$name: flows ECMP moved from one surviving director to the other, in the new one's table: $MOVED"
	teardown
}

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }

# counts: "kept=K/N (dead director's: D/DN, the others': O/ON)".
counts() { echo "kept=$KEPT/$N (dead director's: $DEAD_KEPT/$DEAD_N, the others': $((KEPT - DEAD_KEPT))/$((N - DEAD_N)))"; }

round mh mh true
MH_KEPT=$KEPT MH="$(counts), moved between survivors: $MOVED"
round wlc wlc false
echo "@@BENCH survival: mh+sloppy $MH; wlc $(counts)"
((MH_KEPT == N)) || fail "mh + sloppy_tcp kept $MH_KEPT of $N connections, want all"

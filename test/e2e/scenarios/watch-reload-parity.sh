# Reload scripts next to keepalived: the scripts a reload runs when it
# removes real servers. One keepalived.conf (two virtual servers, no
# omega), run by keepalived --check and by lbx watch on `lbx convert` of
# it, one after the other; both reloaded (SIGHUP) to a second file that
# removes an up real server of the first virtual server (whose quorum 2 is
# then lost: its other real server is down) and the whole second one (an
# up and a down real server). keepalived (clear_diff_services) runs the
# notify_down of each removed real server that was up and the quorum_down
# of the services that lose quorum, omega or not; a down one runs nothing.
# The scripts each ran must be the same set (keepalived runs the kept
# service's quorum_down twice, for its old and its new copy; lbx once),
# and the kernels after the reload equal.
. /e2e/watch-lib.sh
trap ka_cleanup EXIT

rs_net 10.1.0.11 10.1.0.12 10.1.0.13 10.1.0.14 10.1.0.15
notes_script
notify=$PWD/note.sh

# conf FULL: the keepalived.conf, with FULL=1 the first (everything), with
# FULL=0 the second (10.1.0.12 and the VS 10.0.0.2 gone).
conf() {
	printf 'global_defs {\n    router_id e2e\n}\n'
	printf 'virtual_server 10.0.0.1 80 {\n    delay_loop 1\n    lvs_sched rr\n    lvs_method NAT\n    protocol TCP\n'
	printf '    quorum 2\n    quorum_up "%s A-quorum_up"\n    quorum_down "%s A-quorum_down"\n' "$notify" "$notify"
	local a
	for a in 10.1.0.11 10.1.0.12 10.1.0.14; do
		[[ $1 == 1 || $a != 10.1.0.12 ]] || continue
		real A $a
	done
	printf '}\n'
	[[ $1 == 1 ]] || return 0
	printf 'virtual_server 10.0.0.2 80 {\n    delay_loop 1\n    lvs_sched rr\n    lvs_method NAT\n    protocol TCP\n'
	printf '    quorum_up "%s B-quorum_up"\n    quorum_down "%s B-quorum_down"\n' "$notify" "$notify"
	real B 10.1.0.13
	real B 10.1.0.15
	printf '}\n'
}
# real VS ADDR: a real server of weight 1 with notify scripts and a TCP check.
real() {
	printf '    real_server %s 80 {\n        weight 1\n        notify_up "%s %s-%s-up"\n        notify_down "%s %s-%s-down"\n' "$2" "$notify" "$1" "$2" "$notify" "$1" "$2"
	printf '        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n        }\n    }\n'
}
conf 1 >k1.conf
conf 0 >k2.conf
must lbx convert k1.conf
printf '%s\n' "$OUT" >m1.yaml
must lbx convert k2.conf
printf '%s\n' "$OUT" >m2.yaml
# 10.1.0.14 and 10.1.0.15 stay stopped: down when the reload comes.
for a in 10.1.0.11 10.1.0.12 10.1.0.13; do rs_start $a; done

before="-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.1.0.11:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.1.0.12:80 -m -w 1
-A -t 10.0.0.2:80 -s rr
-a -t 10.0.0.2:80 -r 10.1.0.13:80 -m -w 1"
after="-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.1.0.11:80 -m -w 1"

# reload_step WHO RELOAD...: waits for the first table (and 2 s more, so
# that the stopped ones have failed), empties the notes, runs RELOAD, waits for the
# second table and 3 s more (scripts run asynchronously); the notes, one
# line each and sorted unique, are then in notes-WHO.
reload_step() {
	local who=$1
	shift
	wait_until 20 "$who: all but the stopped ones in" kernel_is "$before"
	sleep 2
	: >"$NOTES"
	"$@"
	wait_until 10 "$who: reloaded to the second file" kernel_is "$after"
	sleep 3
	sort -u "$NOTES" >"notes-$who"
	echo "@@BENCH watch-reload-parity $who ran: $(tr '\n' ' ' <"notes-$who")($(wc -l <"$NOTES") runs)"
}

# 1. keepalived, the reference. Its parent process reloads on SIGHUP.
cp k1.conf k.conf
ka_start k.conf
ka_reload() { cp k2.conf k.conf && kill -HUP "$KA_PID"; }
reload_step keepalived ka_reload
ka_stop
ipvsadm -C

# 2. lbx watch on the converted files.
cp m1.yaml m.yaml
watch_start m.yaml
lbx_reload() { cp m2.yaml m.yaml && kill -HUP "$LBX_PID"; }
reload_step lbx lbx_reload
watch_stop

want="A-10.1.0.12-down
A-quorum_down
B-10.1.0.13-down
B-quorum_down"
[[ $(cat notes-keepalived) == "$want" ]] || fail "keepalived ran $(tr '\n' ' ' <notes-keepalived), the scenario pins: $(tr '\n' ' ' <<<"$want")"
[[ $(cat notes-lbx) == "$(cat notes-keepalived)" ]] || fail "lbx ran $(tr '\n' ' ' <notes-lbx), keepalived $(tr '\n' ' ' <notes-keepalived)"
note "the same scripts as keepalived"

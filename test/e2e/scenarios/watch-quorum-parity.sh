# Quorum and sorry server next to keepalived: one keepalived.conf, run by
# keepalived --check and by lbx watch on `lbx convert` of it, one after the
# other, the kernel and the quorum scripts each ran read after each step.
# VS 10.0.0.1: 3 real servers of weight 1, quorum 3, a sorry server, TCP
# checks: all up (at start keepalived "Gained quorum" and runs quorum_up);
# one stopped (quorum lost: keepalived adds the sorry server, takes the
# alive ones out of the pool, runs quorum_down); back (quorum regained:
# sorry server out, all three in, quorum_up). VS 10.0.0.2: 2 real servers
# of weight 1, quorum 2 with hysteresis 1, a sorry server: keepalived
# "Starting with quorum down" (it gains quorum only at quorum+hysteresis,
# 3, which these two never reach), so only the sorry server is in, for
# good, and quorum_down ran at start. The two kernels and the two script
# logs must be equal at every step.
. /e2e/watch-lib.sh
trap ka_cleanup EXIT

rs_net 10.1.0.11 10.1.0.12 10.1.0.13 10.1.0.21 10.1.0.22
notes_script
{
	printf 'global_defs {\n    router_id e2e\n}\n'
	printf 'virtual_server 10.0.0.1 80 {\n    delay_loop 1\n    lvs_sched rr\n    lvs_method NAT\n    protocol TCP\n'
	printf '    quorum 3\n    sorry_server 10.1.0.99 80\n    quorum_up "%s A-up"\n    quorum_down "%s A-down"\n' "$PWD/note.sh" "$PWD/note.sh"
	for a in 10.1.0.11 10.1.0.12 10.1.0.13; do
		printf '    real_server %s 80 {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n        }\n    }\n' "$a"
	done
	printf '}\n'
	printf 'virtual_server 10.0.0.2 80 {\n    delay_loop 1\n    lvs_sched rr\n    lvs_method NAT\n    protocol TCP\n'
	printf '    quorum 2\n    hysteresis 1\n    sorry_server 10.1.0.99 80\n    quorum_up "%s B-up"\n    quorum_down "%s B-down"\n' "$PWD/note.sh" "$PWD/note.sh"
	for a in 10.1.0.21 10.1.0.22; do
		printf '    real_server %s 80 {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n        }\n    }\n' "$a"
	done
	printf '}\n'
} >k.conf
must lbx convert k.conf
printf '%s\n' "$OUT" >m.yaml
for a in 10.1.0.11 10.1.0.12 10.1.0.13 10.1.0.21 10.1.0.22; do rs_start $a; done

b="-A -t 10.0.0.2:80 -s rr
-a -t 10.0.0.2:80 -r 10.1.0.99:80 -m -w 1"
all="-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.1.0.11:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.1.0.12:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.1.0.13:80 -m -w 1
$b"
sorry="-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.1.0.99:80 -m -w 1
$b"

# scripts_are WHO WHEN WANT: the quorum scripts run so far, in order (the
# two at start in any order), are WANT (keepalived's, pinned here).
scripts_are() {
	local got
	got=$(awk 'NR<=2{s[NR]=$0; next} {r=r" "$0} END{if (s[1] > s[2]) {t=s[1]; s[1]=s[2]; s[2]=t} printf "%s %s%s", s[1], s[2], r}' "$NOTES")
	want=$(awk '{if ($1 > $2) {t=$1; $1=$2; $2=t} print}' <<<"$3")
	[[ $got == "$want" ]] || fail "$1, $2: quorum scripts ran '$(tr '\n' ' ' <"$NOTES")', want '$3'"
	note "$1, $2: quorum scripts '$(tr '\n' ' ' <"$NOTES")'"
}

# steps WHO: the three steps against the running checker; each waits for
# the expected table, then holds it for 3 s (no flapping in between).
steps() {
	local who=$1
	wait_until 20 "$who: all three up (and 10.0.0.2 on its sorry server)" kernel_is "$all"
	sleep 0.5 # the scripts run beside the kernel's change
	scripts_are "$who" "at start" "A-up B-down"
	rs_stop 10.1.0.11
	wait_until 10 "$who: one stopped -> quorum lost, only the sorry server" kernel_is "$sorry"
	sleep 3
	kernel_is "$sorry" || { expect_kernel <<<"$sorry"; fail "$who: the table moved while quorum stayed lost"; }
	scripts_are "$who" "quorum lost" "A-up B-down A-down"
	rs_start 10.1.0.11
	wait_until 10 "$who: back -> quorum regained, all three in, sorry server out" kernel_is "$all"
	sleep 1
	scripts_are "$who" "quorum regained" "A-up B-down A-down A-up"
	note "$who: all three steps as keepalived documents them"
}

# 1. keepalived, the reference.
: >"$NOTES"
ka_start k.conf
steps keepalived
grep -q 'Removing alive servers from the pool' ka.log || fail "keepalived did not log 'Removing alive servers from the pool' (the behaviour this scenario pins)"
ka_stop
ipvsadm -C

# 2. lbx watch on the converted file.
: >"$NOTES"
watch_start m.yaml
steps lbx
watch_stop

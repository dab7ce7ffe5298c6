# Reaction time next to keepalived on the same configuration: one
# keepalived.conf (HTTP_GET, delay_loop 1, retry 1, delay_before_retry 1,
# connect_timeout 1, a sorry server) run by keepalived --check, and by
# lbx watch on `lbx convert` of it; one after the other, IPVS flushed in
# between. Each stops an httpd 3 times at different check phases and times
# stopped -> removed from IPVS and restarted -> back, read from the kernel.
#   @@BENCH reaction lbx=Xs keepalived=Ys ratio=R.RR   (medians)
# Both must stay within the bound of watch-health (4 s).
. /e2e/watch-lib.sh
trap ka_cleanup EXIT
BOUND=4 REPS=3

rs_net 10.1.0.11 10.1.0.12 10.1.0.13
cat >k.conf <<'K'
global_defs {
    router_id e2e
}
virtual_server 10.0.0.1 80 {
    delay_loop 1
    lvs_sched wlc
    lvs_method NAT
    protocol TCP
    sorry_server 10.1.0.99 80
    real_server 10.1.0.11 80 {
        weight 1
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
    real_server 10.1.0.12 80 {
        weight 1
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
    real_server 10.1.0.13 80 {
        weight 1
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
}
K
must lbx convert k.conf
printf '%s\n' "$OUT" >m.yaml
want="-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.11:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.1.0.12:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.1.0.13:80 -m -w 1"
for a in 10.1.0.11 10.1.0.12 10.1.0.13; do rs_start $a; done

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# measure WHO: REPS stop/start cycles of 10.1.0.11 against the running
# daemon; sets RM (median removal) and UP (median re-add).
measure() {
	local who=$1 i rm=() up=() t0
	wait_until 20 "$who: the model in the kernel" kernel_is "$want"
	sleep 2
	for i in $(seq $REPS); do
		sleep 0.$((i * 3))
		t0=$EPOCHREALTIME
		rs_stop 10.1.0.11
		wait_until 15 "$who round $i: stopped -> removed" lacks_real 10.0.0.1:80 10.1.0.11:80
		rm+=("$WAITED")
		t0=$EPOCHREALTIME
		rs_start 10.1.0.11
		wait_until 15 "$who round $i: restarted -> back" kernel_is "$want"
		up+=("$(since "$t0")")
		sleep 1
	done
	note "$who: removal ${rm[*]} s, re-add ${up[*]} s"
	RM=$(median "${rm[@]}") UP=$(median "${up[@]}")
}

# 1. lbx watch.
watch_start m.yaml
measure lbx
lrm=$RM lup=$UP
watch_stop
ipvsadm -C

# 2. keepalived --check on the same file.
ka_start k.conf
measure keepalived
krm=$RM kup=$UP
ka_stop
ipvsadm -C

awk -v l="$lrm" -v k="$krm" 'BEGIN{printf "@@BENCH reaction lbx=%.3fs keepalived=%.3fs ratio=%.2f (stopped -> removed, median of 3)\n", l, k, (k>0)?l/k:0}'
awk -v l="$lup" -v k="$kup" 'BEGIN{printf "@@BENCH re-add lbx=%.3fs keepalived=%.3fs ratio=%.2f (restarted -> back, median of 3)\n", l, k, (k>0)?l/k:0}'
le "$lrm" $BOUND || fail "lbx removal median ${lrm}s over ${BOUND}s"
le "$krm" $BOUND || note "keepalived removal median ${krm}s over ${BOUND}s"

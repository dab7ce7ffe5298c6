# Quorum and sorry server next to keepalived: one keepalived.conf (3 real
# servers of weight 1, quorum 3 with hysteresis 0, a sorry server, TCP
# checks), run by keepalived --check and by lbx watch on `lbx convert` of
# it, one after the other. The same steps for each, the kernel read after
# each: all up; one stopped (quorum lost: keepalived adds the sorry server
# and takes the alive ones out of the pool); back (quorum regained: sorry
# server out, all three in). The two kernels must be equal at every step.
. /e2e/watch-lib.sh
trap ka_cleanup EXIT

rs_net 10.1.0.11 10.1.0.12 10.1.0.13
{
	printf 'global_defs {\n    router_id e2e\n}\n'
	printf 'virtual_server 10.0.0.1 80 {\n    delay_loop 1\n    lvs_sched rr\n    lvs_method NAT\n    protocol TCP\n'
	printf '    quorum 3\n    sorry_server 10.1.0.99 80\n'
	for a in 10.1.0.11 10.1.0.12 10.1.0.13; do
		printf '    real_server %s 80 {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n        }\n    }\n' "$a"
	done
	printf '}\n'
} >k.conf
must lbx convert k.conf
printf '%s\n' "$OUT" >m.yaml
for a in 10.1.0.11 10.1.0.12 10.1.0.13; do rs_start $a; done

all="-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.1.0.11:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.1.0.12:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.1.0.13:80 -m -w 1"
sorry="-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.1.0.99:80 -m -w 1"

# steps WHO: the three steps against the running checker; each waits for
# the expected table, then holds it for 3 s (no flapping in between).
steps() {
	local who=$1
	wait_until 20 "$who: all three up" kernel_is "$all"
	rs_stop 10.1.0.11
	wait_until 10 "$who: one stopped -> quorum lost, only the sorry server" kernel_is "$sorry"
	sleep 3
	kernel_is "$sorry" || { expect_kernel <<<"$sorry"; fail "$who: the table moved while quorum stayed lost"; }
	rs_start 10.1.0.11
	wait_until 10 "$who: back -> quorum regained, all three in, sorry server out" kernel_is "$all"
	note "$who: all three steps as keepalived documents them"
}

# 1. keepalived, the reference.
ka_start k.conf
steps keepalived
grep -q 'Removing alive servers from the pool' ka.log || fail "keepalived did not log 'Removing alive servers from the pool' (the behaviour this scenario pins)"
ka_stop
ipvsadm -C

# 2. lbx watch on the converted file.
watch_start m.yaml
steps lbx
watch_stop

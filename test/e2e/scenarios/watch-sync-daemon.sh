# IPVS connection sync (lvs_sync_daemon) next to keepalived: one
# keepalived.conf (a VRRP instance alone on its link, so it becomes
# MASTER, and `lvs_sync_daemon sy0 VI_1 id 7`), run by keepalived and by
# lbx watch on `lbx convert` of it. The kernel's daemons (`ipvsadm -L
# --daemon`) must be the same at each step: the backup daemon before
# MASTER, the master daemon alone while MASTER, the backup alone in FAULT
# (link down), none after the stop. lbx, beyond keepalived: a foreign
# daemon in the slot is replaced at start (keepalived fails to start its
# own), a daemon stopped by hand comes back within one resync, and a
# reload's settings (maxlen, port, ttl, group) reach the kernel as ipvsadm
# reads them, and a daemon the kernel normalised (a backup's maxlen raised
# to 1024) is not restarted on every resync.
. /e2e/watch-lib.sh
trap ka_cleanup EXIT

dummy vr0 192.0.2.1/24
ip link set vr0 multicast on # keepalived wants a multicast-capable link
dummy sy0 198.51.100.1/24
cat >k.conf <<'K'
global_defs {
    router_id e2e
    lvs_sync_daemon sy0 VI_1 id 7
}
vrrp_instance VI_1 {
    state BACKUP
    interface vr0
    virtual_router_id 50
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
K
must lbx convert k.conf
printf '%s\n' "$OUT" | sed 's/^global:$/global:\n  resync_interval: 1s/' >m.yaml
grep -q 'resync_interval: 1s' m.yaml || fail "no global: section in the converted model"
cat m.yaml

# daemons: `ipvsadm -L --daemon` as one line ("" when none runs).
daemons() { ipvsadm -L --daemon 2>/dev/null | sed 's/ *$//' | paste -sd'|' -; }
d_is() { [[ $(daemons) == "$1" ]]; }
has_vip() { grep -q '192.0.2.100/24' <<<"$(ip -o addr show dev vr0)"; }
no_vip() { ! has_vip; }
MASTER7='master sync daemon (mcast=sy0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)'
BACKUP7='backup sync daemon (mcast=sy0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)'

# steps WHO: the same steps for either daemon, started before.
steps() {
	wait_until 30 "$1: backup daemon before MASTER" d_is "$BACKUP7"
	wait_until 30 "$1: MASTER (the VIP on vr0)" has_vip
	wait_until 5 "$1: master daemon alone while MASTER" d_is "$MASTER7"
	ip link set vr0 down
	wait_until 10 "$1: FAULT (link down): backup daemon alone" d_is "$BACKUP7"
	ip link set vr0 up
	ip addr replace 192.0.2.1/24 dev vr0
	wait_until 30 "$1: MASTER again" d_is "$MASTER7"
}

note "--- keepalived"
echo "+ keepalived -n -l -D -f k.conf &"
keepalived -n -l -D -f "$PWD/k.conf" -p "$PWD/ka.pid" -r "$PWD/ka-vrrp.pid" -c "$PWD/ka-check.pid" >ka.log 2>&1 &
KA_PID=$!
steps keepalived
ka_stop
wait_until 10 "keepalived stopped: no daemon" d_is ""

note "--- lbx watch"
# A foreign backup daemon (another pair's sync id) in the slot.
ipvsadm --start-daemon backup --mcast-interface sy0 --syncid 9
watch_start m.yaml
steps lbx
# By hand: the master stopped. Back within one resync (1 s).
ipvsadm --stop-daemon master
wait_until 3 "lbx: hand-stopped master daemon restarted" d_is "$MASTER7"
grep -q 'msg="IPVS sync daemon" action=create role=master' lbx.log || fail "no start of the master daemon in lbx's log"
[[ $(status_field role) == master ]] || fail "lbx status: sync daemon role $(status_field role), want master"
# A reload with every setting: ipvsadm reads them back from the kernel.
sed -i 's/sync_id: 7/sync_id: 8\n    max_len: 1000\n    port: 9000\n    ttl: 3\n    group: 239.1.1.1/' m.yaml
grep -q 'group: 239.1.1.1' m.yaml || fail "the model has no sync_id line to edit"
kill -HUP "$LBX_PID"
wait_until 10 "lbx: reloaded daemon as ipvsadm reads it" d_is 'master sync daemon (mcast=sy0, syncid=8, maxlen=1000, group=239.1.1.1, port=9000, ttl=3)'
# FAULT with those settings: the kernel raises a backup's maxlen to 1024;
# lbx knows that daemon for its own and leaves it be (no restart on every
# resync).
ip link set vr0 down
backup8() { [[ $(daemons) == 'backup sync daemon (mcast=sy0, syncid=8, '* ]]; }
wait_until 10 "lbx: FAULT, the tuned backup daemon" backup8
note "kernel: $(daemons)"
n=$(grep -c 'msg="IPVS sync daemon"' lbx.log)
sleep 3 # three resyncs
(($(grep -c 'msg="IPVS sync daemon"' lbx.log) == n)) || fail "lbx restarted a daemon the kernel runs as asked: $(grep 'msg="IPVS sync daemon"' lbx.log | tail -n 4)"
watch_stop
d_is "" || fail "lbx stopped: daemons left: $(daemons)"
# On the way out only stops, as keepalived (no backup started at STOP).
if awk '/to=STOP/ {s = 1} s && /msg="IPVS sync daemon" action=create/ {bad = 1} END {exit !bad}' lbx.log; then
	fail "lbx started a sync daemon while stopping: $(grep 'msg="IPVS sync daemon"' lbx.log | tail -n 3)"
fi
no_vip || fail "lbx stopped: the VIP is still on vr0"

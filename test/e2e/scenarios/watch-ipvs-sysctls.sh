# lbx watch reconciles the model's IPVS sysctls like everything else: set
# at start, and a setting changed by hand is set back within one resync
# (global.resync_interval: 1s, bound 1 s + 2 s of slack for TCG), read
# from /proc/sys (the kernel's own view).
. /e2e/watch-lib.sh
vs=/proc/sys/net/ipv4/vs
old_tcp=$(cat $vs/sloppy_tcp) old_reuse=$(cat $vs/conn_reuse_mode)
trap 'watch_cleanup; echo "$old_tcp" >$vs/sloppy_tcp; echo "$old_reuse" >$vs/conn_reuse_mode' EXIT
sysctl_is() { [[ $(cat $vs/$1) == "$2" ]]; }
both_set() { sysctl_is sloppy_tcp 1 && sysctl_is conn_reuse_mode 0; }

echo 0 >$vs/sloppy_tcp
echo 1 >$vs/conn_reuse_mode
model m.yaml <<'Y'
version: 1
global: {resync_interval: 1s}
ipvs:
  sysctls: {sloppy_tcp: true, conn_reuse_mode: 0}
virtual_servers:
  - {address: 10.0.0.1, port: 80, scheduler: mh, scheduler_flags: [mh-port], forwarding: dr, real_servers: [{address: 10.1.0.5}]}
Y
watch_start m.yaml
wait_until 15 "sysctls set at start" both_set
wait_until 5 "service in the kernel" has_real 10.0.0.1:80 10.1.0.5:80

echo 0 >$vs/sloppy_tcp
sysctl_is sloppy_tcp 0 || fail "could not make the drift"
wait_until 3 "sloppy_tcp set back" sysctl_is sloppy_tcp 1
sysctl_is conn_reuse_mode 0 || fail "conn_reuse_mode changed"
watch_stop

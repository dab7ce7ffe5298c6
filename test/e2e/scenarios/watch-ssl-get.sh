# ssl_get checks run in lbx-check-tls (lbx and lbx-check leave TLS out):
# a running lbx watch whose reload brings the first ssl_get check moves
# its checks from lbx-check to lbx-check-tls, with no flap of the
# HTTP-checked server meanwhile (and refuses the reload, lbx-check going
# on, while lbx-check-tls cannot start); the TLS server is then put in,
# taken out when it stops and put back when it answers again.
. /e2e/watch-lib.sh
trap watch_cleanup EXIT

rs_net 10.1.0.21 10.1.0.22
http_vs='  - address: 10.0.0.1
    port: 80
    forwarding: nat
    real_servers:
      - address: 10.1.0.21
        port: 80
        checks: [{type: http_get, urls: [{path: /health}], delay_loop: 1s, retry: 0, delay_before_retry: 1s, connect_timeout: 1s}]'
model m.yaml <<Y
version: 1
virtual_servers:
$http_vs
Y
http_rules='-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.21:80 -m -w 1'
tls_rules='-A -t 10.0.0.2:443 -s wlc
-a -t 10.0.0.2:443 -r 10.1.0.22:443 -m -w 1'

# tls_start: HTTPS on 10.1.0.22:443 (webserve -tls, self-signed).
tls_start() {
	ip netns exec rs webserve -tls 10.1.0.22:443 "$WWW" </dev/null >/dev/null 2>&1 &
	echo $! >tls.pid
	wait_until 5 "the TLS server listens" ip netns exec rs bash -c 'exec 3<>/dev/tcp/10.1.0.22/443'
}
tls_stop() {
	kill "$(cat tls.pid)"
	wait "$(cat tls.pid)" 2>/dev/null || true
}

rs_start 10.1.0.21
watch_start m.yaml --checker process
plain=$(child_of "$LBX_PID" lbx-check)
[[ -n $plain ]] || fail "lbx watch has no lbx-check child"
[[ -z $(child_of "$LBX_PID" lbx-check-tls) ]] || fail "lbx-check-tls runs for a model without ssl_get"
wait_until 10 "10.1.0.21 in" kernel_is "$http_rules"

tls_start
model m.yaml <<Y
version: 1
virtual_servers:
$http_vs
  - address: 10.0.0.2
    port: 443
    forwarding: nat
    real_servers:
      - address: 10.1.0.22
        port: 443
        checks: [{type: ssl_get, urls: [{path: /health}], delay_loop: 1s, retry: 0, delay_before_retry: 1s, connect_timeout: 1s}]
Y
# lbx-check-tls gone from under the daemon: the reload is refused with
# the error, and lbx-check is started again on the old checks.
mv /usr/local/bin/lbx-check-tls /tmp/lbx-check-tls.away
kill -HUP "$LBX_PID"
refused() { grep -q 'reload refused.*lbx-check-tls' lbx.log; }
wait_until 10 "the reload without lbx-check-tls refused" refused
mv /tmp/lbx-check-tls.away /usr/local/bin/lbx-check-tls
plain=$(child_of "$LBX_PID" lbx-check)
[[ -n $plain ]] || fail "no lbx-check after the refused move: $(tail -n 20 lbx.log)"
kernel_is "$http_rules" || expect_kernel <<<"$http_rules"

kill -HUP "$LBX_PID"
# The move: the HTTP-checked server stays in all along.
t0=$EPOCHREALTIME
tlschild=
while le "$(since "$t0")" 10; do
	kernel_is "$http_rules" || kernel_is "$http_rules
$tls_rules" || expect_kernel <<<"$http_rules"
	tlschild=$(child_of "$LBX_PID" lbx-check-tls)
	[[ -n $tlschild ]] && break
	sleep 0.05
done
[[ -n $tlschild ]] || fail "no lbx-check-tls within 10s of the reload: $(tail -n 20 lbx.log)"
note "lbx-check-tls is pid $tlschild after $(since "$t0")s"
grep -q 'moved to the checker process with TLS' lbx.log || fail "no 'moved to the checker process with TLS' in lbx.log"
wait_until 5 "lbx-check $plain ended" ended "$plain"
wait_until 10 "10.1.0.22 in by its ssl_get check" kernel_is "$http_rules
$tls_rules"

tls_stop
wait_until 10 "the TLS server stopped -> 10.1.0.22 out" kernel_is "$http_rules
-A -t 10.0.0.2:443 -s wlc"
tls_start
wait_until 10 "the TLS server back -> 10.1.0.22 in" kernel_is "$http_rules
$tls_rules"

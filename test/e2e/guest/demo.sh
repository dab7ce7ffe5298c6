#!/bin/bash
# The demo-mode entry of the e2e VM (/e2e/main): lbx's main job on a real
# IPVS kernel, narrated. Every line meant for the reader starts with @@DEMO
# (make demo shows only those).
set -uo pipefail
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
modprobe ip_vs
mkdir -p /tmp/demo && cd /tmp/demo
say() { echo "@@DEMO"; echo "@@DEMO ## $*"; }
show() { # show CMD...: print the command like a shell, then its output
	echo "@@DEMO \$ $*"
	"$@" 2>&1 | sed 's/^/@@DEMO /'
	local rc=${PIPESTATUS[0]}
	((rc == 0)) || echo "@@DEMO (exit code $rc)"
}

say "A throwaway VM running Debian's $(uname -r) kernel, with IPVS. Nothing here touches your machine."
ip link add dummy0 type dummy && ip link set dummy0 up
cat >lb.yaml <<'Y'
version: 1
addresses:
  - {address: 192.0.2.80/24, interface: dummy0, label: "dummy0:web"}
virtual_servers:
  - name: web
    address: 192.0.2.80
    port: 80
    scheduler: wlc
    forwarding: dr
    persistence: {timeout: 300s, granularity: 24}
    real_servers:
      - {address: 10.0.1.11, weight: 3}
      - {address: 10.0.1.12, weight: 3}
      - {address: 10.0.1.13, weight: 1}
  - name: dns
    address: 192.0.2.80
    port: 53
    protocol: udp
    scheduler: rr
    forwarding: nat
    real_servers:
      - {address: 10.0.2.21}
      - {address: 10.0.2.22}
Y
say "The model: one VIP on dummy0, a web service (direct routing) and a DNS service (NAT)."
show cat lb.yaml
say "1. plan: what lbx would change. The kernel is empty, so everything is to add."
show lbx plan -f lb.yaml
say "2. apply: make exactly those changes."
show lbx apply -f lb.yaml --auto-approve
say "The kernel's own view (ipvsadm, not lbx):"
show ipvsadm -Ln
show ip -4 -o addr show dev dummy0
say "3. plan again: the kernel matches the model."
show lbx plan -f lb.yaml --detailed-exitcode
say "4. Someone edits the load balancer by hand: a weight changed, a real server deleted."
show ipvsadm -e -t 192.0.2.80:80 -r 10.0.1.11:80 -g -w 10
show ipvsadm -d -u 192.0.2.80:53 -r 10.0.2.22:53
say "5. plan shows the drift, one line per object:"
show lbx plan -f lb.yaml
say "6. apply repairs exactly that (2 kernel writes):"
show lbx apply -f lb.yaml --auto-approve
show ipvsadm -Ln
say "7. export: the live state as a model (to start from an existing box)."
show lbx export
say "End of the demo. Next: README.md, and test/e2e/scenarios for every other case (drain, ownership, stale plans, locks...)."

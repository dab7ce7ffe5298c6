# e2e: before-ipvs
# On a kernel where IPVS is not available, lbx plan fails with ONE clear
# line. How: this scenario runs before the runner loads ip_vs, and hides the
# ipvs modules from modprobe (moby/ipvs runs "modprobe ip_vs" itself and the
# kernel would autoload it for the netlink family), so the kernel is truly
# without IPVS, as on the development host. The modules are put back after.
[[ ! -e /proc/net/ip_vs ]] || fail "ip_vs already loaded: cannot test"
mdir=/lib/modules/$(uname -r)/kernel/net/netfilter/ipvs
mv "$mdir" /tmp/ipvs-hidden
trap 'mv /tmp/ipvs-hidden "$mdir"' EXIT
model m.yaml <<'Y'
version: 1
virtual_servers:
  - {address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.5}]}
Y
# one_line_error FILE: lbx plan -f FILE fails with one line naming IPVS.
one_line_error() {
	run lbx plan -f "$1"
	[[ ! -e /proc/net/ip_vs ]] || fail "ip_vs got loaded anyway: the test is not honest"
	expect_rc 1 "no IPVS is an error ($1)"
	lines=$(grep -c . <<<"$ERR_OUT" || true)
	((lines == 1)) || fail "stderr has $lines lines, want exactly one"
	grep -qiE 'ipvs|ip_vs' <<<"$ERR_OUT" || fail "the error does not mention IPVS/ip_vs"
}
one_line_error m.yaml
# A model that names only IPVS sysctls needs IPVS as much: the same line.
model s.yaml <<'Y'
version: 1
ipvs:
  sysctls: {sloppy_tcp: true}
Y
one_line_error s.yaml

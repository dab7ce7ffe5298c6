#!/usr/bin/env bash
# vm.sh boots the throwaway IPVS VM once and streams its serial console to
# stdout. The host is not touched: everything happens inside the guest.
#
#   test/e2e/vm.sh test [SCENARIO...]   run scenarios (default: all), print
#                                       "@@SCENARIO name PASS|FAIL secs" each
#   test/e2e/vm.sh bench                the 2,000 x 5 benchmark
#   test/e2e/vm.sh bench-watch          500 (then 5,000) HTTP-checked real servers, lbx
#                                       watch next to keepalived's checker
#   test/e2e/vm.sh demo                 the newcomer walk-through
#
# Environment: LBX_BIN (a prebuilt static lbx, with lbx-check, its checker
# process, next to it, and lbx-check-tls and lbx-bgp when built; default:
# build them all),
# LBX_E2E_TIMEOUT (seconds for the whole boot, default 900),
# LBX_E2E_ASSETS (asset cache dir), LBX_E2E_SMP (guest CPUs, default 2),
# LBX_GUEST_NAME=value (set as NAME=value in the guest's /e2e/main, e.g.
# LBX_GUEST_DUR=20 LBX_GUEST_ROUNDS=1 for a short bench-watch).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mode=${1:?usage: vm.sh test|bench|bench-watch|demo [SCENARIO...]}
shift

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "vm: qemu-system-x86_64 missing: run scripts/deps.sh as root (make deps), or apt-get install qemu-system-x86" >&2
	exit 1
fi

assets=$("$here/assets.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

lbx=${LBX_BIN:-}
if [[ -z "$lbx" ]]; then
	lbx=$work/lbx
	(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$work/" ./cmd/lbx ./cmd/lbx-check ./cmd/lbx-check-tls ./cmd/lbx-bgp)
fi
# relisten (test/e2e/relisten): bench-watch raises busybox httpd's accept
# backlog with it. webserve (test/e2e/webserve): bench-watch's real servers. holdconn (test/e2e/holdconn): bgp-ecmp-survival's
# long-lived connections. vrrpparity (test/wildconf/vrrpparity):
# parity-wild-vrrp's comparison with keepalived's dump.
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$work/" ./test/e2e/relisten ./test/e2e/webserve ./test/e2e/holdconn ./test/wildconf/vrrpparity)
lbxcheck=$(dirname "$lbx")/lbx-check
[[ -x "$lbxcheck" ]] || { echo "vm: $lbxcheck missing (build it next to $lbx: go build -o DIR/ ./cmd/lbx ./cmd/lbx-check)" >&2; exit 1; }

# The per-run overlay: a second cpio archive the kernel unpacks over the
# base one (concatenated initramfs; both gzip: the kernel refused a plain
# cpio after a gzip member).
ov=$work/ov
mkdir -p "$ov/e2e/scenarios" "$ov/e2e/examples" "$ov/usr/local/bin"
cp "$lbx" "$ov/usr/local/bin/lbx"
cp "$lbxcheck" "$ov/usr/local/bin/lbx-check"
cp "$work/relisten" "$work/webserve" "$work/holdconn" "$work/vrrpparity" "$ov/usr/local/bin/"
# lbx-check-tls (the checker for a model with ssl_get checks) and lbx-bgp
# (lbx watch's BGP speaker) when built next to lbx.
for b in lbx-check-tls lbx-bgp; do
	[[ ! -x $(dirname "$lbx")/$b ]] || cp "$(dirname "$lbx")/$b" "$ov/usr/local/bin/$b"
done
cp "$here"/guest/lib.sh "$here"/guest/watch-lib.sh "$ov/e2e/"
cp "$here"/scenarios/*.sh "$ov/e2e/scenarios/"
cp "$repo"/examples/*.yaml "$ov/e2e/examples/" 2>/dev/null || true
# The wild keepalived.conf corpus (test/wildconf) for parity-wild and
# parity-wild-vrrp: the files keepalived accepts that declare virtual
# servers, or VRRP with lvs_sync_daemon, at /e2e/wild.
mkdir -p "$ov/e2e/wild"
(cd "$repo" && go run ./test/wildconf/stage "$ov/e2e/wild")
case $mode in
test) cp "$here/guest/run-scenarios.sh" "$ov/e2e/main" ;;
bench) cp "$here/guest/bench.sh" "$ov/e2e/main" ;;
bench-watch) cp "$here/guest/bench-watch.sh" "$ov/e2e/main" ;;
demo) cp "$here/guest/demo.sh" "$ov/e2e/main" ;;
*) echo "vm: unknown mode $mode (test, bench, bench-watch, demo)" >&2; exit 1 ;;
esac
chmod 755 "$ov/e2e/main"
printf '%s\n' "$@" >"$ov/e2e/selected"
for v in ${!LBX_GUEST_@}; do printf 'export %s=%q\n' "${v#LBX_GUEST_}" "${!v}"; done >"$ov/e2e/env"
(cd "$ov" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$work/overlay.cpio.gz"
cat "$assets/base.cpio.gz" "$work/overlay.cpio.gz" >"$work/initrd"

exec 3>&1
timeout --foreground -k 5 "${LBX_E2E_TIMEOUT:-900}" qemu-system-x86_64 \
	-accel tcg -m 1024 -smp "${LBX_E2E_SMP:-2}" \
	-nodefaults -display none -serial stdio -monitor none -no-reboot -net none \
	-kernel "$assets/vmlinuz" -initrd "$work/initrd" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init" </dev/null | sed -u 's/\r$//'

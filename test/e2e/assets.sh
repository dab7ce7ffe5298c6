#!/usr/bin/env bash
# assets.sh prepares what the e2e VM boots: a Debian cloud kernel that ships
# IPVS as modules, and a base initramfs (busybox, the needed modules, bash,
# iproute2's ip, ipvsadm and its save/restore scripts, keepalived, bird2
# and their shared libraries, and /init). Everything is cached under
# test/e2e/.assets/; a second run with the same inputs does nothing.
#
#   test/e2e/assets.sh            # prepare (idempotent), print the asset dir
#   LBX_E2E_ASSETS=DIR ...        # cache somewhere else
#
# Needs root only to apt-get install missing tools; downloading the kernel
# package needs apt (apt-get download works as any user).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${LBX_E2E_ASSETS:-$here/.assets}
mkdir -p "$out"

log() { echo "assets: $*" >&2; }

# The kernel package: the real linux-image-*-cloud-amd64 that the
# metapackage depends on (it carries ip_vs and every scheduler as modules).
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [[ -z "$kpkg" ]]; then
	echo "assets: cannot resolve linux-image-cloud-amd64 (is apt configured? try apt-get update)" >&2
	exit 1
fi
kver=${kpkg#linux-image-}

# Cache key: the kernel version and the inputs of the base image. Host
# binaries are part of it through their own checksums.
bins=(/usr/bin/bash /usr/sbin/ip /usr/sbin/ipvsadm /usr/sbin/ipvsadm-save /usr/sbin/ipvsadm-restore /usr/sbin/keepalived /usr/sbin/bird /usr/sbin/birdc /bin/busybox)
for b in "${bins[@]}"; do
	if [[ ! -x $b ]]; then
		echo "assets: $b missing (apt-get install bash iproute2 ipvsadm keepalived bird2 busybox-static)" >&2
		exit 1
	fi
done
key=$( {
	echo "$kpkg"
	cat "$here/assets.sh" "$here/guest/init"
	sha256sum "${bins[@]}"
} | sha256sum | cut -d' ' -f1)

if [[ -f $out/stamp && $(cat "$out/stamp") == "$key" && -f $out/vmlinuz && -f $out/base.cpio.gz ]]; then
	echo "$out"
	exit 0
fi

log "building VM assets for $kpkg in $out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Kernel and modules.
deb=$(ls "$out"/"$kpkg"_*.deb 2>/dev/null | head -n1 || true)
if [[ -z "$deb" ]]; then
	(cd "$out" && apt-get download "$kpkg" >&2)
	deb=$(ls "$out"/"$kpkg"_*.deb | head -n1)
fi
dpkg -x "$deb" "$work/k"
cp "$work/k/boot/vmlinuz-$kver" "$out/vmlinuz"
busybox depmod -b "$work/k" "$kver"
mods=$work/k/lib/modules/$kver

# 2. The root tree.
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,proc,sys,dev,tmp,run,etc,var/lib,root,e2e}
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do
	case $a in
	busybox) ;;
	*) [[ -e $root/bin/$a ]] || ln -s busybox "$root/bin/$a" ;;
	esac
done
# The kernel runs /sbin/modprobe to autoload modules (genetlink families).
ln -sf ../bin/busybox "$root/sbin/modprobe"

# Real binaries where busybox's applets fall short (no netns in its ip, no
# arrays in its sh), with their libraries. They shadow the applets in /bin.
copy_bin() {
	local src=$1 dst=$2
	rm -f "$root$dst"
	cp -L "$src" "$root$dst"
	ldd "$src" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -Ln "$lib" "$root$lib" 2>/dev/null || true
	done
}
copy_bin /usr/bin/bash /bin/bash
copy_bin /usr/sbin/ip /bin/ip
copy_bin /usr/sbin/ipvsadm /sbin/ipvsadm
copy_bin /usr/sbin/keepalived /sbin/keepalived
# bird2: the ECMP router of bgp-ecmp-survival.
copy_bin /usr/sbin/bird /sbin/bird
copy_bin /usr/sbin/birdc /sbin/birdc
cp /usr/sbin/ipvsadm-save /usr/sbin/ipvsadm-restore "$root/sbin/"
ln -sf ../../bin/bash "$root/usr/bin/bash"
ln -sf ../../bin/env "$root/usr/bin/env"
echo "root:x:0:0:root:/root:/bin/bash" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
echo "127.0.0.1 localhost" >"$root/etc/hosts"

# Modules: what the scenarios load, with their dependencies from modules.dep.
want=(
	netfilter/ipvs/'ip_vs*' drivers/net/dummy drivers/net/veth drivers/net/macvlan
	net/bridge/bridge net/ipv4/ipip net/ipv6/ip6_tunnel net/ipv6/sit net/sctp/sctp
	net/sched/sch_netem net/8021q/8021q net/ipv4/udp_tunnel net/ipv6/ip6_udp_tunnel
	net/netfilter/xt_mark net/netfilter/nf_tables net/netfilter/nfnetlink
	# autoloaded on a real system when a program opens NETLINK_XFRM (as
	# vishvananda/netlink.NewHandle() does)
	net/xfrm/xfrm_user
)
: >"$work/list"
for w in "${want[@]}"; do
	(cd "$mods" && find kernel -path "*/$w.ko*") >>"$work/list"
done
# Transitive closure through modules.dep.
sort -u -o "$work/list" "$work/list"
while :; do
	n=$(wc -l <"$work/list")
	awk -F': ?' 'NR==FNR{want[$1]=1; next} ($1 in want){n=split($2,d," "); for(i=1;i<=n;i++) print d[i]}' \
		"$work/list" "$mods/modules.dep" >>"$work/list"
	sort -u -o "$work/list" "$work/list"
	[[ $(wc -l <"$work/list") == "$n" ]] && break
done
mkdir -p "$root/lib/modules/$kver"
(cd "$mods" && cp --parents $(cat "$work/list") modules.builtin modules.order modules.builtin.modinfo "$root/lib/modules/$kver/")
busybox depmod -b "$root" "$kver"
log "$(wc -l <"$work/list") modules"

cp "$here/guest/init" "$root/init"
chmod 755 "$root/init"

(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 >"$out/base.cpio.gz.tmp")
mv "$out/base.cpio.gz.tmp" "$out/base.cpio.gz"
echo "$kver" >"$out/kernel-version"
echo "$key" >"$out/stamp"
log "done: $(du -h "$out/base.cpio.gz" | cut -f1) initramfs, kernel $kver"
echo "$out"

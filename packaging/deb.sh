#!/bin/sh
# deb.sh builds dist/lbx_VERSION_ARCH.deb (make deb) with dpkg-deb from a
# staging tree that `make install DESTDIR=... PREFIX=/usr` fills, plus
# what only the package has: /etc/lbx/lbx.yaml (a sample model, checked
# with the lbx just built), /etc/default/lbx, the examples, the copyright
# and changelog, and DEBIAN/ (control, conffiles, md5sums, maintainer
# scripts from packaging/deb/). Prints the .deb's path on stdout.
#
#   LBX_VERSION    upstream version (default: packaging/version.sh)
#   DEB_MAINTAINER Maintainer: field and changelog signature
set -eu
cd "$(dirname "$0")/.."
umask 022

pkg=packaging/deb
upstream=$(packaging/version.sh)
version="$upstream-1"
arch=$(dpkg --print-architecture)
maintainer=${DEB_MAINTAINER:-lbx developers <lbx-dev@users.noreply.github.com>}
: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root

# Debian's paths where they differ from make install's defaults for
# PREFIX=/usr: bookworm's units are in /lib (no /usr-merged paths in
# packages yet), zsh reads vendor completions from its own directory.
# Binaries are stripped by Go's linker (-s -w), as dh_strip would.
${MAKE:-make} --no-print-directory install DESTDIR="$root" PREFIX=/usr LBX_VERSION="$upstream" GO_LDFLAGS="-s -w" \
	UNITDIR=/lib/systemd/system ZSHCOMPDIR=/usr/share/zsh/vendor-completions >&2

# The sample model must be one the packaged lbx accepts.
"$root/usr/bin/lbx" validate -f packaging/lbx.yaml >&2
install -D -m 0644 packaging/lbx.yaml "$root/etc/lbx/lbx.yaml"
install -D -m 0644 packaging/default "$root/etc/default/lbx"

doc=$root/usr/share/doc/lbx
install -d "$doc/examples"
install -m 0644 examples/*.yaml "$doc/examples/"
# Their modelines name the schema where the package puts it.
sed -i 's|\$schema=\.\./schema/lbx\.schema\.json|$schema=/usr/share/lbx/lbx.schema.json|' "$doc"/examples/*.yaml "$root/etc/lbx/lbx.yaml"
install -m 0644 $pkg/copyright "$doc/copyright"
# Every Go module linked in must be named in the copyright file.
missing=$(go version -m "$root/usr/bin/lbx" "$root/usr/bin/lbx-check" "$root/usr/bin/lbx-check-tls" "$root/usr/bin/lbx-bgp" "$root/usr/bin/lbx-vrrp" | awk '$1 == "dep" {print $2}' | sort -u |
	while read -r m; do grep -qF "$m/*" $pkg/copyright || echo "$m"; done)
if [ -n "$missing" ]; then
	echo "deb: $pkg/copyright does not name these linked Go modules (add them with their license):" $missing >&2
	exit 1
fi
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
{
	printf 'lbx (%s) unstable; urgency=medium\n\n' "$version"
	printf '  * Built by make deb from lbx commit %s.\n\n' "$commit"
	printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.Debian.gz"
if [ -f $pkg/lintian-overrides ]; then
	install -D -m 0644 $pkg/lintian-overrides "$root/usr/share/lintian/overrides/lbx"
fi

install -d "$root/DEBIAN"
for s in postinst prerm postrm; do
	install -m 0755 $pkg/$s "$root/DEBIAN/$s"
done
(cd "$root" && find etc -type f | sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"
(cd "$root" && find usr lib -type f | LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@SIZE@|$size|" \
	$pkg/control.in >"$root/DEBIAN/control"

mkdir -p dist
out=dist/lbx_${version}_$arch.deb
dpkg-deb --root-owner-group --build "$root" "$out" >&2
echo "$out"

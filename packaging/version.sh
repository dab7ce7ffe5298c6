#!/bin/sh
# version.sh prints lbx's version in a form Debian accepts (and that sorts
# right): a tag v1.2.3 gives 1.2.3, four commits after it 1.2.3+git4.gabc1234,
# no tag at all 0.0.0+git20250101.abc1234 (the last commit's date, UTC),
# no git at all 0.0.0. LBX_VERSION overrides it.
set -eu
cd "$(dirname "$0")/.."
if [ -n "${LBX_VERSION:-}" ]; then
	echo "$LBX_VERSION"
	exit 0
fi
if d=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
	# v1.2.3 | v1.2.3-4-gabc1234; a tag's own '-' (v1.2.3-rc1) becomes '~'
	# so that the release candidate sorts before the release.
	echo "$d" | sed -E 's/^v//; s/-([0-9]+)-(g[0-9a-f]+)$/+git\1.\2/; s/-/~/g'
elif sha=$(git rev-parse --short=7 HEAD 2>/dev/null); then
	echo "0.0.0+git$(TZ=UTC git log -1 --date=format-local:%Y%m%d --format=%cd).$sha"
else
	echo 0.0.0
fi

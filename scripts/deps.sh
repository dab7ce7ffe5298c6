#!/usr/bin/env bash
# deps.sh installs what `make demo` and `make test` need on Debian 12 (the
# Makefile's `deps` target, and .ci/run, call it). Idempotent: when
# everything is there it only checks (dpkg-query) and returns at once.
#
#   scripts/deps.sh              # as root: apt-get what is missing
#   LBX_NO_DEPS=1 make test      # skip this step (tests whose tool is
#                                # missing then skip, or fail under CI=true)
#
# Go is not a Debian package here: Go 1.26 in /usr/local/go, on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "deps: $*" >&2; }

if [[ -n ${LBX_NO_DEPS:-} ]]; then
	log "LBX_NO_DEPS set: not checking"
	exit 0
fi

# Keep in step with the tools the tests, test/e2e/*.sh and test/fresh run.
pkgs=(
	git make ca-certificates # build (go build stamps the git revision)
	# the VM tier and `make demo`: qemu (TCG) boots Debian's cloud kernel
	# with an initramfs of busybox and the host's ip, ipvsadm, keepalived
	qemu-system-x86 busybox-static iproute2 ipvsadm keepalived cpio gzip kmod
	# namespace tests: keepalived is the VRRP peer, nft partitions it
	nftables iputils-ping procps util-linux
	strace                    # apply: the owner record's directory is fsynced
	python3                   # script security tests use it as an interpreter
	systemd systemd-container # test/systemd boots systemd under systemd-nspawn
	dpkg-dev fakeroot lintian # the Debian package and its lintian check
	groff-base                # the man pages render without a warning
	prometheus                # promtool checks and tests the alert rules
	nodejs npm                # ajv validates the JSON Schema (test/schema)
	debootstrap               # make fresh: a fresh Debian 12 container
	bird2                     # test/bgp: the router the directors peer with
	frr                       # test/bgp: the second router (bgpd + zebra)
	gobgpd                    # make bench-bgp: keepalived + notify + gobgp, the classic pattern
	ansible-core              # test/ansible: the lbx_model module under ansible-playbook
)

missing=()
# (dpkg-query fails when any package is unknown: only its output counts.)
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${pkgs[@]}" 2>/dev/null | awk '$2 == "ii" {print $1}' || true)
for p in "${pkgs[@]}"; do
	grep -qx "$p" <<<"$installed" && continue
	# NodeSource's nodejs bundles npm (and conflicts with Debian's npm).
	[[ $p == npm ]] && command -v npm >/dev/null && continue
	missing+=("$p")
done

# test/e2e/assets.sh fetches the kernel package with apt-get download: it
# needs apt's package lists, which a fresh machine does not have yet.
need_lists=
if [[ ! -f test/e2e/.assets/stamp ]] && ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
	need_lists=yes
fi

if ((${#missing[@]})) || [[ -n $need_lists ]]; then
	if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
		log "missing Debian packages: ${missing[*]:-none}${need_lists:+ (and the apt package lists)}"
		log "run as root: apt-get update${missing[*]:+ && apt-get install -y --no-install-recommends ${missing[*]}}"
		log "(or set LBX_NO_DEPS=1 to go on without them: tests whose tool is missing skip)"
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	log "apt-get update"
	apt-get update -qq
	if ((${#missing[@]})); then
		# The packages' own services (prometheus, keepalived, bird, frr) are not
		# started: the tests run their own copies.
		if [[ ! -e /usr/sbin/policy-rc.d ]]; then
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
			chmod 755 /usr/sbin/policy-rc.d
			trap 'rm -f /usr/sbin/policy-rc.d' EXIT
		fi
		log "installing ${missing[*]}"
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
		# Nor do they start at the next boot: prometheus would listen on
		# :9090 of a test machine for nothing (keepalived's unit needs a
		# config it does not have).
		# Only the ones installed now: a machine's own keepalived stays
		# as its operator set it.
		for p in prometheus keepalived bird frr gobgpd; do
			[[ " ${missing[*]} " == *" $p "* && -e /lib/systemd/system/$p.service ]] || continue
			deb-systemd-helper disable "$p.service" >/dev/null 2>&1 || true
		done
	fi
fi

if ! command -v go >/dev/null; then
	if [[ -x /usr/local/go/bin/go ]]; then
		log "go is not on PATH: export PATH=/usr/local/go/bin:\$PATH"
	else
		log "Go 1.26 missing: install it in /usr/local/go (https://go.dev/doc/install) and put /usr/local/go/bin on PATH"
	fi
	exit 1
fi

# The JSON Schema test's npm packages (ajv), pinned by the lockfile;
# node_modules/.package-lock.json is npm's record of the last install.
schema=test/schema
if [[ -f $schema/package.json && -f $schema/package-lock.json ]]; then
	done_=$schema/node_modules/.package-lock.json
	if [[ ! -f $done_ || $schema/package-lock.json -nt $done_ || $schema/package.json -nt $done_ ]]; then
		log "npm ci in $schema"
		(cd "$schema" && npm ci --no-audit --no-fund --loglevel=error >&2)
	fi
fi

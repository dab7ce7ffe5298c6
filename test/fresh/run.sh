#!/usr/bin/env bash
# run.sh (make fresh) is the newcomer's proof: the README's two commands,
# `make demo` then `make test` (CI=true: a skip is a failure), on a clean
# clone of the repository's committed HEAD in a fresh Debian 12 container
# (debootstrap --variant=minbase, systemd-nspawn). Nothing is installed in
# it beforehand but make: the commands install what they need themselves.
#
#   test/fresh/run.sh                 # demo and test (15 min on 2 cores)
#   FRESH_STEPS=demo test/fresh/run.sh
#
# Carried in from the host as a machine of this kind has them: Go at
# /usr/local/go (read-only), the local CA certificates
# (/usr/local/share/ca-certificates: an HTTPS proxy may sign the Go proxy's
# and npm's certificates) and the host's Debian apt sources. The minbase
# image is cached in test/fresh/.cache (built once); every run starts from
# a pristine copy of it (in $TMPDIR, default /var/tmp), removed at the end.
# Logs: test/fresh/.cache/logs/.
# Prints "fresh: demo PASS|FAIL, test PASS|FAIL"; exit 1 on any FAIL.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=$here/.cache
steps=${FRESH_STEPS:-demo test}

log() { echo "fresh: $*" >&2; }

for tool in debootstrap systemd-nspawn git; do
	command -v $tool >/dev/null || { log "$tool missing: run scripts/deps.sh as root"; exit 1; }
done
[[ $(id -u) == 0 ]] || { log "needs root (debootstrap, systemd-nspawn)"; exit 1; }
[[ -x /usr/local/go/bin/go ]] || { log "Go missing at /usr/local/go (the container gets it from there)"; exit 1; }
for s in $steps; do
	[[ $s == demo || $s == test ]] || { log "unknown step $s in FRESH_STEPS (demo, test)"; exit 1; }
done

# The Debian mirror the host uses (deb822 .sources or one-line .list).
mirror=$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
	awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}
	     /^deb / && / bookworm / {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}')
mirror=${mirror:-http://deb.debian.org/debian}

# 1. The base image, once: minbase plus make (the README's commands are
# make commands; everything else is theirs to install).
base=$cache/bookworm-minbase
if [[ ! -f $base/.complete ]]; then
	log "debootstrap bookworm from $mirror into $base (once)"
	rm -rf "$base" "$base.tmp"
	mkdir -p "$cache"
	debootstrap --variant=minbase --include=make bookworm "$base.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$cache/debootstrap.log" >&2; log "debootstrap failed (log: $cache/debootstrap.log)"; exit 1; }
	touch "$base.tmp/.complete"
	mv "$base.tmp" "$base"
fi

# 2. A pristine copy, removed at exit with anything still running in it;
# outside the repository, whose fmt-check would find the copy's Go files.
run=$(mktemp -d "${TMPDIR:-/var/tmp}/lbx-fresh.XXXXXX")
root=$run/root
pid=
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp -a "$base" "$root"
rm -f "$root/.complete"

if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
	mkdir -p "$root/usr/local/share/ca-certificates"
	cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi
if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
	cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
	rm -f "$root/etc/apt/sources.list"
fi
# debootstrap leaves the package lists of its download: a fresh machine
# (a cloud image, say) has none, and apt-get install fails until an update.
rm -rf "$root"/var/lib/apt/lists/*

# 3. A clean clone: committed HEAD only, nothing of the working tree.
git clone -q "$repo" "$root/root/lbx"
head=$(git -C "$root/root/lbx" log -1 --format='%h %s' | cut -c1-72)
log "clean clone of $head"

# 4. The README's commands, each in its own nspawn session on the same tree.
# nspawn's seccomp filter blocks pidfd_getfd (SYSTEMD_SECCOMP=0); the
# namespace tests set sysctls in their namespaces (/proc/sys writable); no
# private network: apt, the Go proxy and npm are reached through the host's.
mkdir -p "$cache/logs"
declare -A result
for step in $steps; do
	case $step in
	demo) cmd="make demo" ;;
	test) cmd="CI=true make test" ;;
	esac
	steplog=$cache/logs/$step.log
	log "$step: $cmd (log: $steplog)"
	start=$SECONDS
	SYSTEMD_SECCOMP=0 SYSTEMD_NSPAWN_API_VFS_WRITABLE=1 systemd-nspawn --quiet --register=no --keep-unit --as-pid2 \
		--console=pipe --capability=all --machine="lbx-fresh-$$" -D "$root" \
		--bind-ro=/usr/local/go --chdir=/root/lbx \
		--setenv=PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--setenv=NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
		-- /bin/bash -c "$cmd" </dev/null >"$steplog" 2>&1 &
	pid=$!
	rc=0
	wait "$pid" || rc=$?
	pid=
	secs=$((SECONDS - start))
	if [[ $rc == 0 ]]; then
		result[$step]=PASS
	else
		result[$step]=FAIL
		tail -n 30 "$steplog" | sed "s/^/fresh: $step| /" >&2
	fi
	log "$step ${result[$step]} (exit $rc) in $((secs / 60))m$((secs % 60))s"
done

summary=
for step in $steps; do summary+="${summary:+, }$step ${result[$step]}"; done
echo "fresh: $summary"
[[ $summary != *FAIL* ]]

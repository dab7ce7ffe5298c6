# lbx: build, test (unit + namespace + real-kernel VM tier), bench, demo, fuzz.
# Everything runs as root on Debian 12; `make deps` (scripts/deps.sh) installs
# the tools, and `make demo` and `make test` run it first.
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 10s

.PHONY: all deps fresh build test vet fmt-check unit test-ns test-nspawn test-ansible test-wildconf test-faults test-bgp e2e bench bench-go bench-vm bench-vrrp bench-watch bench-bgp demo fuzz man completions install uninstall deb clean

all: build

# Installs what demo and test need (apt-get, as root; a quick check when
# everything is there). LBX_NO_DEPS=1 skips it.
deps:
	@scripts/deps.sh

# The newcomer's proof: `make demo` and `make test` on a clean clone of HEAD
# in a fresh Debian 12 container (debootstrap + systemd-nspawn). Long (15 min
# on 2 cores); FRESH_STEPS=demo runs only the demo. Not part of `make test`.
fresh: deps
	test/fresh/run.sh

# Static binary: it also runs unchanged inside the test VM.
# lbx-check is lbx watch's checker process (lbx-check-tls the same with
# TLS, for a model with ssl_get checks), lbx-bgp its BGP speaker
# (GoBGP, run only for a model with bgp:), lbx-vrrp lbx watch for a model
# of VRRP alone (leaner: no model loader, planner or IPVS); they live next
# to lbx. All get
# the hash of every Go source (SOURCE_HASH): lbx watch refuses an lbx-check
# of another build, and a dirty tree has no revision that tells two apart.
# GO_LDFLAGS adds linker flags (make deb: -s -w, stripped).
SOURCE_HASH = $(shell find . \( -name .git -o -name .cache -o -path ./test/e2e/.assets -o -name node_modules \) -prune -o \( -name '*.go' -o -name go.mod -o -name go.sum \) -type f -print | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X github.com/lbx-dev/lbx/internal/buildinfo.sourceHash=$(SOURCE_HASH) -X main.version=$(LBX_VERSION) $(GO_LDFLAGS)" -o bin/ ./cmd/lbx ./cmd/lbx-check ./cmd/lbx-check-tls ./cmd/lbx-bgp ./cmd/lbx-vrrp

fmt-check:
	@out=$$(find . \( -name .git -o -name .cache -o -path ./test/e2e/.assets -o -name node_modules \) -prune -o -name '*.go' -type f -print | xargs gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# Tests by privilege (docs/design.md). unit: every package but the
# root-only suites under test/; it passes as a normal user, and a package whose root-only
# tests skipped says so in one line. As root those tests run too.
UNIT_PKGS = $(shell $(GO) list $(PKGS) | grep -v -e '/test/')
unit:
	$(GO) test -count=1 $(UNIT_PKGS)

# The namespace suites (root): the kernel's routes (test/kernelns), lbx's
# deletes keeping secondary addresses (test/addrns), lbx watch in
# namespaces (but TestFaults: test-faults), VRRP against keepalived 2.2.7.
test-ns:
	$(GO) test -count=1 -skip '^TestFaults$$' ./test/kernelns ./test/addrns ./test/watchns ./test/vrrpinterop

# The container suites (root, systemd-nspawn): lbx.service under systemd,
# the .deb installed, upgraded and purged.
test-nspawn:
	$(GO) test -count=1 ./test/systemd ./test/deb

# The lbx.lbx.lbx_model module (contrib/ansible) under Debian's
# ansible-playbook, against namespaces on this host.
test-ansible:
	$(GO) test -count=1 -run '^TestAnsible' ./test/ansible

# keepalived.conf files from the wild (test/wildconf, docs/corpus.md):
# keepalived 2.2.7's own verdicts in namespaces, and lbx convert on each.
test-wildconf:
	$(GO) test -count=1 -run '^(TestWild|TestParseDump|TestCompare)' ./test/wildconf ./test/wildconf/vrrpdump

# The fault-injection suite (docs/hardening.md): kill -9 of lbx apply and
# of lbx watch during a reload (LBX_FAULT_POINTS each, default 50), full
# and read-only state directories, hung scripts, socket floods, each
# followed by the invariants. Prints "faults: tried=N invariants_held=N
# ..."; the whole log when it fails. Root, namespaces on this host.
test-faults:
	@log=$$(mktemp); $(GO) test -count=1 -timeout 20m -v -run '^TestFaults$$' ./test/watchns >$$log 2>&1; rc=$$?; \
	if [ $$rc -ne 0 ]; then cat $$log; else grep -E '^(faults:|ok|FAIL)|^--- ' $$log; fi; rm -f $$log; exit $$rc

# BGP scale-out (docs/bgp.md): bird2 as the router in a namespace, three
# directors running lbx watch (ECMP, hold-downs, reload, SIGTERM, kill -9);
# frr (bgpd + zebra) as the router, with graceful restart; the kernel
# announcer's routes.
test-bgp:
	$(GO) test -count=1 -timeout 10m -v -run '^(TestBGPScaleOut|TestFRRRouter|TestKernelAnnouncer)$$' ./test/bgp

# The real-kernel tier: one qemu boot, every scenario a subtest, a summary
# line "VM tier: ...". Select scenarios with LBX_E2E_SCENARIOS='drift-* cold-*'.
e2e:
	$(GO) test -count=1 -timeout 40m -v -run '^(TestVM|TestParse)$$' ./test/e2e

test: deps
	@$(MAKE) --no-print-directory fmt-check vet unit test-ns test-nspawn test-ansible test-wildconf test-faults test-bgp e2e

bench: bench-go bench-vm bench-vrrp bench-watch bench-bgp

# The Go benchmarks of the packages; the suites under test/ have their own
# targets below (each with the runs its ratios need).
bench-go:
	$(GO) test -run '^$$' -bench . $(UNIT_PKGS)

# VRRP failover time and peak RSS, lbx next to keepalived 2.2.7, in
# namespaces on this host (root).
bench-vrrp:
	$(GO) test ./test/vrrpinterop/ -run '^$$' -bench . -benchtime 10x -timeout 40m

# BGP withdraw convergence (a director's VRRP condition failing to the
# route leaving bird2's kernel table), lbx watch next to keepalived + a
# notify script driving gobgpd, median of 10; lbx watch's peak RSS with and
# without BGP. Namespaces on this host (root); prints ratio= lines.
bench-bgp:
	$(GO) test ./test/bgp/ -run '^$$' -bench . -benchtime 10x -timeout 20m

# 2,000 and 20,000 services x 5 real servers in one VM boot, lbx next to
# ipvsadm (LBX_GUEST_SCALE=0: 2,000 only; the 20,000 part is most of the
# time). Fails when the guest did not finish (a wrong kernel state or more
# than one kernel write for one weight stops it); a missed target is printed
# as a FAIL line (a measurement, not a broken build).
bench-vm:
	@log=$$(mktemp); LBX_E2E_TIMEOUT=$${LBX_E2E_TIMEOUT:-2400} test/e2e/vm.sh bench | tee $$log | sed -un 's/^@@BENCH //p; /^bench:/p'; \
	grep -q '^bench: done' $$log; rc=$$?; rm -f $$log; exit $$rc

# 500 real servers HTTP-checked every second for 60 s in one VM boot: lbx
# watch next to keepalived's checker process (CPU, peak RSS, servers kept
# up), then 5,000 checked every 10 s (LBX_GUEST_SCALE_N=0 skips them).
# Fails when the guest did not finish; a missed target is printed as a
# FAIL line (like bench-vm's ratios, a measurement, not a broken build).
bench-watch:
	@log=$$(mktemp); LBX_E2E_TIMEOUT=$${LBX_E2E_TIMEOUT:-1800} test/e2e/vm.sh bench-watch | tee $$log | sed -un 's/^@@BENCH //p; /^bench-watch:/p'; \
	grep -q '^bench-watch: done' $$log; rc=$$?; rm -f $$log; exit $$rc

# The main job on a real IPVS kernel, in a throwaway VM (the host is untouched).
demo: deps
	@log=$$(mktemp); test/e2e/vm.sh demo | tee $$log | sed -un 's/^@@DEMO \{0,1\}//p'; \
	grep -q 'End of the demo' $$log; rc=$$?; rm -f $$log; exit $$rc

# Short runs of every Fuzz target (seeds stay in testdata/fuzz as tests).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# Install and package (docs/install.md). make install honours PREFIX and
# DESTDIR; make deb builds dist/lbx_*.deb with dpkg-deb from what
# `make install PREFIX=/usr DESTDIR=...` stages (packaging/deb.sh). Man
# pages and completions are build outputs under dist/.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
UNITDIR     ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
# The model's JSON Schema, for editors (yaml-language-server modelines).
SCHEMADIR   ?= $(PREFIX)/share/lbx
LBX_VERSION ?= $(shell packaging/version.sh)
# Dates in the man pages and the package: the last commit's, so that two
# builds of one commit are the same.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

# lbx(1) and a page per subcommand from the cobra commands, by a docs build
# of lbx (-tags lbxdocs, a temporary binary: the shipped one has no
# generator); lbx.yaml(5) from the model's Go types (internal/schema/gen);
# lbx-check(1), lbx-check-tls(1) (a .so of lbx-check(1)), lbx-bgp(1) and
# lbx-vrrp(1) are written by hand.
man:
	@set -e; rm -rf dist/man; mkdir -p dist/man; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	CGO_ENABLED=0 $(GO) build -trimpath -tags lbxdocs -ldflags "-X main.version=$(LBX_VERSION)" -o "$$tmp/lbx" ./cmd/lbx; \
	"$$tmp/lbx" gen-docs --man-dir dist/man >/dev/null
	cp packaging/lbx-check.1 packaging/lbx-check-tls.1 packaging/lbx-bgp.1 packaging/lbx-vrrp.1 dist/man/
	$(GO) run ./internal/schema/gen -man dist/man/lbx.yaml.5

completions: build
	@mkdir -p dist/completions
	bin/lbx completion bash >dist/completions/lbx
	bin/lbx completion zsh >dist/completions/_lbx
	bin/lbx completion fish >dist/completions/lbx.fish

# The unit names the installed binaries: examples/lbx.service (one source,
# run as is by test/systemd) with its header replaced and its paths set.
install: build man completions
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(SCHEMADIR)
	install -m 0755 bin/lbx bin/lbx-check bin/lbx-check-tls bin/lbx-bgp bin/lbx-vrrp $(DESTDIR)$(BINDIR)/
	install -m 0644 schema/lbx.schema.json $(DESTDIR)$(SCHEMADIR)/
	{ echo '# lbx.service: lbx watch under systemd, installed from lbx'"'"'s examples/lbx.service.'; \
	  echo '# Extra flags: LBX_OPTS in /etc/default/lbx. Other changes: systemctl edit lbx.'; echo; \
	  sed -e '1,/^$$/d' -e 's|/usr/local/bin/|$(BINDIR)/|g' examples/lbx.service; } >$(DESTDIR)$(UNITDIR)/lbx.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/lbx.service
	for f in dist/man/*.[15]; do gzip -9n <$$f >$(DESTDIR)$(MANDIR)/man$${f##*.}/$${f##*/}.gz; done
	install -m 0644 dist/completions/lbx $(DESTDIR)$(BASHCOMPDIR)/lbx
	install -m 0644 dist/completions/_lbx $(DESTDIR)$(ZSHCOMPDIR)/_lbx
	install -m 0644 dist/completions/lbx.fish $(DESTDIR)$(FISHCOMPDIR)/lbx.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/lbx $(DESTDIR)$(BINDIR)/lbx-check $(DESTDIR)$(BINDIR)/lbx-check-tls $(DESTDIR)$(BINDIR)/lbx-bgp $(DESTDIR)$(BINDIR)/lbx-vrrp \
		$(DESTDIR)$(UNITDIR)/lbx.service \
		$(DESTDIR)$(MANDIR)/man1/lbx.1.gz $(DESTDIR)$(MANDIR)/man1/lbx-*.1.gz $(DESTDIR)$(MANDIR)/man5/lbx.yaml.5.gz \
		$(DESTDIR)$(BASHCOMPDIR)/lbx $(DESTDIR)$(ZSHCOMPDIR)/_lbx $(DESTDIR)$(FISHCOMPDIR)/lbx.fish \
		$(DESTDIR)$(SCHEMADIR)/lbx.schema.json
	-rmdir $(DESTDIR)$(SCHEMADIR) 2>/dev/null

deb:
	@MAKE="$(MAKE)" LBX_VERSION="$(LBX_VERSION)" packaging/deb.sh

clean:
	rm -rf bin dist

# lbx: build, test (unit + namespace + real-kernel VM tier), bench, demo, fuzz.
# Everything runs as root on Debian 12; `make deps` (scripts/deps.sh) installs
# the tools, and `make demo` and `make test` run it first.
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 10s

.PHONY: all deps fresh build test vet fmt-check unit e2e bench bench-go bench-vm bench-vrrp bench-watch demo fuzz clean

all: build

# Installs what demo and test need (apt-get, as root; a quick check when
# everything is there). LBX_NO_DEPS=1 skips it.
deps:
	@scripts/deps.sh

# The newcomer's proof: `make demo` and `make test` on a clean clone of HEAD
# in a fresh Debian 12 container (debootstrap + systemd-nspawn). Long (about
# 40 min); FRESH_STEPS=demo runs only the demo. Not part of `make test`.
fresh:
	test/fresh/run.sh

# Static binary: it also runs unchanged inside the test VM.
# lbx-check is lbx watch's checker process; it lives next to lbx.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/lbx ./cmd/lbx-check

fmt-check:
	@out=$$(find . -name '*.go' -not -path './.cache/*' -not -path './.git/*' -not -path './test/e2e/.assets/*' | xargs gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# Unit tests and the root-only namespace tests (everything but the VM).
unit:
	$(GO) test -count=1 -skip '^TestVM$$' $(PKGS)

# The real-kernel tier: one qemu boot, every scenario a subtest, a summary
# line "VM tier: ...". Select scenarios with LBX_E2E_SCENARIOS='drift-* cold-*'.
e2e:
	$(GO) test -count=1 -timeout 40m -v -run '^TestVM$$' ./test/e2e

test: deps
	@$(MAKE) --no-print-directory fmt-check vet unit e2e

bench: bench-go bench-vm bench-vrrp bench-watch

bench-go:
	$(GO) test -run '^$$' -bench . $(PKGS)

# VRRP failover time and peak RSS, lbx next to keepalived 2.2.7, in
# namespaces on this host (root).
bench-vrrp:
	$(GO) test ./vrrpd/interop/ -run '^$$' -bench . -benchtime 10x -timeout 20m

# 2,000 services x 5 real servers in one VM boot, lbx next to ipvsadm.
# Fails when the guest did not finish or kernel_writes was not 1.
bench-vm:
	@log=$$(mktemp); test/e2e/vm.sh bench | tee $$log | sed -un 's/^@@BENCH //p; /^bench:/p'; \
	grep -q '^bench: done' $$log && ! grep -q '^@@BENCH FAIL' $$log; rc=$$?; rm -f $$log; exit $$rc

# 500 real servers HTTP-checked every second for 60 s in one VM boot: lbx
# watch next to keepalived's checker process (CPU, peak RSS, servers kept
# up). Fails when the guest did not finish; a missed target is printed as a
# FAIL line (like bench-vm's ratios, a measurement, not a broken build).
bench-watch:
	@log=$$(mktemp); test/e2e/vm.sh bench-watch | tee $$log | sed -un 's/^@@BENCH //p; /^bench-watch:/p'; \
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

clean:
	rm -rf bin

# autobootstrap — every target checks for the tools it uses, and only those (Node.js and npm present).
# A missing tool is installed with apt-get when run as root; otherwise the target stops and prints the
# exact command that installs it (scripts/need-tools.sh). README.md lists every change each target makes
# to the host.
SHELL := /bin/bash
# Debian keeps mkfs.xfs, losetup and nft in the sbin directories, which a normal user's PATH often lacks.
export PATH := $(PATH):/usr/local/sbin:/usr/sbin:/sbin
NEED := scripts/need-tools.sh
BUN := node_modules/.bin/bun
TSC := node_modules/.bin/tsc
BUILD_STAMP := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
SOURCES := $(shell find src proto -type f) package.json
TEST_TIMEOUT_MS := 120000

ARCHS := amd64 arm64
# Bun's cross-compile targets (fetched by bun from the npm registry): baseline x86-64 runs without AVX2.
BUN_TARGET_amd64 := bun-linux-x64-baseline
BUN_TARGET_arm64 := bun-linux-arm64
# Extension build outputs: binaries per architecture, Debian's libc6 packages, image roots, OCI archives.
XDIST := dist/linux
XBUILD := build
IMAGE_DIR := dist/image
# The extension's version: the build stamp normalised to a semantic version (scripts/extension/version.ts).
EXT_VERSION = $(shell $(BUN) scripts/extension/version.ts "$(BUILD_STAMP)")
# Where make image-push sends the images, e.g. IMAGE=ghcr.io/example/autobootstrap.
IMAGE ?=

.PHONY: all deps build lint test test-unit test-e2e test-extension test-oracle oracle demo clean rootfs image image-push bench-size bench version \
	seccomp-profile fuzz soak simulate bench-memory FORCE tools-unit tools-state tools-extension tools-extension-test tools-runc tools-bench

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Tool checks, one per use (phony: a removed tool is noticed on the next run).
# openssl verifies minted certificates in the unit tests.
tools-unit:
	@$(NEED) test openssl=openssl
# mkfs.xfs and losetup build the real STATE filesystems of the end-to-end tests; those tests run only as
# root (they skip otherwise), so only root needs the tools.
tools-state:
	@[ "$$(id -u)" != 0 ] || $(NEED) test mkfs.xfs=xfsprogs losetup=mount
# The extension image, all from Debian: umoci writes OCI layouts; dpkg-deb unpacks libc6.
tools-extension:
	@$(NEED) image umoci=umoci dpkg-deb=dpkg apt-get=apt
# qemu-user runs the arm64 build, and the amd64 build on a CPU without AVX2, in the extension tests.
tools-extension-test:
	@$(NEED) test qemu-aarch64=qemu-user qemu-x86_64=qemu-user
# make bench: a private network namespace with an nftables drop rule.
tools-bench:
	@$(NEED) bench nft=nftables ip=iproute2 unshare=util-linux

# runc (Debian's) runs the extension from its OCI runtime spec in test/extension/runc.test.ts.
tools-runc:
	@$(NEED) test runc=runc

# Everything the tests use (make demo needs none of it: only node_modules and the binary).
deps: node_modules/.installed tools-unit tools-state

dist/autobootstrap: node_modules/.installed $(SOURCES)
	@mkdir -p dist
	$(BUN) build --compile --minify-syntax --define 'AUTOBOOTSTRAP_BUILD="$(BUILD_STAMP)"' src/main.ts --outfile $@

build: dist/autobootstrap

# --- Talos system extension -------------------------------------------------------------------------

# Changes only when the version does (a commit, a dirty tree): binaries and manifest never keep a stale one.
$(XBUILD)/.version: FORCE | node_modules/.installed
	@mkdir -p $(@D)
	@v='$(EXT_VERSION)'; [ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" >$@
FORCE:

$(XDIST)-%/autobootstrap: node_modules/.installed $(SOURCES) $(XBUILD)/.version
	@mkdir -p $(@D)
	$(BUN) build --compile --minify-syntax --target=$(BUN_TARGET_$*) --define 'AUTOBOOTSTRAP_BUILD="$(BUILD_STAMP)"' src/main.ts --outfile $@

# glibc for each architecture from Debian's libc6 package of that architecture (the archive's current
# version, the same for both), never from whatever the build machine has installed.
# A foreign architecture must be known to dpkg for apt-get to download its libc6: as root this adds it
# (dpkg --add-architecture, a lasting host change listed in the README); otherwise it says how.
$(XBUILD)/debs/libc6_%.deb: | tools-extension
	@mkdir -p $(@D)
	@dpkg --print-foreign-architectures | grep -qx $* || [ "$$(dpkg --print-architecture)" = $* ] || \
	  { [ "$$(id -u)" = 0 ] && dpkg --add-architecture $* && apt-get update -qq; } || \
	  { echo "make image needs dpkg to know the $* architecture (to download Debian's libc6:$*); run:" >&2; \
	    echo "  sudo dpkg --add-architecture $* && sudo apt-get update" >&2; exit 1; }
	@apt-cache show libc6:$* >/dev/null 2>&1 || apt-get update -qq
	cd $(@D) && rm -f libc6_*_$*.deb && apt-get download -qq -o APT::Sandbox::User=root libc6:$* && \
	  mv libc6_*_$*.deb $(@F)

$(XBUILD)/.rootfs-%: $(XDIST)-%/autobootstrap $(XBUILD)/debs/libc6_%.deb extension/autobootstrap.yaml extension/manifest.yaml \
		scripts/extension/assemble-rootfs.sh | tools-extension
	scripts/extension/assemble-rootfs.sh $* $(XDIST)-$*/autobootstrap $(XBUILD)/debs/libc6_$*.deb "$(EXT_VERSION)" $(XBUILD)/extension/linux-$*
	@touch $@

# Keep the binaries and packages between runs (make would delete them as intermediates).
.PRECIOUS: $(XDIST)-%/autobootstrap $(XBUILD)/debs/libc6_%.deb

# Image roots (manifest.yaml + rootfs/) under build/extension/linux-<arch>/.
rootfs: $(foreach a,$(ARCHS),$(XBUILD)/.rootfs-$(a))

$(IMAGE_DIR)/autobootstrap-linux-%.oci.tar: $(XBUILD)/.rootfs-% scripts/extension/build-image.sh
	scripts/extension/build-image.sh $* $(XBUILD)/extension/linux-$* "$(EXT_VERSION)" $@

# One OCI image archive per architecture, built locally without a container engine or network.
image: $(foreach a,$(ARCHS),$(IMAGE_DIR)/autobootstrap-linux-$(a).oci.tar)

# Pushes both architectures under one multi-arch tag (needs buildah and a registry login; not run in CI):
#   make image-push IMAGE=ghcr.io/example/autobootstrap
image-push: image
	@[ -n "$(IMAGE)" ] || (echo 'set IMAGE, e.g. make image-push IMAGE=ghcr.io/example/autobootstrap' >&2; exit 2)
	scripts/extension/push-image.sh "$(IMAGE)" "$(EXT_VERSION)" $(foreach a,$(ARCHS),$(IMAGE_DIR)/autobootstrap-linux-$(a).oci.tar)

# The extension version (for the Containerfile's --build-arg VERSION).
version: node_modules/.installed
	@echo "$(EXT_VERSION)"

# Binary, rootfs and compressed layer sizes into BENCHMARKS.md.
bench-size: image
	$(BUN) scripts/extension/bench-size.ts

lint: node_modules/.installed
	$(TSC) --noEmit -p .

# The simulator serves Talos-generated machine configs (test/sim/generated-clusters.ts), hence `oracle`.
test-unit: node_modules/.installed tools-unit oracle
	$(BUN) test --timeout $(TEST_TIMEOUT_MS) ./test/unit/ ./test/sim/ ./test/fuzz/
	# Its own process: the simulation swaps out the real timers while a schedule runs. (bun test takes
	# path filters, so test/sim without the slash would take test/simulation in as well.)
	$(BUN) test --timeout $(TEST_TIMEOUT_MS) ./test/simulation/

test-e2e: node_modules/.installed tools-unit tools-state build oracle
	$(BUN) test --timeout $(TEST_TIMEOUT_MS) test/e2e

# The extension checks run on the real build outputs, so they build the image first.
test-extension: node_modules/.installed tools-state tools-extension-test tools-runc image oracle
	$(BUN) test --timeout $(TEST_TIMEOUT_MS) test/extension

# --- Talos's own Go code as the test oracle (test/oracle, see its README) ---------------------------------
# Needs Go >= ORACLE_GO_MIN (the go directive of Talos's pkg/machinery v1.14.1); modules come from the Go
# module proxy on the first build. Never part of the binary or the extension.
GO ?= go
ORACLE_GO_MIN := 1.26.5
ORACLE_DIR := $(XBUILD)/oracle
ORACLE := $(ORACLE_DIR)/oracle
ORACLE_CONFIGS := $(ORACLE_DIR)/configs/index.json
# The simulator's clusters: a cluster group each (test/sim/generated-clusters.ts); the tests use at most two.
SIM_CLUSTERS := 3
ORACLE_SIM_CLUSTERS := $(ORACLE_DIR)/sim-clusters/index.json

$(ORACLE): test/oracle/go.mod test/oracle/go.sum $(filter-out %_test.go,$(wildcard test/oracle/*.go))
	@command -v $(GO) >/dev/null || { echo "test/oracle needs Go >= $(ORACLE_GO_MIN) (Talos's pkg/machinery v1.14.1 requires it); no 'go' found" >&2; exit 1; }
	@v=$$(GOTOOLCHAIN=local $(GO) env GOVERSION); v=$${v#go}; \
	  [ "$$(printf '%s\n%s\n' '$(ORACLE_GO_MIN)' "$$v" | sort -V | head -n1)" = '$(ORACLE_GO_MIN)' ] || \
	  { echo "test/oracle needs Go >= $(ORACLE_GO_MIN) (Talos's pkg/machinery v1.14.1 requires it); this machine has Go $$v" >&2; exit 1; }
	@mkdir -p $(@D)
	cd test/oracle && GOTOOLCHAIN=local GOFLAGS=-mod=readonly $(GO) build -trimpath -o $(CURDIR)/$@ .

# Machine configs from Talos's own generator, one control plane and one worker per version contract.
$(ORACLE_CONFIGS): $(ORACLE)
	rm -rf $(ORACLE_DIR)/configs && $(ORACLE) gen $(ORACLE_DIR)/configs

# The clusters the simulator serves, generated once per build of the oracle (not per test run).
$(ORACLE_SIM_CLUSTERS): $(ORACLE)
	rm -rf $(ORACLE_DIR)/sim-clusters && $(ORACLE) sim-clusters $(ORACLE_DIR)/sim-clusters $(SIM_CLUSTERS)

oracle: $(ORACLE) $(ORACLE_CONFIGS) $(ORACLE_SIM_CLUSTERS)

test-oracle: node_modules/.installed build oracle
	$(BUN) test --timeout $(TEST_TIMEOUT_MS) test/oracle

test: lint test-unit test-e2e test-extension test-oracle

# Only Node's packages and the binary: the demo runs the simulator and the daemons on loopback, as any user.
# It uses Talos's own generated configs when `make oracle` (Go) has built them, the simulator's otherwise.
demo: build
	$(BUN) scripts/demo.ts

# Not part of test: needs root, creates a private network namespace, takes about 11 minutes and rewrites
# its section of BENCHMARKS.md. BENCH_QUICK=1 (about 3 minutes) writes build/bench/BENCHMARKS-quick.md instead.
bench: build tools-bench oracle
	$(BUN) bench/run.ts

# Regenerates containerd's default seccomp profile for the runc tests (needs Go and the Go module proxy; the
# output is committed, so the tests need neither).
seccomp-profile:
	cd test/extension/oci/seccomp-profile && go run . $$(cd ../../../.. && $(BUN) test/extension/oci/print-capabilities.ts) \
	  >../containerd-default-seccomp.json

# Property-based fuzzing (test/fuzz/README.md): 10000 cases per target (make test runs 300). Not part of
# test. A failure prints its replay command: FUZZ_SEED=<seed> FUZZ_PATH=<path> bun test test/fuzz/<file> -t <target>.
FUZZ_RUNS ?= 10000
fuzz: deps
	FUZZ_RUNS=$(FUZZ_RUNS) $(BUN) test --timeout 3600000 test/fuzz

# Soak (bench/soak/soak.ts): one daemon that never reaches quorum for 10000 rounds with client certificates
# renewed every 20 s; asserts flat RSS, fds, sockets and timers, one log line per renewal; writes its section
# of BENCHMARKS.md. Not part of test: needs root (a private network namespace), takes about 12 minutes.
soak: deps oracle
	$(BUN) bench/soak/soak.ts

# The agreement's deterministic simulation (test/simulation/README.md): 10,000 seeded schedules per
# variant run; SEEDS=, FIRST= and VARIANT= change it. One seed replays with its trace:
#   node_modules/.bin/bun test/simulation/run.ts --seed 1234
SEEDS ?= 10000
FIRST ?= 1
VARIANT ?= correct
simulate: deps
	$(BUN) test/simulation/run.ts --seeds $(SEEDS) --first $(FIRST) --variant $(VARIANT)

# Memory at rest (bench/memory/memory.ts): RSS of the idle runtime, of each dependency imported alone, of
# first uses (mTLS handshake, gRPC call), and of the daemon waiting for quorum on a /24 with 1, 5 and 10
# peers; writes its section of BENCHMARKS.md. Needs root (a private network namespace), about 4 minutes.
bench-memory: deps build oracle
	$(BUN) bench/memory/memory.ts

clean:
	rm -rf dist build .tmp

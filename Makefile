# autobootstrap — every target installs what it needs on a fresh machine (Node.js and npm present).
SHELL := /bin/bash
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

.PHONY: all deps build lint test test-unit test-e2e test-extension demo clean rootfs image image-push bench-size bench version seccomp-profile fuzz soak bench-memory FORCE

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# openssl verifies minted certificates in the unit tests; mkfs.xfs and losetup build the real STATE
# filesystems the end-to-end tests mount.
.tools-installed:
	@command -v openssl >/dev/null || (apt-get update -qq && apt-get install -y -qq openssl)
	@command -v mkfs.xfs >/dev/null || (apt-get update -qq && apt-get install -y -qq xfsprogs)
	@command -v losetup >/dev/null || (apt-get update -qq && apt-get install -y -qq mount)
	@touch $@

# The extension image tools, all from Debian: umoci writes OCI layouts; dpkg-deb unpacks libc6.
.extension-tools-installed:
	@command -v umoci >/dev/null || (apt-get update -qq && apt-get install -y -qq umoci)
	@command -v dpkg-deb >/dev/null
	@touch $@

# qemu-user runs the arm64 build, and the amd64 build on a CPU without AVX2, in the extension tests.
.extension-test-tools-installed:
	@command -v qemu-aarch64 >/dev/null && command -v qemu-x86_64 >/dev/null || \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends qemu-user)
	@touch $@

# runc (Debian's) runs the extension from its OCI runtime spec in test/extension/runc.test.ts.
.runc-installed:
	@command -v runc >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends runc)
	@touch $@

deps: node_modules/.installed .tools-installed

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
$(XBUILD)/debs/libc6_%.deb:
	@mkdir -p $(@D)
	@dpkg --print-foreign-architectures | grep -qx $* || [ "$$(dpkg --print-architecture)" = $* ] || \
	  dpkg --add-architecture $*
	@apt-cache show libc6:$* >/dev/null 2>&1 || apt-get update -qq
	cd $(@D) && rm -f libc6_*_$*.deb && apt-get download -qq -o APT::Sandbox::User=root libc6:$* && \
	  mv libc6_*_$*.deb $(@F)

$(XBUILD)/.rootfs-%: $(XDIST)-%/autobootstrap $(XBUILD)/debs/libc6_%.deb extension/autobootstrap.yaml extension/manifest.yaml \
		scripts/extension/assemble-rootfs.sh .extension-tools-installed
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

lint: deps
	$(TSC) --noEmit -p .

test-unit: deps
	$(BUN) test --timeout $(TEST_TIMEOUT_MS) test/unit test/sim test/fuzz

test-e2e: deps build
	$(BUN) test --timeout $(TEST_TIMEOUT_MS) test/e2e

# The extension checks run on the real build outputs, so they build the image first.
test-extension: deps image .extension-test-tools-installed .runc-installed
	$(BUN) test --timeout $(TEST_TIMEOUT_MS) test/extension

test: lint test-unit test-e2e test-extension

demo: deps build
	$(BUN) scripts/demo.ts

# Not part of test: needs root, creates a private network namespace, takes about 11 minutes (BENCH_QUICK=1: 3).
bench: deps build
	@command -v nft >/dev/null || (apt-get update -qq && apt-get install -y -qq nftables)
	@command -v ip >/dev/null || (apt-get update -qq && apt-get install -y -qq iproute2)
	@command -v unshare >/dev/null || (apt-get update -qq && apt-get install -y -qq util-linux)
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
soak: deps
	$(BUN) bench/soak/soak.ts

# Memory at rest (bench/memory/memory.ts): RSS of the idle runtime, of each dependency imported alone, of
# first uses (mTLS handshake, gRPC call), and of the daemon waiting for quorum on a /24 with 1, 5 and 10
# peers; writes its section of BENCHMARKS.md. Needs root (a private network namespace), about 4 minutes.
bench-memory: deps build
	$(BUN) bench/memory/memory.ts

clean:
	rm -rf dist build .tmp .tools-installed .extension-tools-installed .extension-test-tools-installed .runc-installed

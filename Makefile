# autobootstrap — every target installs what it needs on a fresh machine (Node.js and npm present).
SHELL := /bin/bash
BUN := node_modules/.bin/bun
TSC := node_modules/.bin/tsc
BUILD_STAMP := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
SOURCES := $(shell find src proto -type f) package.json
TEST_TIMEOUT_MS := 120000

.PHONY: all deps build lint test test-unit test-e2e demo bench clean

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# openssl verifies minted certificates in the unit tests.
.tools-installed:
	@command -v openssl >/dev/null || (apt-get update -qq && apt-get install -y -qq openssl)
	@touch $@

deps: node_modules/.installed .tools-installed

dist/autobootstrap: node_modules/.installed $(SOURCES)
	@mkdir -p dist
	$(BUN) build --compile --minify-syntax --define 'AUTOBOOTSTRAP_BUILD="$(BUILD_STAMP)"' src/main.ts --outfile $@

build: dist/autobootstrap

lint: deps
	$(TSC) --noEmit -p .

test-unit: deps
	$(BUN) test --timeout $(TEST_TIMEOUT_MS) test/unit test/sim

test-e2e: deps build
	$(BUN) test --timeout $(TEST_TIMEOUT_MS) test/e2e

test: lint test-unit test-e2e

demo: deps build
	$(BUN) scripts/demo.ts

# Not part of test: needs root, creates a private network namespace, takes about 11 minutes (BENCH_QUICK=1: 3).
bench: deps build
	@command -v nft >/dev/null || (apt-get update -qq && apt-get install -y -qq nftables)
	@command -v ip >/dev/null || (apt-get update -qq && apt-get install -y -qq iproute2)
	@command -v unshare >/dev/null || (apt-get update -qq && apt-get install -y -qq util-linux)
	$(BUN) bench/run.ts

clean:
	rm -rf dist .tmp .tools-installed

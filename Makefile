# Everything the project needs is installed from pyproject.toml into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install lint bench bench-anonymeter clean

demo: install  ## set everything up and run the end-to-end demo on the embedded store
	$(BIN)/pedigree demo

test: install  ## lint, then the whole test suite (PostgreSQL at 127.0.0.1:5432; under CI=true it must be there)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

install: $(VENV)/.installed

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
	rm -rf $(VENV) $(ANON_VENV) pedigree-demo .pytest_cache .ruff_cache .hypothesis

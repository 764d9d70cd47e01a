# Recoupe: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit install docs ui bench bench-analysis clean

## Create .venv and install the locked dependencies, then the package (editable).
install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

## Generate the demo scenario, ingest it, print example commands, then serve the API.
demo: $(STAMP)
	$(BIN)/recoupe demo --serve

## Lint, type-check and run the whole test suite.
test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

## Regenerate the CLI reference (docs/cli.md); a test fails when it is stale.
docs: $(STAMP)
	$(BIN)/python -m recoupe.docgen > docs/cli.md

## Rebuild the browser workspace (ui/ -> src/recoupe/api/static/app) from the npm lock file.
## The built bundle is committed, so `make demo` and `make test` need no Node.js.
ui:
	cd ui && npm ci --no-audit --no-fund && npm run build

## Ingest benchmark (1M and 10M call rows, and ftm map on 100k); see docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

## Analysis benchmark (search, graph, API under load at 100k, 1M and 10M calls).
bench-analysis: $(STAMP)
	$(BIN)/python benchmarks/analysis.py --scales 100k,1m,10m

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

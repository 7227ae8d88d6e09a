# shoplens — two commands on a fresh machine with Python 3.11 and make:
#   make demo   install, build a realistic demo store, import it, serve its dashboard (Ctrl-C stops)
#   make test   install, then lint, type-check, check the layering and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CUSTOMERS ?= 5000
HOME_DIR ?= shoplens-data
TEST_WORKERS ?= 2

.PHONY: install system-deps test-deps demo test lint typecheck layers pytest bench clean
# Debian packages the tests use: Chromium for the browser tests (e2e), pdftotext to read PDF reports, Pango and
# DejaVu fonts for WeasyPrint, Java for the local Spark session. Installed when missing and we are root.
SYSTEM_DEPS := chromium poppler-utils fonts-dejavu-core libpango-1.0-0 openjdk-17-jre-headless

$(BIN)/shoplens: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0  # the CPU build first, so nothing pulls a CUDA one
	$(BIN)/python -m pip install --quiet -e ".[dev,embeddings,spark]"
	touch $@

install: $(BIN)/shoplens

# axe-core (the accessibility checker the browser tests run on every page), from npm into the repository: the
# tests read it from this file and inject it into the page, so nothing is loaded from the network while they run.
AXE_VERSION := 4.11.0
AXE := .test-deps/node_modules/axe-core/axe.min.js

$(AXE):
	npm install --no-save --no-audit --no-fund --prefix .test-deps axe-core@$(AXE_VERSION)
	test -f $@

test-deps: $(AXE)

system-deps:
	@missing=$$(for p in $(SYSTEM_DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages (install them as root): $$missing" >&2; exit 1; fi; \
	fi

demo: install
	$(BIN)/shoplens --home $(HOME_DIR) demo --customers $(CUSTOMERS)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports

pytest: install test-deps
	$(BIN)/python -m pytest -p no:cacheprovider --durations=25 -n $(TEST_WORKERS) --dist loadfile

test: system-deps test-deps lint typecheck layers pytest

# Every benchmark, each against its baseline in the same run (about an hour on 2 cores; benchmarks/README.md):
# import (UCI file and 10 million generated lines, with peak memory), analytics at 1 million lines, the heavy
# analyses cold at 1 million lines, model fits against lifetimes when LIFETIMES_PYTHON names its interpreter,
# and the web app warm and right after an import.
bench: install
	$(BIN)/python benchmarks/import_bench.py --repeat 1
	$(BIN)/python benchmarks/metrics_bench.py --lines 1000000
	$(BIN)/python benchmarks/heavy_bench.py --lines 1000000 --cold --repeat 3
	$(BIN)/python benchmarks/models_bench.py
	$(BIN)/python benchmarks/web_bench.py --customers 5000 --after-import --warm
	$(BIN)/python benchmarks/web_bench.py

clean:
	rm -rf $(VENV) $(HOME_DIR) .test-deps .pytest_cache .mypy_cache .ruff_cache

# shoplens — two commands on a fresh machine with Python 3.11 and make:
#   make demo   install, build a realistic demo store, analyse it, serve the dashboard
#   make test   install, then lint, type-check, check the layering and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CUSTOMERS ?= 5000
HOME_DIR ?= shoplens-data

.PHONY: install demo test lint typecheck layers pytest bench clean

$(BIN)/shoplens: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0  # the CPU build first, so nothing pulls a CUDA one
	$(BIN)/python -m pip install --quiet -e ".[dev,embeddings,spark]"
	touch $@

install: $(BIN)/shoplens

demo: install
	$(BIN)/shoplens --home $(HOME_DIR) demo --customers $(CUSTOMERS)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports

pytest: install
	$(BIN)/python -m pytest -p no:cacheprovider

test: lint typecheck layers pytest

bench: install
	$(BIN)/python benchmarks/import_bench.py

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache .mypy_cache .ruff_cache

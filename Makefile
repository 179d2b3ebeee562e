.DEFAULT_GOAL := help
VENV ?= .venv
BIN := $(VENV)/bin/
PY := $(BIN)python
# Re-install when the project's dependencies change.
INSTALLED := $(VENV)/.installed

$(INSTALLED): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

help:  ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "%-12s %s\n", $$1, $$2}'
install: $(INSTALLED)  ## Create .venv and install the project with its dev tools
run: $(INSTALLED)  ## The whole service in one process, embedded storage under ./var
	$(BIN)jobstream serve
test: $(INSTALLED)  ## Every test, integration included (needs PostgreSQL on 127.0.0.1)
	$(PY) -m pytest
test-unit: $(INSTALLED)  ## Only the tests that need no server
	$(PY) -m pytest -m "not integration"
lint: $(INSTALLED)  ## ruff, formatting, import contracts
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(BIN)lint-imports
fmt: $(INSTALLED)  ## Format and autofix
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .
typecheck: $(INSTALLED)  ## mypy --strict
	$(PY) -m mypy
check: lint typecheck test  ## What CI runs
bench: $(INSTALLED)  ## API lifecycle benchmark (embedded and PostgreSQL)
	$(PY) bench/api_lifecycle.py
bench-pipeline: $(INSTALLED)  ## Jobs through relay, JetStream and workers (1 and 2), and embedded
	$(PY) bench/pipeline.py
bench-export: $(INSTALLED)  ## product-export of 1k, 10k and 50k products, rows/s and peak RSS
	$(PY) bench/export.py
.PHONY: help install run test test-unit lint fmt typecheck check bench bench-pipeline bench-export

.DEFAULT_GOAL := help
VENV ?= .venv
BIN := $(VENV)/bin/
PY := $(BIN)python
PYTHON ?= python3
# Every package at the version the lock files pin (`make lock` writes them from
# pyproject.toml): requirements.lock is the service's, requirements-dev.lock adds the
# dev tools. The project itself goes in editable and without dependencies, so nothing
# but the lock decides a version.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# Re-install when the project's dependencies or the pinned versions change.
INSTALLED := $(VENV)/.installed

$(INSTALLED): pyproject.toml $(LOCK) $(DEV_LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(DEV_LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@# Fails when pyproject.toml asks for what the lock lacks: run `make lock`.
	$(PY) -m pip check
	touch $(INSTALLED)

# `make lock` resolves pyproject.toml's ranges afresh in a throwaway venv: the service's
# dependencies alone first, then the dev tools constrained to those same versions, so
# the image (runtime lock only) and the dev venv never disagree on a shared package.
LOCK_VENV := $(VENV)-lock
LOCK_HEADER = \# Written by 'make lock' from pyproject.toml ($(shell $(PYTHON) -c 'import platform; print(platform.python_implementation(), platform.python_version(), platform.system())')); do not edit.

help:  ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "%-12s %s\n", $$1, $$2}'
install: $(INSTALLED)  ## Create .venv and install the project with its dev tools, as locked
lock:  ## Re-resolve pyproject.toml's dependencies into requirements.lock and requirements-dev.lock
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet .
	{ echo "$(LOCK_HEADER)"; echo "# The service's dependencies (deploy/Dockerfile installs these)."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude jobstream; } > $(LOCK).tmp
	$(LOCK_VENV)/bin/python -m pip install --quiet -c $(LOCK).tmp ".[dev]"
	{ echo "$(LOCK_HEADER)"; echo "# The dev tools, on top of the service's dependencies."; \
	  echo "-r $(LOCK)"; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude jobstream | grep -vxFf $(LOCK).tmp; } > $(DEV_LOCK).tmp
	@# A package from a local path or URL, or a local build (1.0+cpu), would not install
	@# on another machine: pip may see this machine's find-links (`pip config list`).
	! grep -nE ' @ |==[^ ]*\+' $(LOCK).tmp $(DEV_LOCK).tmp
	mv $(LOCK).tmp $(LOCK) && mv $(DEV_LOCK).tmp $(DEV_LOCK) && rm -rf $(LOCK_VENV)
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
	$(PY) -m mypy && $(PY) -m mypy bench  # bench: scripts, checked as files
check: lint typecheck test  ## What CI runs
bench: $(INSTALLED)  ## API lifecycle benchmark (embedded and PostgreSQL)
	$(PY) bench/api_lifecycle.py
bench-pipeline: $(INSTALLED)  ## Jobs through relay, JetStream and workers (1 and 2), and embedded
	$(PY) bench/pipeline.py
bench-export: $(INSTALLED)  ## product-export of 1k, 10k and 50k products, rows/s and peak RSS
	$(PY) bench/export.py
bench-import: $(INSTALLED)  ## product-import of 1k, 10k and 50k rows (updates, creates), rows/s and peak RSS
	$(PY) bench/import.py
.PHONY: help install lock run test test-unit lint fmt typecheck check bench bench-pipeline bench-export bench-import

# PagTracker: `make run` serves everything on http://$(HOST):$(PORT); `make test` runs the suite.
SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python

# The first Python >= 3.12 found: $PYTHON, python3.13/3.12 on the PATH, pyenv's versions, python3.
PYTHON ?= $(shell for c in python3.13 python3.12 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    command -v $$c; break; fi; done)

.PHONY: run test lint bench venv venv-test migrate clean help

help:
	@echo "make run | test | lint | bench | clean"

$(VENV)/.installed: requirements.txt
	@if [ -z "$(PYTHON)" ]; then echo "No Python >= 3.12 found: install python3.12 or set PYTHON=" >&2; exit 1; fi
	@if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $(PYTHON)"; "$(PYTHON)" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

# Tests, lint and benchmarks also need what requirements-test.txt adds (Playwright among it).
$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	@touch $@

venv: $(VENV)/.installed
venv-test: $(VENV)/.installed-test

migrate: venv
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py demo_setup
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

test: venv-test
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: venv-test
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3* .test-db.sqlite3* .pytest_cache .mypy_cache .ruff_cache

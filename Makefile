# memwall: two commands do everything on a fresh machine with Python >= 3.11:
#   make book   create .venv, install, execute the chapters, build the site into _build/html
#   make test   the same environment and build, then lint and the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: env book test lint bench clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "memwall needs Python >= 3.11 (found: $$($(PYTHON) --version)); set PYTHON=python3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

env: $(STAMP)

book: env
	$(PY) tools/build_book.py

lint: env
	$(VENV)/bin/ruff check memwall tests tools bench

test: env
	bash tools/ensure_chromium.sh
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory book
	$(PY) -m pytest

bench: env
	$(PY) bench/bench_build.py
	@if [ -f bench/bench_cost.py ]; then $(PY) bench/bench_cost.py; fi

clean:
	rm -rf _build

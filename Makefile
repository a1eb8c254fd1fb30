# memwall: two commands do everything on a fresh machine with Python >= 3.11:
#   make book   create .venv, install, execute the chapters, build the site into _build/html
#   make test   the same environment and builds (both editions), then lint and the whole test suite
#   make book EDITION=student   the book without solutions, into _build/student/html
#   make handout CHAPTER=hardware_trends [SOLUTIONS=0|1]   a chapter as a PDF (no CHAPTER: the whole book)
#   make test-fast   unit tests only (no book build, browser, notebooks, wheel or tests marked slow); about 20 s on 2 cores
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: env book handout handouts test test-fast lint bench clean chapter

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "memwall needs Python >= 3.11 (found: $$($(PYTHON) --version)); set PYTHON=python3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

env: $(STAMP)

# EDITION=student builds the book without solutions into _build/student/html (default: instructor, _build/html).
EDITION ?= instructor

book: env
	$(PY) tools/build_book.py --edition $(EDITION)

# Handouts: a chapter (CHAPTER=hardware_trends), or the whole book without CHAPTER, printed to PDF by headless
# Chromium from the built site of the right edition (SOLUTIONS=0: the student edition, built first if needed;
# SOLUTIONS=1: the instructor edition, with solutions) into _build/handouts/<chapter|book>[-solutions].pdf.
CHAPTER ?=
SOLUTIONS ?= 0

handout: env
	@case "$(SOLUTIONS)" in 0|1) ;; *) echo "SOLUTIONS must be 0 (student edition) or 1 (with solutions), not '$(SOLUTIONS)'"; exit 2;; esac
	@$(PY) tools/handout.py $(if $(CHAPTER),--chapter "$(CHAPTER)") --solutions $(SOLUTIONS) --check
	bash tools/ensure_chromium.sh
	$(MAKE) --no-print-directory book EDITION=$(if $(filter 1,$(SOLUTIONS)),instructor,student)
	$(PY) tools/handout.py $(if $(CHAPTER),--chapter $(CHAPTER)) --solutions $(SOLUTIONS)

handouts:
	$(MAKE) --no-print-directory handout CHAPTER= SOLUTIONS=$(SOLUTIONS)

lint: env
	$(VENV)/bin/ruff check memwall tests tools bench

test: env
	bash tools/ensure_chromium.sh
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory book
	$(MAKE) --no-print-directory book EDITION=student
	$(PY) -m pytest

# Unit tests only: skips what needs a built site (_build/html), Chromium, notebook execution or a wheel build,
# and the unit tests marked slow (subprocesses, measurements, the offline bundle; `make test` runs them all).
FAST_TESTS := -m "not notebooks and not browser and not wheel and not slow" --ignore=tests/test_site.py \
	--deselect tests/test_links.py::test_internal_links_and_anchors_resolve \
	--deselect tests/test_links.py::test_every_notebook_chapter_offers_download_colab_and_binder \
	--deselect tests/test_exercises.py::test_built_exercises_render_with_collapsed_solutions_and_outputs

# PYTHONDONTWRITEBYTECODE (set in some containers) would make every run recompile the package and re-rewrite
# the tests' asserts (about 3 s); the caches go to the ignored __pycache__/ folders.
test-fast: env
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q $(FAST_TESTS)

# A new chapter from chapters/_template.md, added to _toc.yml (part PART, default "Labs"), then built.
chapter: env
	@test -n "$(NAME)" || { echo 'usage: make chapter NAME=<short_name> [PART="Labs"] [TITLE="..."]'; exit 2; }
	$(PY) tools/new_chapter.py "$(NAME)" --part "$(or $(PART),Labs)" $(if $(TITLE),--title "$(TITLE)")
	$(MAKE) --no-print-directory book

bench: env
	$(PY) bench/bench_build.py
	@if [ -f bench/bench_cost.py ]; then $(PY) bench/bench_cost.py; fi

clean:
	rm -rf _build

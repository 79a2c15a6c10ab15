# Each target creates .venv on first use, so a fresh machine needs only Python 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean graphviz mpi browser docs docs-serve tutorial

# Debian's Graphviz binaries render graph drawings; installed where we can
# (root with apt), otherwise drawings fall back to .dot text and their tests skip.
graphviz:
	@command -v dot >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -qq graphviz >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq graphviz >/dev/null 2>&1; }; }; } || \
	  echo "note: Graphviz binaries not installed; rendering falls back to .dot text"

# Debian's headless Chromium and its WebDriver, for the browser tests of the page that steps
# through the sweeps (tests/test_explain_html.py); where they cannot be installed, those skip.
browser:
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && \
	      apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; }; }; } || \
	  echo "note: Chromium not installed; the browser tests skip"

# Open MPI (Debian's packages) for chainrule.distributed, and mpi4py for it once MPI is
# there; where either cannot be installed, the tests that run mpirun skip.
mpi: | $(BIN)/python
	@command -v mpirun >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && \
	      apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null 2>&1; }; }; } || \
	  echo "note: Open MPI not installed; the distributed tests skip"
	@command -v mpirun >/dev/null 2>&1 && { $(BIN)/python -c "import mpi4py" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet "mpi4py>=3.1" >/dev/null 2>&1 || \
	  echo "note: mpi4py not installed; the distributed tests skip"; } || true

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the demo's tour uses the optional extras (symbolic, drawing, data for the training run)
$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[data,plot,viz,sympy]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[docs,notebooks,plot,viz,data,sympy]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $@

demo: $(VENV)/.installed-base graphviz
	$(BIN)/chainrule demo

test: $(VENV)/.installed-test graphviz mpi browser
	$(BIN)/ruff check .
	HYPOTHESIS_PROFILE=ci OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	  $(BIN)/python -m pytest src tests

# The site (mkdocs-material): built offline into site/, strictly (a broken link, a missing
# page or API reference fails). Tutorials are executed while rendering, so the site shows
# their outputs; `make test` builds it too, without executing them again (they run as
# notebooks in tests/test_tutorials.py).
# (NO_MKDOCS_2_WARNING: mkdocs-material's banner about its own end of life, not about this site)
docs: $(VENV)/.installed-docs
	CHAINRULE_DOCS_EXECUTE=true MPLBACKEND=module://matplotlib_inline.backend_inline \
	  NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

docs-serve: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# Run a tutorial as a notebook (N=01 by default; N=02 for the second, ...); the executed
# notebook, outputs and figures included, lands in build/tutorials/ (not tracked). The
# kernel's chatter goes to a log beside it, shown when the run fails.
N ?= 01
tutorial: $(VENV)/.installed-docs
	@mkdir -p build/tutorials
	@ls docs/tutorials/$(N)_*.py >/dev/null 2>&1 || \
	  { echo "no tutorial N=$(N): docs/tutorials/ has $$(ls docs/tutorials/ | \
	    sed -n 's/^\([0-9][0-9]\)_.*\.py$$/\1/p' | tr '\n' ' ')"; exit 2; }
	@for f in docs/tutorials/$(N)_*.py; do \
	  out=build/tutorials/$$(basename $${f%.py}).ipynb; \
	  $(BIN)/jupytext --to notebook --execute --run-path build/tutorials --output $$out $$f \
	    >$${out%.ipynb}.log 2>&1 && echo "ran $$f; open the executed notebook $$out" || \
	  { cat $${out%.ipynb}.log; echo "tutorial $$f failed (log: $${out%.ipynb}.log)"; \
	    exit 1; }; done

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

bench: $(VENV)/.installed-bench
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_engine.py
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_steps.py

clean:
	rm -rf $(VENV) build site *.egg-info src/*.egg-info

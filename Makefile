# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# PyTorch: the one place its version is pinned (pyproject's `torch` extra asks only for a range it
# satisfies; docs/install.md names this version; a test reads all three). TORCH_BUILD=cpu (the
# default) installs the CPU-only build from PyTorch's own wheel index, a few hundred MB; where that
# index cannot be reached in TORCH_PROBE_SECONDS, or with TORCH_BUILD=default, pip takes PyPI's
# default build (on Linux the CUDA one, several GB of NVIDIA libraries), saying so in one line.
TORCH_VERSION       := 2.13.0
TORCH_BUILD         ?= cpu
TORCH_INDEX         ?= https://download.pytorch.org/whl/cpu
TORCH_PROBE_SECONDS ?= 5

.PHONY: check test test-fast lint format demo docs bench notebooks graphviz chromium clean torch

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@$(MAKE) --no-print-directory torch PY=$(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# PyTorch alone, as TORCH_BUILD says: `make torch TORCH_BUILD=default` for PyPI's build (CUDA on Linux).
torch:
	@if [ "$(TORCH_BUILD)" = cpu ] && $(PY) -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]))" '$(TORCH_INDEX)/torch/' '$(TORCH_PROBE_SECONDS)' >/dev/null 2>&1; then \
	  echo "installing PyTorch $(TORCH_VERSION), CPU-only build, from $(TORCH_INDEX)"; \
	  $(PY) -m pip install --quiet --index-url '$(TORCH_INDEX)' 'torch==$(TORCH_VERSION)'; \
	else \
	  if [ "$(TORCH_BUILD)" = cpu ]; then echo "PyTorch's CPU wheel index ($(TORCH_INDEX)) is not reachable: installing torch==$(TORCH_VERSION) with plain pip, PyPI's default build (on Linux the CUDA one; see docs/install.md)"; \
	  else echo "installing torch==$(TORCH_VERSION) with plain pip (TORCH_BUILD=$(TORCH_BUILD)): PyPI's default build"; fi; \
	  $(PY) -m pip install --quiet 'torch==$(TORCH_VERSION)'; \
	fi

# `make check`: lint and the core tests in a venv of their own with no extra (no NumPy, PyTorch,
# matplotlib, browser or apt): what a contributor runs first, in about two minutes. Tests that need
# an extra are skipped and name it; browser, slow and network tests are left out.
CORE_VENV  := .venv-core
CORE_STAMP := $(CORE_VENV)/.installed

$(CORE_STAMP): pyproject.toml
	@test -x $(CORE_VENV)/bin/python || $(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CORE_VENV)/bin/python -m pip install --quiet -e '.[test]'
	@touch $(CORE_STAMP)

check: $(CORE_STAMP)
	$(CORE_VENV)/bin/ruff check .
	$(CORE_VENV)/bin/ruff format --check .
	$(CORE_VENV)/bin/python -m pytest -m "not slow and not browser and not network"

# Graphviz's `dot` program renders the pictures; installed from Debian's packages only when missing.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Graphviz (dot) from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else \
	    echo "error: Graphviz's 'dot' is not on PATH and cannot be installed here (no apt-get as root); install the 'graphviz' system package" >&2; exit 1; \
	  fi; }
	@command -v dot >/dev/null 2>&1 || { echo "error: installing Graphviz did not put 'dot' on PATH" >&2; exit 1; }

# Debian's Chromium, for the tests that open the HTML pages in a real browser (Playwright drives it;
# never `playwright install`, which downloads a browser of its own); installed only when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Chromium from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "error: 'chromium' is not on PATH and cannot be installed here (no apt-get as root); install the 'chromium' system package" >&2; exit 1; \
	  fi; }
	@command -v chromium >/dev/null 2>&1 || { echo "error: installing Chromium did not put 'chromium' on PATH" >&2; exit 1; }

test: $(STAMP) graphviz chromium
	$(PY) -m pytest

# Everything but the tests marked slow (notebooks, throwaway venvs): the quick loop while editing.
test-fast: $(STAMP) graphviz chromium
	$(PY) -m pytest -m "not slow"

# ruff, configured in pyproject.toml: lint and formatting, checked (CI runs this) ...
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# ... and applied.
format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The main job: train an MLP on moons (with a training movie), then draw one expression's backward pass.
demo: $(STAMP) graphviz
	$(VENV)/bin/chainrule train --out out --movie out/training.html
	$(VENV)/bin/chainrule graph "tanh(w*x + b)" w=-0.5 x=2 b=0.1 --local-grads -o out/graph.svg --step-through out/graph_backprop.html
	@echo "demo wrote: out/loss.png out/decision_boundary.png out/model.json out/neuron_backprop.html out/training.html out/graph.svg out/graph_backprop.html"

# The documentation site, from docs/*.md, the notebooks' committed outputs and the docstrings; warnings are errors.
docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

# Re-execute every notebook in place: this is how the committed outputs are made.
notebooks: $(STAMP) graphviz
	$(PY) notebooks/execute.py

# Benchmarks against micrograd 0.1.0 (never part of `make test`); writes bench/RESULTS.md.
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(CORE_VENV) build *.egg-info docs/_build docs/notebooks

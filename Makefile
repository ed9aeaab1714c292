# Two commands do everything on a fresh machine:
#   make demo   set up, then release, solve and grade the example class
#   make test   set up, then run the whole test suite (what CI runs)
# Set TF=gpu to install the CUDA build of TensorFlow instead of the CPU one.
#   make lock   refresh requirements.lock (newest versions within pyproject.toml's ranges)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
TF     ?= cpu
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(TF)
LOCK   := requirements.lock
PYTEST_ARGS ?= --durations=30

.PHONY: setup sandbox browser data demo test test-fast lint lock clean

setup: $(STAMP) sandbox browser data

# The CPU install is the locked one (exact versions, hashes checked): what CI and a fresh clone get.
# The CUDA build is not in the lock (it pulls gigabytes of NVIDIA wheels): it resolves within pyproject's ranges.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
ifeq ($(TF),cpu)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
else
	$(BIN)/python -m pip install --quiet -e ".[$(TF),dev,cluster,jax]"
endif
	@rm -f $(VENV)/.installed-*
	@touch $@

# Newest versions within pyproject.toml's ranges, with hashes; commit the result after `make test` passes.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra cpu --extra dev --extra cluster --extra jax --extra torch --generate-hashes \
	  --python-version 3.11 --custom-compile-command "make lock" --upgrade -o $(LOCK)

# Grading runs each submission inside bubblewrap when it works here; install it when we may
# (root, apt available). Without it, grading falls back to resource limits and says so.
sandbox:
	@if ! command -v bwrap >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian package bubblewrap"; \
	  apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1; } || \
	  echo "  (could not install it; grading will use resource limits only)"; \
	fi

# The browser tests (tests/test_browser.py) drive JupyterLab in Debian's headless Chromium through
# its chromedriver; install both when we may (root, apt available). Without them those tests skip,
# except in CI (CI=true), where they fail.
browser:
	@if ! command -v chromedriver >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian packages chromium and chromium-driver"; \
	  apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; } || \
	  echo "  (could not install them; the browser tests will skip outside CI)"; \
	fi

# Fashion-MNIST comes from Debian's dataset-fashion-mnist and 06's word list from Debian's wamerican
# (/usr/share/dict/american-english) when we may install them (root, apt available), offline from
# the package cache when it holds them; otherwise `dlcourse data` looks in the other places.
DEBIAN_DATA := /usr/share/datasets/fashion-mnist:dataset-fashion-mnist /usr/share/dict/american-english:wamerican
data: $(STAMP)
	@for pair in $(DEBIAN_DATA); do path=$${pair%%:*}; package=$${pair##*:}; \
	  if [ ! -e $$path ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian package $$package"; \
	    apt-get install -y -qq $$package >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $$package >/dev/null 2>&1; } || \
	    echo "  (could not install it; looking elsewhere)"; \
	  fi; \
	done
	$(BIN)/dlcourse data

demo: setup
	$(BIN)/dlcourse demo

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Pure logic only (no kernels, no TensorFlow, no real data): the quick check while editing.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not kernel and not tensorflow and not data" $(PYTEST_ARGS)

# Part of `make test`: ruff's linter and formatter (config in pyproject.toml) over the package and tests.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf build gradebook.db

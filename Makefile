# Two commands do everything on a fresh machine:
#   make demo   set up, then release, solve and grade the example class
#   make test   set up, then run the whole test suite (what CI runs)
# Set TF=gpu to install the CUDA build of TensorFlow instead of the CPU one.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
TF     ?= cpu
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(TF)
PYTEST_ARGS ?= --durations=15

.PHONY: setup sandbox data demo test test-fast clean

setup: $(STAMP) sandbox data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(TF),dev]"
	@rm -f $(VENV)/.installed-*
	@touch $@

# Grading runs each submission inside bubblewrap when it works here; install it when we may
# (root, apt available). Without it, grading falls back to resource limits and says so.
sandbox:
	@if ! command -v bwrap >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian package bubblewrap"; \
	  apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1; } || \
	  echo "  (could not install it; grading will use resource limits only)"; \
	fi

# Fashion-MNIST comes from Debian's dataset-fashion-mnist when we may install it
# (root, apt available); otherwise `dlcourse data` looks in the other places.
data: $(STAMP)
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian package dataset-fashion-mnist"; \
	  apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
	  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; } || \
	  echo "  (could not install it; looking elsewhere)"; \
	fi
	$(BIN)/dlcourse data

demo: setup
	$(BIN)/dlcourse demo

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf build gradebook.db

from __future__ import annotations

import fnmatch
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def pytest_report_header(config):
    return f"course root: {ROOT}"


# Modules whose every test runs notebook code that imports Keras (and with it TensorFlow).
TENSORFLOW_MODULES = ["test_mutations.py", "test_hidden_draws_*.py"]


def pytest_collection_modifyitems(config, items):
    """Mark what imports TensorFlow (``make test-fast`` skips those): the modules above and every test
    that asks for the ``keras`` fixture."""
    for item in items:
        in_tf_module = any(fnmatch.fnmatch(item.path.name, pattern) for pattern in TENSORFLOW_MODULES)
        if in_tf_module or "keras" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.tensorflow)


@pytest.fixture(autouse=True)
def _tensorflow_only_where_marked(request):
    """Fail a test that imports TensorFlow in this process without being marked for it, so the
    markers ``make test-fast`` relies on stay true."""
    before = "tensorflow" in sys.modules
    yield
    marked = any(request.node.get_closest_marker(m) for m in ("tensorflow", "kernel", "slow", "data"))
    if not before and "tensorflow" in sys.modules and not marked:
        pytest.fail(f"{request.node.nodeid} imported TensorFlow: mark it @pytest.mark.tensorflow", pytrace=False)

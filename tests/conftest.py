from __future__ import annotations

import os
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


def pytest_collection_modifyitems(config, items):
    """A test that asks for the ``keras`` fixture imports TensorFlow: mark it so (``make test-fast`` skips those)."""
    for item in items:
        if "keras" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.tensorflow)

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


@pytest.fixture(scope="session")
def example_class(tmp_path_factory):
    """Grade an assignment's example class once per session (lazily), keeping the weights grading trained.

    ``example_class(aid)`` -> (submissions by student, report paths, grading folder); the answer key's
    models are in ``<grading folder>/trained_models/alice/<aid>/``, trained by the grader from the key's code.
    """
    from autograder.pipeline.examples import build_example_class
    from autograder.pipeline.grade import GradingOptions, grade_batch
    from autograder.pipeline.report import write_reports

    cache = {}

    def grade(aid):
        if aid not in cache:
            work = tmp_path_factory.mktemp(aid)
            build_example_class(ROOT, [aid], work / "submissions")
            subs = grade_batch(ROOT, work / "submissions", work / "grading", options=GradingOptions(keep_trained_models=True))
            paths = write_reports(subs, work / "grading", f"sqlite:///{work / 'grading' / 'gradebook.db'}")
            cache[aid] = ({s.student: s for s in subs}, paths, work / "grading")
        return cache[aid]

    return grade

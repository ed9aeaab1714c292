"""Assignment 06 on every installed Keras backend: the answer key earns full marks on JAX (and PyTorch) too.

TensorFlow is the course's backend and the example-class tests grade every key
on it; here the same key is graded through the same pipeline with
``KERAS_BACKEND`` set for the grading kernel. CI installs JAX (the ``[jax]``
extra is in the lock); PyTorch is tested where it is installed.
"""

from __future__ import annotations

import importlib.util

import pytest

from autograder.pipeline.examples import build_submission, example_students
from autograder.pipeline.grade import grade_batch

pytestmark = [pytest.mark.slow, pytest.mark.kernel, pytest.mark.tensorflow]
AID = "06_lstm"


@pytest.mark.parametrize("backend,module", [("jax", "jax"), ("torch", "torch")])
def test_the_06_answer_key_earns_full_marks_on_another_backend(root, tmp_path, monkeypatch, backend, module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[{backend}]')")
    alice = next(ex for ex in example_students(AID) if ex.based_on == "solution" and not ex.expect_failed)
    build_submission(root, alice, tmp_path / "submissions")
    monkeypatch.setenv("KERAS_BACKEND", backend)  # the workers, and so the grading kernel, inherit it
    (sub,) = grade_batch(root, tmp_path / "submissions", tmp_path / "grading")
    assert sub.status == "graded", sub.message
    assert sub.auto_score == sub.auto_max_score > 0, f"lost points on {backend}: {sub.failed_tests}"
    graded = (tmp_path / "grading" / "autograded" / alice.student / AID / f"{AID}.ipynb").read_text()
    names = {"jax": "JAX", "torch": "PyTorch"}
    assert f"on {names[backend]} " in graded, "setup_notebook must report the backend the kernel really used"

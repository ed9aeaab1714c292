"""Assignment 06 on every installed Keras backend: the answer key earns full marks on JAX and PyTorch too.

TensorFlow is the course's backend and the example-class tests grade every key
on it; here the same key is graded through the same pipeline with
``KERAS_BACKEND`` set for the grading kernel. CI installs JAX and PyTorch (both
extras are in the lock). What each run proves:

* JAX: the key trains from scratch on JAX (every training cell, the NumPy LSTM
  against Keras's, the gradient checks) and earns full marks;
* PyTorch: the weights the grader trained on TensorFlow, handed in beside the
  key, are restored on PyTorch (Keras's weights file is the same on every
  backend) and every test, hidden ones included, passes on them: what a
  student who trains on a GPU with another backend hands in. Training itself
  on PyTorch is the JAX run's proof on a third backend's ops, not repeated.
"""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from autograder.pipeline.examples import build_submission, example_students
from autograder.pipeline.grade import GradingOptions, grade_batch
from autograder.training import RECORD_DIR

pytestmark = [pytest.mark.slow, pytest.mark.kernel, pytest.mark.tensorflow]
AID = "06_lstm"


@pytest.mark.parametrize("backend,module,with_weights", [("jax", "jax", False), ("torch", "torch", True)])
def test_the_06_answer_key_earns_full_marks_on_another_backend(root, tmp_path, monkeypatch, example_class, backend, module, with_weights):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[{backend}]')")
    alice = next(ex for ex in example_students(AID) if ex.based_on == "solution" and not ex.expect_failed)
    folder = build_submission(root, alice, tmp_path / "submissions").parent
    if with_weights:
        _, _, workdir = example_class(AID)  # trained on TensorFlow by the example class's grading
        shutil.copytree(workdir / RECORD_DIR / alice.student / AID, folder / RECORD_DIR)
    monkeypatch.setenv("KERAS_BACKEND", backend)  # the workers, and so the grading kernel, inherit it
    (sub,) = grade_batch(root, tmp_path / "submissions", tmp_path / "grading", options=GradingOptions(audit_fraction=0))
    assert sub.status == "graded", sub.message
    assert sub.auto_score == sub.auto_max_score > 0, f"lost points on {backend}: {sub.failed_tests}"
    expected = "restored" if with_weights else "trained"
    assert sub.result.training and all(t.outcome == expected for t in sub.result.training), sub.result.training_summary
    graded = (tmp_path / "grading" / "autograded" / alice.student / AID / f"{AID}.ipynb").read_text()
    names = {"jax": "JAX", "torch": "PyTorch"}
    assert f"on {names[backend]} " in graded, "setup_notebook must report the backend the kernel really used"

"""Assignment 06 on every installed Keras backend: the answer key earns full marks on JAX and PyTorch too.

TensorFlow is the course's backend and the example-class tests grade every key
on it; here the same key is graded through the same pipeline with
``KERAS_BACKEND`` set for the grading kernel. CI installs JAX and PyTorch (both
extras are in the lock). What each run proves:

* JAX: the row-by-row LSTM on Fashion-MNIST trains from scratch on JAX and reaches
  the graded accuracy; the other models are restored from the weights trained on
  TensorFlow, and every other cell (the NumPy LSTM against Keras's, the gradient
  checks, BPTT) runs on JAX: full marks. Training every model again on JAX would
  prove no more about the backend and costs minutes.
* PyTorch: every model's weights trained on TensorFlow, handed in beside the key,
  are restored on PyTorch (Keras's weights file is the same on every backend) and
  every test, hidden ones included, passes on them: what a student who trains on a
  GPU with another backend hands in.
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


TRAINED_ON_JAX = "row_lstm"  # the model trained on JAX itself: an LSTM on real data, graded by an accuracy threshold


@pytest.mark.parametrize("backend,module,trained_here", [("jax", "jax", {TRAINED_ON_JAX}), ("torch", "torch", set())])
def test_the_06_answer_key_earns_full_marks_on_another_backend(root, tmp_path, monkeypatch, example_class, backend, module, trained_here):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[{backend}]')")
    alice = next(ex for ex in example_students(AID) if ex.based_on == "solution" and not ex.expect_failed)
    folder = build_submission(root, alice, tmp_path / "submissions").parent
    _, _, workdir = example_class(AID)  # trained on TensorFlow by the example class's grading
    shutil.copytree(workdir / RECORD_DIR / alice.student / AID, folder / RECORD_DIR)
    for name in trained_here:
        for path in (folder / RECORD_DIR).glob(f"{name}.*"):
            path.unlink()
    monkeypatch.setenv("KERAS_BACKEND", backend)  # the workers, and so the grading kernel, inherit it
    (sub,) = grade_batch(root, tmp_path / "submissions", tmp_path / "grading", options=GradingOptions(audit_fraction=0))
    assert sub.status == "graded", sub.message
    assert sub.auto_score == sub.auto_max_score > 0, f"lost points on {backend}: {sub.failed_tests}"
    outcomes = {t.name: t.outcome for t in sub.result.training}
    assert outcomes and all(outcome == ("trained" if name in trained_here else "restored") for name, outcome in outcomes.items()), outcomes
    assert trained_here <= set(outcomes), f"{trained_here} should have trained on {backend}: {outcomes}"
    graded = (tmp_path / "grading" / "autograded" / alice.student / AID / f"{AID}.ipynb").read_text()
    names = {"jax": "JAX", "torch": "PyTorch"}
    assert f"on {names[backend]} " in graded, "setup_notebook must report the backend the kernel really used"

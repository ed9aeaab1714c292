"""Assignment 06 on every installed Keras backend: the answer key earns its marks on JAX and PyTorch too.

TensorFlow is the course's backend and the example-class tests grade every key
on it; here the same key is graded through the same pipeline with
``KERAS_BACKEND`` set for the grading kernel, from the weights the example
class's grading trained on TensorFlow (Keras's weights file is the same on every
backend): what a student who trains on a GPU with another backend hands in. CI
installs JAX and PyTorch (both extras are in the lock). Every test of Parts A to E,
hidden ones included, must pass: the NumPy cells against Keras's layers, BPTT,
the gradient checks and every restored model's graded threshold.

Part F's language model is TensorFlow's: its training step is written with
``tf.GradientTape`` and its clipping is checked against ``tf.clip_by_global_norm``,
so on another backend the tests in :data:`TENSORFLOW_ONLY` may fail, and
its model may train again (on JAX its fingerprint differs); nothing else may.
That training gives the same gradients on every backend is
``tests/test_autodiff.py``'s proof (Keras's LSTM on JAX and PyTorch against
TensorFlow), so no model is trained here again.
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
TENSORFLOW_ONLY = {"test_clip_by_global_norm", "test_train_step", "test_char_lm_perplexity"}  # Part F: see above
TENSORFLOW_MODELS = {"char_lm"}


@pytest.mark.parametrize("backend,module", [("jax", "jax"), ("torch", "torch")])
def test_the_06_answer_key_earns_its_marks_on_another_backend(root, tmp_path, monkeypatch, example_class, backend, module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[{backend}]')")
    alice = next(ex for ex in example_students(AID) if ex.based_on == "solution" and not ex.expect_failed)
    folder = build_submission(root, alice, tmp_path / "submissions").parent
    _, _, workdir = example_class(AID)  # trained on TensorFlow by the example class's grading
    shutil.copytree(workdir / RECORD_DIR / alice.student / AID, folder / RECORD_DIR)
    monkeypatch.setenv("KERAS_BACKEND", backend)  # the workers, and so the grading kernel, inherit it
    (sub,) = grade_batch(root, tmp_path / "submissions", tmp_path / "grading", options=GradingOptions(audit_fraction=0))
    assert sub.status == "graded", sub.message
    lost = {test for test, _ in sub.failed_tests}
    assert lost <= TENSORFLOW_ONLY, f"lost points on {backend} outside Part F's TensorFlow-only tests: {sub.failed_tests}"
    outcomes = {t.name: t.outcome for t in sub.result.training}
    restored = {name for name, outcome in outcomes.items() if outcome == "restored"}
    assert outcomes and set(outcomes) - TENSORFLOW_MODELS <= restored, outcomes
    graded = (tmp_path / "grading" / "autograded" / alice.student / AID / f"{AID}.ipynb").read_text()
    names = {"jax": "JAX", "torch": "PyTorch"}
    assert f"on {names[backend]} " in graded, "setup_notebook must report the backend the kernel really used"

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
import os
import shutil
import subprocess
import sys

import pytest
from selection import selected_params

from autograder.pipeline.examples import build_submission, example_students
from autograder.pipeline.grade import GradingOptions, grade_batch
from autograder.training import RECORD_DIR

pytestmark = [pytest.mark.slow, pytest.mark.kernel, pytest.mark.tensorflow]
AID = "06_lstm"
TENSORFLOW_ONLY = {"test_clip_by_global_norm", "test_train_step", "test_char_lm_perplexity"}  # Part F: see above
TENSORFLOW_MODELS = {"char_lm"}
BACKENDS = {"jax": "JAX", "torch": "PyTorch"}  # KERAS_BACKEND -> the name setup_notebook prints
OPTIONS = {"audit_fraction": 0, "workers": 1}
# A grading in its own process: KERAS_BACKEND is read from the environment, which one process shares between threads.
GRADE = (
    "import sys; from pathlib import Path; from autograder.pipeline.grade import GradingOptions, grade_batch; "
    f"grade_batch(*map(Path, sys.argv[1:4]), options=GradingOptions(**{OPTIONS!r}))"
)


def installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


@pytest.fixture(scope="module")
def graded_on(request, root, example_class, tmp_path_factory):
    """06's answer key graded on each installed backend this session tests, all at once; backend -> (folder, exit code, log).

    Each grading is one kernel on one core, and this module runs after the example classes' background grading is
    done: one at a time, the other core would sit idle.
    """
    alice = next(ex for ex in example_students(AID) if ex.based_on == "solution" and not ex.expect_failed)
    _, _, workdir = example_class(AID)  # trained on TensorFlow by the example class's grading
    runs = {}
    for backend in filter(installed, selected_params(request, "backend")):
        folder = tmp_path_factory.mktemp(backend)
        handed_in = build_submission(root, alice, folder / "submissions").parent
        shutil.copytree(workdir / RECORD_DIR / alice.student / AID, handed_in / RECORD_DIR)
        command = [sys.executable, "-c", GRADE, str(root), str(folder / "submissions"), str(folder / "grading")]
        log = (folder / "grading.log").open("w")
        runs[backend] = (
            folder,
            log,
            subprocess.Popen(command, cwd=root, env={**os.environ, "KERAS_BACKEND": backend}, stdout=log, stderr=subprocess.STDOUT),
        )
    graded = {}
    for backend, (folder, log, run) in runs.items():
        graded[backend] = (folder, run.wait(timeout=1800), folder / "grading.log")
        log.close()
    return graded


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_the_06_answer_key_earns_its_marks_on_another_backend(root, graded_on, backend):
    if not installed(backend):
        pytest.skip(f"{backend} is not installed (pip install -e '.[{backend}]')")
    folder, returncode, log = graded_on[backend]
    assert returncode == 0, log.read_text()[-3000:]
    # the same options again: every result is reused from the grading above (the submission's bytes are unchanged)
    (sub,) = grade_batch(root, folder / "submissions", folder / "grading", options=GradingOptions(**OPTIONS))
    assert sub.skipped, f"graded again instead of reusing the grading on {backend}"
    assert sub.status == "graded", sub.message
    lost = {test for test, _ in sub.failed_tests}
    assert lost <= TENSORFLOW_ONLY, f"lost points on {backend} outside Part F's TensorFlow-only tests: {sub.failed_tests}"
    outcomes = {t.name: t.outcome for t in sub.result.training}
    restored = {name for name, outcome in outcomes.items() if outcome == "restored"}
    assert outcomes and set(outcomes) - TENSORFLOW_MODELS <= restored, outcomes
    graded = (folder / "grading" / "autograded" / sub.student / AID / f"{AID}.ipynb").read_text()
    assert f"on {BACKENDS[backend]} " in graded, "setup_notebook must report the backend the kernel really used"

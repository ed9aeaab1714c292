"""autograder.autodiff.input_gradient: finite differences on TensorFlow, and the same numbers on JAX."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow

MODEL = """
import keras, numpy as np
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(5), keras.layers.Dense(2)])
rng = np.random.default_rng(1)  # the same weights on every backend (their own initialisers draw differently)
model.set_weights([0.5 * rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
x = rng.normal(size=(4, 6, 3)).astype("float32")
"""


def _gradient_on(backend: str) -> np.ndarray:
    code = MODEL + (
        "from autograder.runtime import quiet\nquiet()\n"
        "from autograder.autodiff import input_gradient\n"
        "import json\nprint('GRAD', json.dumps(input_gradient(model, x).tolist()))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": backend})
    assert run.returncode == 0, run.stderr[-2000:]
    return np.array(json.loads(next(line for line in run.stdout.splitlines() if line.startswith("GRAD "))[5:]))


def test_tensorflow_gradient_matches_finite_differences():
    from autograder.runtime import quiet

    quiet()
    namespace: dict = {}
    exec(MODEL, namespace)
    from autograder.autodiff import input_gradient
    from autograder.checks.gradient import numerical_gradient

    model, x = namespace["model"], namespace["x"].astype("float64")
    analytic = input_gradient(model, x)
    numeric = numerical_gradient(lambda v: float(np.sum(np.asarray(model(v.astype("float32"), training=False), dtype="float64"))), x, h=1e-2)
    assert analytic.shape == x.shape
    np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=2e-3)


def test_jax_gives_the_same_gradient_as_tensorflow():
    pytest.importorskip("jax")
    np.testing.assert_allclose(_gradient_on("jax"), _gradient_on("tensorflow"), rtol=1e-4, atol=1e-6)

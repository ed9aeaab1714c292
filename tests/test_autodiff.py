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


# ----------------------------------------------------------------- gradients / keras_lstm_gradients (06's BPTT oracle)

LSTM_PROBLEM = """
import numpy as np
rng = np.random.default_rng(3)
B, T, d, n = 2, 4, 3, 5
x, h0, c0 = rng.normal(size=(B, T, d)), rng.normal(size=(B, n)), rng.normal(size=(B, n))
W, U, b = 0.5 * rng.normal(size=(d, 4 * n)), 0.5 * rng.normal(size=(n, 4 * n)), 0.5 * rng.normal(size=4 * n)
dhs = rng.normal(size=(B, T, n))
"""


def _lstm_gradients_on(backend: str) -> dict:
    code = LSTM_PROBLEM + (
        "from autograder.runtime import quiet\nquiet()\n"
        "from autograder.autodiff import keras_lstm_gradients\nimport json\n"
        "g = keras_lstm_gradients(x, h0, c0, W, U, b, dhs)\n"
        "print('GRAD', json.dumps({k: v.tolist() for k, v in g.items()}))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": backend})
    assert run.returncode == 0, run.stderr[-2000:]
    line = next(line for line in run.stdout.splitlines() if line.startswith("GRAD "))
    return {k: np.array(v) for k, v in json.loads(line[5:]).items()}


def test_gradients_of_a_simple_function():
    import keras

    from autograder.autodiff import gradients

    a, b = np.array([1.0, -2.0, 3.0]), np.array([[0.5], [2.0]])
    ga, gb = gradients(lambda s, t: keras.ops.sum(s**2) + keras.ops.sum(keras.ops.sin(t)), [a, b])
    np.testing.assert_allclose(ga, 2 * a, rtol=1e-6)
    np.testing.assert_allclose(gb, np.cos(b), rtol=1e-6)


def test_keras_lstm_gradients_match_finite_differences_of_a_numpy_lstm():
    """The oracle of 06's BPTT tests, on the backend of this process, against a NumPy LSTM (Keras's gate order)."""
    from dataclasses import replace

    from autograder.autodiff import keras_lstm_gradients
    from autograder.checks.gradient import numerical_gradient
    from autograder.checks.rnn import RecurrentProblem, lstm_reference

    ns: dict = {}
    exec(LSTM_PROBLEM, ns)
    p = RecurrentProblem("lstm", ns["x"], ns["h0"], ns["c0"], ns["W"], ns["U"], ns["b"])
    got = keras_lstm_gradients(p.x, p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias, ns["dhs"])
    for key, field in zip(("dx", "dh0", "dc0", "dW", "dU", "db"), ("x", "h0", "c0", "kernel", "recurrent_kernel", "bias"), strict=True):

        def loss(v, field=field):
            return float(np.sum(lstm_reference(replace(p, **{field: v}))["h_seq"] * ns["dhs"]))

        numeric = numerical_gradient(loss, getattr(p, field).copy())
        assert got[key].shape == numeric.shape
        np.testing.assert_allclose(got[key], numeric, rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_lstm_gradients_are_the_same_on_every_backend(backend):
    pytest.importorskip(backend)
    other, tf = _lstm_gradients_on(backend), _lstm_gradients_on("tensorflow")
    for key, value in tf.items():
        np.testing.assert_allclose(other[key], value, rtol=1e-4, atol=1e-6, err_msg=key)

"""06's back-propagation through time: the hidden checks of the answer key on 1,000 random draws each.

The hidden tests of ``test_lstm_step_backward`` and ``test_lstm_backward`` check the answer key's
gradients two ways: against finite differences of the course's NumPy LSTM (``check_gradient``, tol 1e-7
beyond finite-difference noise) and against ``keras.layers.LSTM`` differentiated by the backend's
autodiff in float32 (``check_close`` with rtol 2e-3, atol 2e-4 times the larger of 1 and the reference's
largest entry). Each test repeats one of them, with the same tolerance, on 1,000 draws of the hidden
inputs' shapes and of input scales from small to saturating.

To stay fast the Keras references are computed for many draws in one call: an LSTM with block-diagonal
weights runs independent networks side by side, so the gradient of the summed loss with respect to a
draw's inputs, states and weight blocks is that draw's own gradient (checked against the per-draw
reference on a few draws).
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import pytest

from autograder.checks import check_close, check_gradient
from autograder.checks.rnn import RecurrentProblem, lstm_reference, make_recurrent_problem
from autograder.verdicts import load_suite, python_source, setup_namespace

pytestmark = pytest.mark.tensorflow

DRAWS = 1000
FIELDS = ("x", "h0", "c0", "kernel", "recurrent_kernel", "bias")
KEYS = ("dx", "dh0", "dc0", "dW", "dU", "db")


@functools.cache
def key() -> dict:
    """The namespace after 06's setup cells and the answer key's LSTM cells."""
    suite = load_suite("06_lstm")
    namespace = setup_namespace(suite)
    for grade_id in ("lstm_step", "lstm_forward", "lstm_step_backward", "lstm_backward"):
        exec(compile(python_source(suite.cells[grade_id]), f"<06_lstm:{grade_id}>", "exec"), namespace)
    return namespace


def _draw(rng, batch_range, time_range, feature_range, unit_range) -> tuple[RecurrentProblem, np.ndarray]:
    """One problem with the hidden tests' shapes, inputs scaled from small to saturating, and an upstream dhs."""
    B, T = int(rng.integers(*batch_range)), int(rng.integers(*time_range))
    d, n = int(rng.integers(*feature_range)), int(rng.integers(*unit_range))
    p = make_recurrent_problem("lstm", batch=B, timesteps=T, features=d, units=n, seed=int(rng.integers(2**32)))
    p = replace(p, x=p.x * float(rng.uniform(0.25, 3)))
    return p, rng.normal(size=(B, T, n))


def _keras_side_by_side(draws):
    """keras_lstm_gradients for every (problem, dhs) in draws (same B and T), in one call: block-diagonal weights."""
    from autograder.autodiff import keras_lstm_gradients

    problems = [p for p, _ in draws]
    D, N = sum(p.x.shape[2] for p in problems), sum(p.units for p in problems)
    W, U, b = np.zeros((D, 4 * N)), np.zeros((N, 4 * N)), np.zeros(4 * N)
    spans, od, on = [], 0, 0
    for p in problems:
        d, n = p.x.shape[2], p.units
        for g in range(4):
            cols = slice(g * N + on, g * N + on + n)
            W[od : od + d, cols] = p.kernel[:, g * n : (g + 1) * n]
            U[on : on + n, cols] = p.recurrent_kernel[:, g * n : (g + 1) * n]
            b[cols] = p.bias[g * n : (g + 1) * n]
        spans.append((od, d, on, n))
        od, on = od + d, on + n
    cat = functools.partial(np.concatenate, axis=-1)
    big = keras_lstm_gradients(
        cat([p.x for p in problems]), cat([p.h0 for p in problems]), cat([p.c0 for p in problems]), W, U, b, cat([u for _, u in draws])
    )
    refs = []
    for od, d, on, n in spans:
        blocks = [slice(g * N + on, g * N + on + n) for g in range(4)]
        refs.append(
            {
                "dx": big["dx"][..., od : od + d],
                "dh0": big["dh0"][:, on : on + n],
                "dc0": big["dc0"][:, on : on + n],
                "dW": np.concatenate([big["dW"][od : od + d, c] for c in blocks], axis=1),
                "dU": np.concatenate([big["dU"][on : on + n, c] for c in blocks], axis=1),
                "db": np.concatenate([big["db"][c] for c in blocks]),
            }
        )
    return refs


def _grouped(rng, ranges):
    groups: dict[tuple[int, int], list] = {}
    for _ in range(DRAWS):
        p, dhs = _draw(rng, *ranges)
        groups.setdefault(p.x.shape[:2], []).append((p, dhs))
    return groups


def _close_to_keras(ours, ref, T):
    for name, mine, key_ in zip(("dx", "dh", "dc", "dW", "dU", "db"), ours, KEYS, strict=True):
        expected = ref[key_]
        check_close(mine, expected, rtol=2e-3, atol=2e-4 * max(1.0, float(np.abs(expected).max())), name=f"{name}, {T} steps", quiet=True)


def test_side_by_side_keras_gradients_equal_the_per_draw_ones():
    from autograder.autodiff import keras_lstm_gradients

    rng = np.random.default_rng(60_100)
    draws = [_draw(rng, (3, 4), (4, 5), (1, 6), (1, 6)) for _ in range(4)]
    for (p, dhs), ref in zip(draws, _keras_side_by_side(draws), strict=True):
        alone = keras_lstm_gradients(p.x, p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias, dhs)
        for k in KEYS:
            np.testing.assert_allclose(ref[k], alone[k], rtol=1e-4, atol=1e-6)


def test_lstm_step_backward_against_keras_on_1000_draws():
    ns = key()
    checked = 0
    for draws in _grouped(np.random.default_rng(60_051), ((1, 6), (1, 2), (1, 7), (1, 7))).values():
        for (p, dhs), ref in zip(draws, _keras_side_by_side(draws), strict=True):
            _, cache = ns["lstm_step"](p.x[:, 0], p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias)
            dx, *rest = ns["lstm_step_backward"](dhs[:, 0], np.zeros_like(p.c0), cache)
            _close_to_keras((dx[:, None], *rest), ref, 1)
            checked += 1
    assert checked == DRAWS


def test_lstm_backward_against_keras_on_1000_draws():
    ns = key()
    checked = 0
    for draws in _grouped(np.random.default_rng(60_061), ((1, 5), (2, 10), (1, 6), (1, 7))).values():
        for (p, dhs), ref in zip(draws, _keras_side_by_side(draws), strict=True):
            _, caches = ns["lstm_forward"](p.x, p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias)
            _close_to_keras(ns["lstm_backward"](dhs, caches), ref, p.x.shape[1])
            checked += 1
    assert checked == DRAWS


def test_lstm_step_backward_gradient_checks_on_1000_draws():
    """The finite-difference checks of test_lstm_step_backward (dh and dc both nonzero), 1,000 draws."""
    ns = key()
    rng = np.random.default_rng(60_052)
    for _ in range(DRAWS):
        p, dhs = _draw(rng, (1, 6), (1, 2), (1, 7), (1, 7))
        dh, dc = dhs[:, 0], rng.normal(size=p.c0.shape)
        _, cache = ns["lstm_step"](p.x[:, 0], p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias)
        for field, grad in zip(FIELDS, ns["lstm_step_backward"](dh, dc, cache), strict=True):

            def loss(v, field=field):
                out = lstm_reference(replace(p, **{field: v[:, None] if field == "x" else v}))
                return np.sum(out["h_T"] * dh) + np.sum(out["c_T"] * dc)

            check_gradient(loss, p.x[:, 0] if field == "x" else getattr(p, field), grad, name=field, quiet=True)


def test_lstm_backward_gradient_checks_on_1000_draws():
    """The finite-difference checks of test_lstm_backward, 1,000 draws."""
    ns = key()
    rng = np.random.default_rng(60_062)
    for _ in range(DRAWS):
        p, dhs = _draw(rng, (1, 5), (2, 10), (1, 6), (1, 7))
        _, caches = ns["lstm_forward"](p.x, p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias)
        for field, grad in zip(FIELDS, ns["lstm_backward"](dhs, caches), strict=True):

            def loss(v, field=field):
                return np.sum(lstm_reference(replace(p, **{field: v}))["h_seq"] * dhs)

            check_gradient(loss, getattr(p, field), grad, name=field, quiet=True)

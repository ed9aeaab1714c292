"""The gradient check allows for finite-difference noise, and only for it.

Issue: equivalent, numerically stable formulas of the softmax cross-entropy lost 7 points to the
noise of centred differences (relative error 1.4e-7 against a tolerance of 1e-7); the key's own
gradient failed 190 of 300 random draws. These tests pin both sides: every equivalent formula
passes on many draws, and every classic mistake still fails with its diagnosis.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.checks import GradientCheckError, check_gradient, gradient_check
from autograder.checks.gradient import finite_difference_noise, numerical_gradient


def _log_probs(s):
    shifted = s - s.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def ce_key(s, y):
    N = s.shape[0]
    lp = _log_probs(s)
    d = np.exp(lp)
    d[np.arange(N), y] -= 1.0
    return float(-np.mean(lp[np.arange(N), y])), d / N


def ce_one_hot(s, y):
    N, C = s.shape
    lp = _log_probs(s)
    Y = np.eye(C)[y]
    return float(-np.sum(Y * lp) / N), (np.exp(lp) - Y) / N


def ce_lse(s, y):
    N = s.shape[0]
    m = s.max(axis=1)
    lse = m + np.log(np.exp(s - m[:, None]).sum(axis=1))
    p = np.exp(s - lse[:, None])
    p[np.arange(N), y] -= 1.0
    return float(np.mean(lse - s[np.arange(N), y])), p / N


FORMULAS = [ce_key, ce_one_hot, ce_lse]


def draws(n, N=3, C=10, scale=3.0, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield rng.normal(scale=scale, size=(N, C)), rng.integers(0, C, N)


@pytest.mark.parametrize("formula", FORMULAS, ids=lambda f: f.__name__)
def test_equivalent_cross_entropy_formulas_always_pass(formula):
    worst = 0.0
    for s, y in draws(300):
        loss, grad = formula(s, y)
        worst = max(worst, gradient_check(lambda z: formula(z, y)[0], s, grad, batch_size=3).max_relative_error)
    assert worst < 1e-8  # a hundredfold margin below the tolerance


def test_the_issue_draw_passes():
    """The case in the issue: the one-hot form at (N, C) = (3, 10), 1.378e-7 before the fix."""
    rng = np.random.default_rng(4041)
    s, y = rng.normal(scale=3, size=(3, 10)), rng.integers(0, 10, 3)
    check_gradient(lambda z: ce_one_hot(z, y)[0], s, ce_one_hot(s, y)[1], batch_size=3, quiet=True)


MISTAKES = {
    "missing 1/N": (lambda g, N: g * N, "too large (the batch size)"),
    "doubled mean": (lambda g, N: g / N, "too small (the batch size)"),
    "sign": (lambda g, N: -g, "wrong sign"),
    "one percent off": (lambda g, N: g * 1.01, "constant factor 1.01"),
    "one entry off by 0.1 percent": (lambda g, N: g + np.where(np.abs(g) == np.abs(g).max(), 1e-3 * g, 0.0), "max relative error"),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_wrong_gradients_still_fail(mistake):
    wrong, message = MISTAKES[mistake]
    for s, y in draws(50, N=4, seed=1):
        loss, grad = ce_key(s, y)
        with pytest.raises(GradientCheckError, match=re.escape(message)):
            check_gradient(lambda z: ce_key(z, y)[0], s, wrong(grad, 4), batch_size=4)


def test_transposes_still_fail():
    rng = np.random.default_rng(5)
    for _n in range(20):
        A, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
        grad = A.T @ np.cos(A @ W) / 4
        with pytest.raises(GradientCheckError, match="transpose"):
            check_gradient(lambda W: np.mean(np.sum(np.sin(A @ W), axis=1)), W, grad.T)


def test_array_valued_functions_with_dout():
    rng = np.random.default_rng(7)
    for _ in range(100):
        x, dout = rng.normal(scale=4, size=(5, 3)), rng.normal(size=(5, 3))
        sig = 0.5 * (1 + np.tanh(x / 2))
        check_gradient(lambda z: 1 / (1 + np.exp(-z)), x, dout * sig * (1 - sig), dout=dout, quiet=True)
        with pytest.raises(GradientCheckError, match="wrong sign"):
            check_gradient(lambda z: np.tanh(z), x, -dout * (1 - np.tanh(x) ** 2), dout=dout)


def test_the_noise_allowance_is_tiny_for_smooth_functions():
    """The allowance is a few 1e-9 here, a millionth of the gradient: far below any mistake worth points."""
    rng = np.random.default_rng(3)
    s, y = rng.normal(scale=3, size=(8, 5)), rng.integers(0, 5, 8)
    f = lambda z: ce_one_hot(z, y)[0]
    numeric = numerical_gradient(f, s.copy())
    noise = finite_difference_noise(f, s.copy(), numeric)
    assert noise.max() < 1e-6 * np.abs(numeric).max()


def test_correct_gradients_cost_no_extra_evaluations():
    calls = []
    loss = lambda w: calls.append(1) or float(np.sum(np.sin(w)))
    w = np.linspace(-1, 1, 6)
    check_gradient(loss, w, np.cos(w), quiet=True)
    assert len(calls) == 2 * w.size + 1  # two per entry for D(h), one for the size of f


def test_non_finite_loss_is_reported():
    with pytest.raises(GradientCheckError, match="NaN or inf"):
        check_gradient(lambda z: float(np.log(np.sum(np.exp(z * 1000)))), np.array([1.0, 2.0]), np.array([0.0, 1000.0]))

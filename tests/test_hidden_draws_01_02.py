"""The answer keys of 01 and 02 pass their hidden numerical checks on 1,000 random draws each.

A hidden check that the key itself fails on some inputs grades noise, not students. For every hidden
numerical check (losses, forward passes, gradients against finite differences of the instructor's
reference), the key's functions are run on 1,000 draws of the hidden inputs' shapes and scales. The
gradient checks use the criterion of ``autograder.checks.gradient`` (relative error beyond
finite-difference noise, < 1e-7), with the finite differences of all entries evaluated at once on a
stack of perturbed inputs so the file runs in seconds.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from autograder.checks import check_close, check_gradient
from autograder.checks.gradient import EPS, ROUNDING_ULPS, excess_relative_error, noise_floor
from autograder.verdicts import _exec, _notebook_context, load_suite, setup_namespace

DRAWS = 1000


@functools.cache
def key(assignment: str) -> dict:
    """The namespace after the setup cells and every solution cell that defines functions."""
    suite = load_suite(assignment)
    namespace = setup_namespace(suite)
    cells = list(dict.fromkeys(g for case in suite.cases for g in case.solution_cells))
    with _notebook_context(suite.notebook_dir):
        for grade_id in cells:
            _exec(suite.cells[grade_id], namespace, f"{assignment}:{grade_id}")
    return namespace


def batched_gradient_check(f_stack, x, analytic, dout=None, h=1e-5, tol=1e-7):
    """check_gradient's criterion, with f evaluated on a stack (B, *x.shape) of perturbed copies of x."""
    x = np.asarray(x, dtype=np.float64)
    eye = np.eye(x.size).reshape((x.size, *x.shape))

    def scalars(stack):
        values = np.asarray(f_stack(stack), dtype=np.float64)
        if dout is None:
            return values.reshape(len(stack))
        return np.sum((values * dout).reshape(len(stack), -1), axis=1)

    d1 = ((scalars(x + h * eye) - scalars(x - h * eye)) / (2 * h)).reshape(x.shape)
    d2 = ((scalars(x + 2 * h * eye) - scalars(x - 2 * h * eye)) / (4 * h)).reshape(x.shape)
    value = np.asarray(f_stack(x[None]), dtype=np.float64)[0]
    scale = float(np.abs(value).sum()) if dout is None else float(np.sum(np.abs(value * dout)))
    noise = ROUNDING_ULPS * EPS * scale / h + np.abs(d1 - d2)
    error = excess_relative_error(analytic, d1, noise, noise_floor(d1)).max()
    assert error < tol, f"relative error {error:.3g} beyond finite-difference noise"
    return error


def reference_loss_stack(params, X, y, activation="relu"):
    """The hidden tests' reference network; any one parameter may carry a leading stack axis."""
    h, L = X, len(params) // 2
    for l in range(1, L + 1):
        b = params[f"b{l}"]
        h = h @ params[f"W{l}"] + (b[:, None, :] if b.ndim == 2 else b)
        if l < L:
            h = {"relu": lambda a: np.maximum(a, 0.0), "sigmoid": lambda a: 0.5 * (1 + np.tanh(a / 2)), "tanh": np.tanh}[activation](h)
    h = h - h.max(axis=-1, keepdims=True)
    picked = h[..., np.arange(len(y)), y]
    return np.mean(np.log(np.exp(h).sum(axis=-1)) - picked, axis=-1)


def check_network(loss_fn, params, X, y, activation="relu"):
    loss, grads = loss_fn(params, X, y)
    check_close(loss, float(reference_loss_stack(params, X, y, activation)), rtol=1e-10, quiet=True)
    for k in params:
        batched_gradient_check(lambda stack: reference_loss_stack({**params, k: stack}, X, y, activation), params[k], grads[k])


# ------------------------------------------------------------------ 01


def test_01_sigmoid_loss_and_gradients():
    ns = key("01_logistic_regression")
    rng = np.random.default_rng(1)
    for _ in range(DRAWS):
        z = rng.normal(scale=30, size=(7, 5))
        with np.errstate(over="raise"):
            check_close(ns["sigmoid"](z), 0.5 * (1 + np.tanh(z / 2)), rtol=1e-10, atol=1e-15, quiet=True)
        Xh, yh, wh = rng.normal(size=(40, 6)), rng.integers(0, 2, 40).astype(float), rng.normal(size=6)
        ph = 0.5 * (1 + np.tanh(Xh @ wh / 2))
        check_close(ns["bce_loss"](wh, Xh, yh), -np.mean(yh * np.log(ph) + (1 - yh) * np.log(1 - ph)), rtol=1e-9, quiet=True)
        for N, D in [(7, 3), (64, 9)]:
            Xh, yh, wh = rng.normal(size=(N, D)), rng.integers(0, 2, N).astype(float), rng.normal(size=D)
            reference = lambda w: float(np.mean(np.logaddexp(0.0, -(2 * yh - 1) * (Xh @ w))))
            check_gradient(reference, wh, ns["bce_gradient"](wh, Xh, yh), batch_size=N, quiet=True)


def test_01_gradient_descent_and_newton():
    ns = key("01_logistic_regression")
    rng = np.random.default_rng(2)
    for seed in range(DRAWS):
        X, y = ns["make_blobs"](n=200, separation=2.5, seed=seed)
        Xb, yb = ns["add_bias"](X), y.astype(np.float64)
        w_gd, losses = ns["gradient_descent"](Xb, yb, learning_rate=0.5, n_steps=100)
        w_ref = np.zeros(3)
        for _ in range(100):
            w_ref = w_ref - 0.5 * Xb.T @ (0.5 * (1 + np.tanh(Xb @ w_ref / 2)) - yb) / len(yb)
        check_close(w_gd, w_ref, rtol=1e-6, quiet=True)
        assert np.all(np.diff(losses) <= 1e-12)
        Xh = np.hstack([rng.normal(size=(30, 2)), np.ones((30, 1))])
        yh = (rng.random(30) < 0.5).astype(float)
        wh = rng.normal(scale=0.3, size=3)
        ph = 0.5 * (1 + np.tanh(Xh @ wh / 2))
        Hh = Xh.T @ ((ph * (1 - ph))[:, None] * Xh) / 30
        check_close(ns["newton_step"](wh, Xh, yh), wh - np.linalg.solve(Hh, Xh.T @ (ph - yh) / 30), rtol=1e-8, quiet=True)


def test_01_tape_gradient():
    ns = key("01_logistic_regression")
    rng = np.random.default_rng(3)
    for _ in range(DRAWS):
        Xh, yh, wh = rng.normal(size=(33, 5)), rng.integers(0, 2, 33).astype(float), rng.normal(size=5)
        check_close(ns["tape_gradient"](wh, Xh, yh), Xh.T @ (0.5 * (1 + np.tanh(Xh @ wh / 2)) - yh) / 33, rtol=1e-9, quiet=True)


@pytest.mark.tensorflow
def test_01_bce_hessian_against_the_tape():
    """1,000 draws per hidden shape at once: TensorFlow's Hessian of the instructor's loss, one batch_jacobian."""
    import tensorflow as tf

    ns = key("01_logistic_regression")
    rng = np.random.default_rng(4)
    for N, D, scale in [(7, 3, 1.0), (50, 6, 2.0)]:
        X, y = rng.normal(size=(DRAWS, N, D)), rng.integers(0, 2, (DRAWS, N)).astype(float)
        w = rng.normal(scale=scale, size=(DRAWS, D))
        w_var = tf.Variable(w)
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                logits = tf.einsum("bnd,bd->bn", tf.constant(X), w_var)
                loss = tf.reduce_sum(tf.reduce_mean(tf.math.softplus(-(2 * y - 1) * logits), axis=1))
            grad = inner.gradient(loss, w_var)
        hessians = outer.batch_jacobian(grad, w_var).numpy()
        for b in range(DRAWS):
            check_close(ns["bce_hessian"](w[b], X[b], y[b]), hessians[b], rtol=1e-8, atol=1e-12, quiet=True)


def test_01_irls_step_against_newton():
    ns = key("01_logistic_regression")
    rng = np.random.default_rng(5)
    for _ in range(DRAWS):
        for N, D in [(30, 3), (80, 5)]:
            Xh = np.hstack([rng.normal(size=(N, D - 1)), np.ones((N, 1))])
            yh = (rng.random(N) < 0.5).astype(float)
            wh = rng.normal(scale=0.3, size=D)
            ph = 0.5 * (1 + np.tanh(Xh @ wh / 2))
            newton = wh - np.linalg.solve(Xh.T @ ((ph * (1 - ph))[:, None] * Xh) / N, Xh.T @ (ph - yh) / N)
            check_close(ns["irls_step"](wh, Xh, yh), newton, rtol=1e-8, atol=1e-10, quiet=True)


@pytest.mark.parametrize("assignment", ["01_logistic_regression", "02_backprop"])
def test_softmax_cross_entropy(assignment):
    ns = key(assignment)
    rng = np.random.default_rng(4)
    shapes = [(3, 10), (17, 3)] if assignment.startswith("01") else [(3, 10), (16, 2)]
    for _ in range(DRAWS):
        for N, C in shapes:
            Z, y = rng.normal(scale=3, size=(N, C)), rng.integers(0, C, N)
            loss, dZ = ns["softmax_cross_entropy"](Z, y)
            check_gradient(lambda s: ns["softmax_cross_entropy"](s, y)[0], Z, dZ, batch_size=N, quiet=True)
            ref = -np.mean(Z[np.arange(N), y] - Z.max(1) - np.log(np.exp(Z - Z.max(1, keepdims=True)).sum(1)))
            check_close(loss, ref, rtol=1e-10, quiet=True)
            P = np.exp(Z - Z.max(1, keepdims=True))
            P /= P.sum(1, keepdims=True)
            check_close(dZ, (P - np.eye(C)[y]) / N, rtol=1e-8, atol=1e-14, quiet=True)


def test_01_softmax():
    ns = key("01_logistic_regression")
    rng = np.random.default_rng(5)
    for _ in range(DRAWS):
        Z = rng.normal(scale=50, size=(6, 10))
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        check_close(ns["softmax"](Z), P, rtol=1e-10, atol=1e-300, quiet=True)
        check_close(ns["softmax"](Z + 123.0), P, rtol=1e-10, atol=1e-300, quiet=True)


# ------------------------------------------------------------------ 02


def test_02_affine():
    ns = key("02_backprop")
    forward, backward = ns["affine_forward"], ns["affine_backward"]
    rng = np.random.default_rng(6)
    for _ in range(DRAWS):
        for N, D, M in [(1, 3, 2), (7, 2, 6), (12, 9, 4)]:
            x, w, b, dout = rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M), rng.normal(size=(N, M))
            check_close(forward(x, w, b)[0], x @ w + b, rtol=1e-12, quiet=True)
            dx, dw, db = backward(dout, forward(x, w, b)[1])
            batched_gradient_check(lambda s: forward(s, w, b)[0], x, dx, dout)
            batched_gradient_check(lambda s: forward(x, s, b)[0], w, dw, dout)
            batched_gradient_check(lambda s: forward(x, w, s[:, None, :])[0], b, db, dout)


@pytest.mark.parametrize("name, shape, scale", [("sigmoid", (5, 3, 2), 4.0), ("tanh", (9, 4), 2.0), ("relu", (3, 8, 2), 1.0)])
def test_02_activations(name, shape, scale):
    ns = key("02_backprop")
    forward, backward = ns[f"{name}_forward"], ns[f"{name}_backward"]
    rng = np.random.default_rng(7)
    for _ in range(DRAWS):
        x, dout = ns["away_from_zero"](rng.normal(scale=scale, size=shape)), rng.normal(size=shape)
        if name == "sigmoid":
            check_close(forward(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-12, quiet=True)
        batched_gradient_check(lambda s: forward(s)[0], x, backward(dout, forward(x)[1]), dout)


def test_02_networks_against_the_reference():
    ns = key("02_backprop")
    rng = np.random.default_rng(8)
    configs = [
        ([3, 11, 4], "relu", 9, "two"),
        ([6, 5, 2], "relu", 2, "two"),
        ([3, 4, 4, 4, 2], "tanh", 7, "mlp"),
        ([6, 5, 3], "sigmoid", 3, "mlp"),
        ([2, 9, 8, 7, 6, 4], "relu", 5, "mlp"),
        ([4, 3], "relu", 4, "mlp"),
    ]
    for draw in range(DRAWS):
        for sizes, activation, N, kind in configs:
            params = ns["random_params"](sizes, seed=draw)
            X, y = rng.normal(size=(N, sizes[0])), rng.integers(0, sizes[-1], N)
            if activation == "relu":  # the hidden tests' draws sit away from ReLU's kink (2h = 2e-5) with probability ~1
                pre = X
                for l in range(1, len(sizes) - 1):
                    a = pre @ params[f"W{l}"] + params[f"b{l}"]
                    if np.abs(a).min() < 1e-4:
                        break
                    pre = np.maximum(a, 0)
                else:
                    pre = None
                if pre is not None:
                    continue
            loss_fn = ns["two_layer_loss"] if kind == "two" else (lambda p, X, y: ns["mlp_loss"](p, X, y, activation))
            check_network(loss_fn, params, X, y, activation)


def test_02_tape_gradients():
    ns = key("02_backprop")
    rng = np.random.default_rng(9)
    for draw in range(DRAWS):
        sizes, activation = [([3, 7, 2], "relu"), ([5, 4, 4, 4], "sigmoid"), ([4, 6, 5, 3], "tanh")][draw % 3]
        params, X, y = ns["random_params"](sizes, seed=draw), rng.normal(size=(6, sizes[0])), rng.integers(0, sizes[-1], 6)
        grads = ns["tape_gradients"](params, X, y, activation)
        _, bp = ns["mlp_loss"](params, X, y, activation)  # the key's backprop checks the key's tape; both match the reference above
        for k in params:
            check_close(grads[k], bp[k], rtol=1e-9, atol=1e-13, quiet=True)


def test_02_momentum_and_train_sgd():
    ns = key("02_backprop")
    rng = np.random.default_rng(10)

    def least_squares(params, X, y):
        residual = X @ params["w"] + params["b"] - y
        return 0.5 * float(np.mean(residual**2)), {"w": X.T @ residual / len(X), "b": np.array([residual.mean()])}

    for draw in range(DRAWS):
        ph = {"a": rng.normal(size=(3, 2)), "b": rng.normal(size=4)}
        vh = {"a": rng.normal(size=(3, 2)), "b": rng.normal(size=4)}
        gh = {"a": rng.normal(size=(3, 2)), "b": rng.normal(size=4)}
        ev = {k: 0.8 * vh[k] - 0.03 * gh[k] for k in ph}
        ep = {k: ph[k] + ev[k] for k in ph}
        ns["sgd_momentum_step"](ph, gh, vh, learning_rate=0.03, momentum=0.8)
        for k in ph:
            check_close(vh[k], ev[k], rtol=1e-12, quiet=True)
            check_close(ph[k], ep[k], rtol=1e-12, quiet=True)
        X, y = rng.normal(size=(24, 3)), rng.normal(size=24)
        start = {"w": rng.normal(size=3), "b": rng.normal(size=1)}
        for momentum in (0.0, 0.9):
            p = {k: v.copy() for k, v in start.items()}
            hist = ns["train_sgd"](least_squares, p, X, y, learning_rate=0.05, momentum=momentum, epochs=4, batch_size=24, seed=draw)
            ref, vel = {k: v.copy() for k, v in start.items()}, {k: np.zeros_like(v) for k, v in start.items()}
            for _ in range(4):
                g = least_squares(ref, X, y)[1]
                for k in ref:
                    vel[k] = momentum * vel[k] - 0.05 * g[k]
                    ref[k] = ref[k] + vel[k]
            for k in ref:
                check_close(p[k], ref[k], rtol=1e-9, atol=1e-12, quiet=True)
            check_close(hist[-1], least_squares(ref, X, y)[0], rtol=1e-9, quiet=True)
        seen = []
        ns["train_sgd"](
            lambda p, Xb, yb: (seen.append(len(Xb)) if len(Xb) < 24 else None) or least_squares(p, Xb, yb),
            {"w": np.zeros(3), "b": np.zeros(1)},
            X,
            y,
            learning_rate=0.01,
            momentum=0.9,
            epochs=3,
            batch_size=10,
            seed=draw,
        )
        assert seen == [10, 10, 4] * 3


def test_02_finite_differences_perceptron_and_norms():
    ns = key("02_backprop")
    rng = np.random.default_rng(11)
    for draw in range(DRAWS):
        v = {"v": rng.normal(scale=1.5, size=(2, 2))}
        v0 = v["v"].copy()
        check_close(ns["finite_difference_gradients"](lambda: float(np.sum(v["v"] ** 3)), v)["v"], 3 * v0**2, rtol=1e-8, quiet=True)
        check_close(ns["finite_difference_gradients"](lambda: float(np.sum(v["v"] ** 3)), v, h=1e-3)["v"], 3 * v0**2 + 1e-6, rtol=1e-9, quiet=True)
        Xh = rng.normal(size=(40, 3))
        margin = Xh @ rng.normal(size=3) - rng.normal(scale=0.5)
        Xh, yh = Xh[np.abs(margin) > 0.2], (margin[np.abs(margin) > 0.2] > 0).astype(np.int64)
        check_close(ns["perceptron_predict"](ns["perceptron_train"](Xh, yh, epochs=1000), Xh), yh, quiet=True)
        params = ns["random_params"]([3, 5, 4, 2], seed=draw)
        X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, 6)
        expected = [
            np.linalg.norm(
                ns["numerical_gradient"](lambda W: float(reference_loss_stack({**params, f"W{l}": W}, X, y, "tanh")), params[f"W{l}"].copy())
            )
            for l in (1, 2, 3)
        ]
        check_close(ns["layer_gradient_norms"](params, X, y, "tanh"), expected, rtol=1e-6, quiet=True)

"""The hidden numerical checks of 03 and 04 on 1,000 random draws: the answer key must pass every one.

A hidden test sees one draw of its inputs; a tolerance that the answer key passes there by luck would
fail a correct student on another machine. Each test below repeats one hidden check, with the same
tolerance, on 1,000 draws of the hidden inputs' shapes and scales, using the answer key's own
functions (loaded from the source notebook with ``autograder.verdicts``' loader).

To stay fast, draws are batched where that changes nothing in the arithmetic of each draw: the
momentum updates are elementwise (SGD with momentum on one long vector is many small problems side
by side), and the finite differences of ``conv_backward``'s check are taken for all entries at once
with one ``tf.nn.conv2d`` call on a stack of perturbed copies. Convolution is linear in ``x``, ``w``
and ``b``, so its centred differences carry no truncation error: the comparison below allows only
check_gradient's rounding term, which is stricter than check_gradient itself (it also forgives the
step-size term). Integer results (output sizes, parameter counts, top confusions) are exact.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from autograder.checks import check_close
from autograder.checks.gradient import EPS, ROUNDING_ULPS, excess_relative_error, noise_floor
from autograder.verdicts import load_suite, python_source, setup_namespace

pytestmark = pytest.mark.tensorflow

DRAWS = 1000


@functools.cache
def key(assignment: str, *cells: str) -> dict:
    """The namespace after the notebook's ``setup`` cell (imports; no data) and the answer key's ``cells`` (grade ids)."""
    suite = load_suite(assignment)
    namespace = setup_namespace(dataclasses.replace(suite, setup=("setup",)))
    for grade_id in cells:
        exec(compile(python_source(suite.cells[grade_id]), f"<{assignment}:{grade_id}>", "exec"), namespace)
    return namespace


# ------------------------------------------------------------------------------------------------ 03


def test_03_momentum_by_hand_on_1000_random_quadratics():
    """test_momentum_by_hand's hidden check (4-d quadratic A = R R^T + I, 12 steps), 1,000 problems side by side."""
    ns = key("03_mlp", "momentum")
    rng = np.random.default_rng(30_001)
    R = rng.normal(size=(DRAWS, 4, 4))
    A = R @ R.transpose(0, 2, 1) + np.eye(4)
    b, w0 = rng.normal(size=(DRAWS, 4)), rng.normal(size=(DRAWS, 4))

    def grad(w):
        return (A @ w.reshape(DRAWS, 4, 1))[..., 0].reshape(-1) - b.reshape(-1)

    w_ref, v_ref, expected = w0.reshape(-1).copy(), np.zeros(4 * DRAWS), [w0.reshape(-1).copy()]
    for _ in range(12):
        v_ref = 0.7 * v_ref - 0.02 * grad(w_ref)
        w_ref = w_ref + v_ref
        expected.append(w_ref.copy())
    check_close(ns["momentum_by_hand"](grad, w0.reshape(-1), 0.02, 0.7, 12), np.array(expected), rtol=1e-10, atol=1e-12, quiet=True)
    one = ns["momentum_by_hand"](grad, w0.reshape(-1), 0.02, 0.0, 1)[1]
    check_close(one, w0.reshape(-1) - 0.02 * grad(w0.reshape(-1)), rtol=1e-10, quiet=True)


def test_03_momentum_with_keras_on_1000_random_quadratics():
    """test_momentum_keras's hidden check (diagonal 3-d quadratic, 15 steps, momentum 0.5): float32 Keras against
    keras.optimizers.SGD run directly and the float64 update rule, rtol 1e-5, atol 1e-6."""
    import keras

    ns = key("03_mlp", "momentum")
    rng = np.random.default_rng(30_002)
    a = rng.uniform(0.5, 3.0, size=3 * DRAWS)  # the diagonals of 1,000 matrices, side by side
    w0 = rng.normal(size=3 * DRAWS)

    def grad(w):
        return a * np.array(w, dtype=np.float64)

    mine = np.asarray(ns["momentum_with_keras"](grad, w0, 0.1, 0.5, 15))
    var, opt = keras.Variable(w0.astype("float32")), keras.optimizers.SGD(learning_rate=0.1, momentum=0.5)
    ref_keras = [np.array(var.numpy())]
    for _ in range(15):
        opt.apply_gradients([(np.asarray(a * np.array(var.numpy(), dtype=np.float64), dtype="float32"), var)])
        ref_keras.append(np.array(var.numpy()))
    w, v, ref_hand = w0.copy(), np.zeros_like(w0), [w0.copy()]
    for _ in range(15):
        v = 0.5 * v - 0.1 * a * w
        w = w + v
        ref_hand.append(w.copy())
    check_close(mine, np.array(ref_keras), rtol=1e-5, atol=1e-6, quiet=True)
    check_close(mine, np.array(ref_hand), rtol=1e-5, atol=1e-6, quiet=True)


def test_03_top_confusions_on_1000_label_draws():
    ns = key("03_mlp", "confusions")
    rng = np.random.default_rng(30_003)
    for _ in range(DRAWS):
        n_classes, n = int(rng.integers(2, 11)), int(rng.integers(1, 400))
        yt, yp = rng.integers(0, n_classes, n), rng.integers(0, n_classes, n)
        k = int(rng.integers(1, 12))
        counts = {}
        for t, p in zip(yt.tolist(), yp.tolist(), strict=True):
            if t != p:
                counts[(t, p)] = counts.get((t, p), 0) + 1
        expected = sorted(((t, p, c) for (t, p), c in counts.items()), key=lambda r: (-r[2], r[0], r[1]))[:k]
        assert ns["top_confusions"](yt, yp, k=k, n_classes=n_classes) == expected


# ------------------------------------------------------------------------------------------------ 04


def _conv_case(rng, n_range, c_range, k_range, h_high, filters=(1, 2, 3, 5)):
    N, C, K = int(rng.integers(*n_range)), int(rng.integers(*c_range)), int(rng.integers(*k_range))
    F, S, P = int(rng.choice(filters)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
    H, W = int(rng.integers(max(F - 2 * P, 1), h_high)), int(rng.integers(max(F - 2 * P, 1), h_high))
    return rng.normal(size=(N, H, W, C)), rng.normal(size=(F, F, C, K)), rng.normal(size=K), S, P


def test_04_output_size_and_parameter_count_against_keras():
    from keras import layers

    ns = key("04_cnn", "arithmetic")
    rng = np.random.default_rng(40_001)
    size_layers, count_layers = {}, {}
    for _ in range(DRAWS):
        F, S, P = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
        W = int(rng.integers(F, 30))
        layer = size_layers.setdefault((F, S), layers.Conv2D(2, F, strides=S, padding="valid"))
        assert ns["conv_output_size"](W, F, S, P) == layer.compute_output_shape((None, W + 2 * P, W + 2 * P, 1))[1]
        F, C, K = int(rng.integers(1, 8)), int(rng.integers(1, 20)), int(rng.integers(1, 50))
        if (F, C, K) not in count_layers:
            layer = layers.Conv2D(K, F)
            layer.build((None, 32, 32, C))
            count_layers[(F, C, K)] = layer.count_params()
        assert ns["conv_param_count"](F, C, K) == count_layers[(F, C, K)]


def test_04_conv_forward_naive_and_im2col_against_tf():
    import tensorflow as tf

    ns = key("04_cnn", "conv_naive", "im2col")
    rng = np.random.default_rng(40_002)
    for _ in range(DRAWS):
        xh, wh, bh, S, P = _conv_case(rng, (1, 4), (1, 4), (1, 5), 11)
        ref = tf.nn.conv2d(xh, wh, strides=S, padding=[[0, 0], [P, P], [P, P], [0, 0]]).numpy() + bh
        check_close(ns["conv_forward_naive"](xh, wh, bh, stride=S, pad=P)[0], ref, rtol=1e-9, atol=1e-11, quiet=True)
        xh, wh, bh, S, P = _conv_case(rng, (1, 5), (1, 5), (1, 7), 16)
        ref = tf.nn.conv2d(xh, wh, strides=S, padding=[[0, 0], [P, P], [P, P], [0, 0]]).numpy() + bh
        check_close(ns["conv_forward_im2col"](xh, wh, bh, stride=S, pad=P)[0], ref, rtol=1e-9, atol=1e-11, quiet=True)
        x32, w32 = rng.normal(size=(2, 9, 9, 3)).astype(np.float32), rng.normal(size=(3, 3, 3, 5)).astype(np.float32)
        ref32 = tf.nn.conv2d(x32, w32, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]).numpy()
        check_close(ns["conv_forward_im2col"](x32, w32, np.zeros(5, np.float32), 1, 1)[0], ref32, rtol=1e-4, atol=1e-4, quiet=True)


def test_04_im2col_against_the_reference_rows():
    ns = key("04_cnn", "im2col")
    rng = np.random.default_rng(40_003)
    for _ in range(DRAWS):
        N, C, F, S, P = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.choice([1, 2, 3])), int(rng.integers(1, 4)), int(rng.integers(0, 3))
        H, W = int(rng.integers(F, 10)), int(rng.integers(F, 10))
        xh = rng.normal(size=(N, H, W, C))
        Ho, Wo = (H - F + 2 * P) // S + 1, (W - F + 2 * P) // S + 1
        xph = np.pad(xh, ((0, 0), (P, P), (P, P), (0, 0)))
        ref = np.stack([xph[n, i * S : i * S + F, j * S : j * S + F, :].reshape(-1) for n in range(N) for i in range(Ho) for j in range(Wo)])
        check_close(ns["im2col"](xh, F, S, P), ref, quiet=True)


def _rounding_only_check(analytic, plus, minus, value, dout, h=1e-5, tol=1e-7):
    """check_gradient's criterion with only its rounding allowance (stricter than check_gradient)."""
    numeric = (plus - minus) / (2 * h)
    noise = ROUNDING_ULPS * EPS * float(np.sum(np.abs(value * dout))) / h
    error = excess_relative_error(analytic, numeric, noise, noise_floor(numeric)).max()
    assert error < tol, f"relative error {error:.3g} beyond rounding"


def test_04_conv_backward_against_finite_differences_of_tf():
    import tensorflow as tf

    ns = key("04_cnn", "conv_naive", "im2col", "conv_backward")
    rng = np.random.default_rng(40_004)
    h = 1e-5
    for _ in range(DRAWS):
        N, C, K = int(rng.integers(2, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        F, S, P = int(rng.choice([1, 2, 3])), int(rng.integers(1, 4)), int(rng.integers(0, 3))
        H, W = int(rng.integers(max(F, 3), 8)), int(rng.integers(max(F, 3), 8))
        xh, wh, bh = rng.normal(size=(N, H, W, C)), rng.normal(size=(F, F, C, K)), rng.normal(size=K)
        Ho, Wo = (H - F + 2 * P) // S + 1, (W - F + 2 * P) // S + 1
        dh = rng.normal(size=(N, Ho, Wo, K))
        pad = [[0, 0], [P, P], [P, P], [0, 0]]
        dx, dw, db = ns["conv_backward"](dh, (xh, wh, bh, S, P))
        value = tf.nn.conv2d(xh, wh, strides=S, padding=pad).numpy() + bh

        def scalars_x(stack):  # stack (B, N, H, W, C) -> sum(f(x_b) * dout) for each b
            out = tf.nn.conv2d(stack.reshape(-1, H, W, C), wh, strides=S, padding=pad).numpy() + bh
            return np.sum((out.reshape(len(stack), N, Ho, Wo, K) * dh).reshape(len(stack), -1), axis=1)

        def scalars_w(stack):  # stack (B, F, F, C, K): the filters side by side as B * K output channels
            B = len(stack)
            out = tf.nn.conv2d(xh, stack.transpose(1, 2, 3, 0, 4).reshape(F, F, C, B * K), strides=S, padding=pad).numpy()
            out = out.reshape(N, Ho, Wo, B, K) + bh
            return np.einsum("nijbk,nijk->b", out, dh)

        def scalars_b(stack):
            return np.einsum("nijbk,nijk->b", tf.nn.conv2d(xh, wh, strides=S, padding=pad).numpy()[:, :, :, None, :] + stack, dh)

        for param, analytic, scalars in [(xh, dx, scalars_x), (wh, dw, scalars_w), (bh, db, scalars_b)]:
            eye = np.eye(param.size).reshape((param.size, *param.shape))
            plus = scalars(param + h * eye).reshape(param.shape)
            minus = scalars(param - h * eye).reshape(param.shape)
            _rounding_only_check(analytic, plus, minus, value, dh, h=h)


def test_04_maxpool_forward_and_backward_against_tf():
    import tensorflow as tf

    ns = key("04_cnn", "maxpool")
    rng = np.random.default_rng(40_005)
    for _ in range(DRAWS):
        pool, S = int(rng.choice([2, 3])), int(rng.integers(1, 4))
        N, C, H, W = int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(pool, 12)), int(rng.integers(pool, 12))
        x32 = rng.normal(size=(N, H, W, C)).astype(np.float32)
        ref = tf.nn.max_pool2d(x32, ksize=pool, strides=S, padding="VALID").numpy()  # what keras.layers.MaxPooling2D computes
        check_close(ns["maxpool_forward"](x32, pool=pool, stride=S)[0], ref, quiet=True)
        xh = rng.normal(size=(N, H, W, C))
        Ho, Wo = (H - pool) // S + 1, (W - pool) // S + 1
        dh = rng.normal(size=(N, Ho, Wo, C))
        xv = tf.constant(xh)
        with tf.GradientTape() as tape:
            tape.watch(xv)
            yv = tf.nn.max_pool2d(xv, ksize=pool, strides=S, padding="VALID")
        grad = tape.gradient(yv, xv, output_gradients=tf.constant(dh)).numpy()
        check_close(ns["maxpool_backward"](dh, (xh, pool, S)), grad, rtol=1e-10, atol=1e-12, quiet=True)


def test_04_sparse_conv_against_tf_on_the_masked_kernel():
    """test_connection_mask's and test_sparse_conv's hidden checks: random tables, strides and paddings."""
    import tensorflow as tf

    ns = key("04_cnn", "conv_naive", "im2col", "c3_table")
    rng = np.random.default_rng(40_006)
    for _ in range(DRAWS):
        N, C, K = int(rng.integers(1, 4)), int(rng.integers(1, 6)), int(rng.integers(1, 7))
        F, S, P = int(rng.choice([1, 2, 3])), int(rng.integers(1, 3)), int(rng.integers(0, 2))
        H, W = int(rng.integers(F, 10)), int(rng.integers(F, 10))
        table = [tuple(int(c) for c in rng.permutation(C)[: int(rng.integers(1, C + 1))]) for _ in range(K)]
        mask = np.zeros((C, K), dtype=bool)
        for k, inputs in enumerate(table):
            mask[list(inputs), k] = True
        assert np.array_equal(np.asarray(ns["connection_mask"](table, C), dtype=bool), mask)
        xh, wh, bh = rng.normal(size=(N, H, W, C)), rng.normal(size=(F, F, C, K)), rng.normal(size=K)
        ref = tf.nn.conv2d(xh, wh * mask[None, None], strides=S, padding=[[0, 0], [P, P], [P, P], [0, 0]]).numpy() + bh
        check_close(ns["sparse_conv_forward"](xh, wh, bh, table, stride=S, pad=P)[0], ref, rtol=1e-9, atol=1e-11, quiet=True)

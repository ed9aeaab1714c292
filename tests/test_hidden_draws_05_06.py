"""The hidden numerical checks of 05 and 06 on 1,000 random draws: the answer key must pass every one.

A hidden test sees one draw of its inputs; a tolerance that the answer key passes there by luck would
fail a correct student on another machine. Each test below repeats one hidden check, with the same
tolerance, on 1,000 draws of the hidden inputs' shapes and scales, using the answer key's own
functions (loaded from the source notebook with ``autograder.verdicts``' loader).

To stay fast the Keras references are computed for many draws in one call, which changes nothing in
the arithmetic of each draw: batch normalization normalizes every channel on its own, so draws are
laid side by side as channels; a recurrent layer with block-diagonal weights runs independent
networks side by side (checked against the per-draw reference on a few draws). The check that does
not need many draws, ``generalization_gap`` on hand-made models, has no random input: its expected
values are exact.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from autograder.checks import check_close, check_gradient
from autograder.checks.rnn import RecurrentProblem, check_rnn_outputs, keras_outputs, make_recurrent_problem
from autograder.verdicts import load_suite, python_source, setup_namespace

DRAWS = 1000


@functools.cache
def key(assignment: str, *cells: str) -> dict:
    """The namespace after the setup cells and the answer key's ``cells`` (grade ids)."""
    suite = load_suite(assignment)
    namespace = setup_namespace(suite)
    for grade_id in cells:
        exec(compile(python_source(suite.cells[grade_id]), f"<{assignment}:{grade_id}>", "exec"), namespace)
    return namespace


# ----------------------------------------------------------------------------------------- 05: dropout


def test_dropout_forward_hidden_checks_on_1000_draws():
    dropout_forward = key("05_regularization", "dropout")["dropout_forward"]
    rng = np.random.default_rng(50_001)
    for _ in range(DRAWS):
        rate = float(rng.uniform(0.05, 0.9))
        xh = rng.normal(loc=rng.uniform(-3, 3), scale=rng.uniform(0.3, 3), size=(300, 300))
        seed = int(rng.integers(2**32))
        outh, _ = dropout_forward(xh, rate, True, np.random.default_rng(seed))
        kept = outh != 0
        assert abs(kept.mean() - (1 - rate)) < 0.015, (rate, kept.mean())
        assert np.allclose(outh[kept], xh[kept] / (1 - rate), rtol=1e-5, atol=1e-8)  # check_close's test, without its messages
        tol = np.sqrt(np.log(2e10) * np.sum(xh**2) / 2) / (xh.size * (1 - rate))
        assert abs(outh.mean() - xh.mean()) < tol, (rate, outh.mean(), xh.mean(), tol)


def test_dropout_visible_statistics_on_1000_draws():
    """The visible tests' fractions (200,000 entries at rate 0.3; 100,000 at 0.25) over 1,000 masks."""
    dropout_forward = key("05_regularization", "dropout")["dropout_forward"]
    rng = np.random.default_rng(50_002)
    ones = np.ones((500, 400))
    for _ in range(DRAWS):
        out, _ = dropout_forward(ones, 0.3, True, np.random.default_rng(int(rng.integers(2**32))))
        assert abs(np.mean(out == 0) - 0.3) < 0.0075 and abs(out.mean() - 1.0) < 0.011


def test_dropout_backward_hidden_checks_on_1000_draws():
    ns = key("05_regularization", "dropout")
    dropout_forward, dropout_backward = ns["dropout_forward"], ns["dropout_backward"]
    rng = np.random.default_rng(50_003)
    for _ in range(DRAWS):
        shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        rate = float(rng.uniform(0.05, 0.9))
        scale = float(rng.uniform(0.1, 10))
        xh, dh = rng.normal(scale=scale, size=shape), rng.normal(size=shape)
        mask_h = (rng.random(shape) >= rate) / (1 - rate)
        check_close(dropout_backward(dh, (mask_h, rate, True)), dh * mask_h, name="given cache", quiet=True)
        seed = int(rng.integers(2**32))
        _, cacheh = dropout_forward(xh, rate, True, np.random.default_rng(seed))
        check_gradient(
            lambda x_: dropout_forward(x_, rate, True, np.random.default_rng(seed))[0],
            xh,
            dropout_backward(dh, cacheh),
            dout=dh,
            name="dropout gradient",
            quiet=True,
        )


# ----------------------------------------------------------------------------------------- 05: batch norm


@pytest.mark.parametrize("lead", [(8, 6, 6), (5,), (3, 4, 4), (16,)])
def test_batchnorm_hidden_checks_on_1000_draws(lead):
    """250 draws per leading shape (1,000 in all), each with its own channel count, weights and scales."""
    import keras

    batchnorm_forward = key("05_regularization", "batchnorm")["batchnorm_forward"]
    rng = np.random.default_rng(50_004 + len(lead) * 100 + lead[0])
    draws = []
    for _ in range(DRAWS // 4):
        C = int(rng.integers(1, 6))
        loc, scale = rng.uniform(-5, 5, size=C), rng.uniform(0.05, 5, size=C)
        draws.append(
            {
                "C": C,
                "gamma": rng.normal(size=C),
                "beta": rng.normal(size=C),
                "x": [loc + scale * rng.normal(size=(*lead, C)) for _ in range(2)],
                "mean_run": rng.normal(size=C),
                "var_run": rng.uniform(0.5, 2, size=C),
                "x_inf": rng.normal(size=(*lead, C)),
                "eps": float(rng.choice([1e-3, 1e-2, 1e-5])),
                "momentum": float(rng.choice([0.99, 0.9, 0.5])),
            }
        )
    lambda key_, i=None: np.concatenate([d[key_] if i is None else d[key_][i] for d in draws], axis=-1)
    total = sum(d["C"] for d in draws)
    # Keras takes one eps and momentum per layer: draws are grouped by (eps, momentum) below
    for eps in (1e-3, 1e-2, 1e-5):
        for momentum in (0.99, 0.9, 0.5):
            group = [d for d in draws if d["eps"] == eps and d["momentum"] == momentum]
            if not group:
                continue
            gcat = lambda key_, i=None: np.concatenate([d[key_] if i is None else d[key_][i] for d in group], axis=-1)
            width = sum(d["C"] for d in group)
            layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=eps, dtype="float64")
            layer.build((None, *lead[1:], width))
            layer.set_weights([gcat("gamma"), gcat("beta"), np.zeros(width), np.ones(width)])
            states = [{"running_mean": np.zeros(d["C"]), "running_var": np.ones(d["C"])} for d in group]
            for step in range(2):
                expected = np.asarray(layer(gcat("x", step), training=True))
                ours = np.concatenate(
                    [
                        batchnorm_forward(d["x"][step], d["gamma"], d["beta"], st, True, momentum=momentum, eps=eps)[0]
                        for d, st in zip(group, states, strict=False)
                    ],
                    axis=-1,
                )
                check_close(ours, expected, rtol=1e-6, atol=1e-8, name=f"training output {lead}", quiet=True)
            check_close(
                np.concatenate([s["running_mean"] for s in states]), layer.moving_mean.numpy(), rtol=1e-6, atol=1e-10, name="running mean", quiet=True
            )
            check_close(
                np.concatenate([s["running_var"] for s in states]),
                layer.moving_variance.numpy(),
                rtol=1e-6,
                atol=1e-10,
                name="running variance",
                quiet=True,
            )
            layer.set_weights([gcat("gamma"), gcat("beta"), gcat("mean_run"), gcat("var_run")])
            expected = np.asarray(layer(gcat("x_inf"), training=False))
            ours = np.concatenate(
                [
                    batchnorm_forward(
                        d["x_inf"],
                        d["gamma"],
                        d["beta"],
                        {"running_mean": d["mean_run"].copy(), "running_var": d["var_run"].copy()},
                        False,
                        momentum=momentum,
                        eps=eps,
                    )[0]
                    for d in group
                ],
                axis=-1,
            )
            check_close(ours, expected, rtol=1e-6, atol=1e-8, name=f"inference output {lead}", quiet=True)
    assert total > 0


def test_mc_dropout_hidden_check_on_1000_draws():
    """Without dropout the mean of T identical float32 passes is that pass (rtol 1e-5, atol 1e-6).

    A NumPy stand-in for the Keras model returns what Keras returns here (float32 softmax
    probabilities), so 1,000 draws take well under a second.
    """
    mc_dropout_predict = key("05_regularization", "mc_dropout")["mc_dropout_predict"]
    rng = np.random.default_rng(50_005)
    for _ in range(DRAWS):
        N, D, K, T = (int(v) for v in rng.integers([1, 1, 2, 1], [12, 60, 11, 12]))
        W = rng.normal(scale=rng.uniform(0.01, 3), size=(D, K)).astype(np.float32)

        def plain(x, training=False, W=W):
            z = np.asarray(x, dtype=np.float32) @ W
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

        x = rng.normal(size=(N, D)).astype(np.float32)
        check_close(mc_dropout_predict(plain, x, T), plain(x), rtol=1e-5, atol=1e-6, name="a model without dropout", quiet=True)


def _reference_bn(x, gamma, beta, eps):
    """The forward pass the hidden test of ``batchnorm_backward`` writes, to make the cache it hands the student."""
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x_hat, gamma, mean, var, eps)


@pytest.mark.parametrize("lead", [(16,), (5, 4, 4), (7,), (2, 3, 3)])
def test_batchnorm_backward_hidden_check_on_1000_draws(lead):
    """The key's gradients against Keras's (a tape on ``BatchNormalization``, training mode, float64; rtol 1e-6, atol 1e-9).

    250 draws per leading shape of the hidden test (1,000 in all), each with its own channel count, location, scale,
    weights, upstream gradient and epsilon; laid side by side as channels, one tape per epsilon.
    """
    import keras
    import tensorflow as tf

    batchnorm_backward = key("05_regularization", "batchnorm_backward")["batchnorm_backward"]
    rng = np.random.default_rng(50_006 + len(lead) * 100 + lead[0])
    draws = []
    for _ in range(DRAWS // 4):
        C = int(rng.integers(1, 6))
        x = rng.uniform(-3, 3, size=C) + rng.uniform(0.2, 4, size=C) * rng.normal(size=(*lead, C))
        draws.append((x, rng.normal(size=C), rng.normal(size=C), rng.normal(size=(*lead, C)), float(rng.choice([1e-3, 1e-2, 1e-5]))))
    checked = 0
    for eps in (1e-3, 1e-2, 1e-5):
        group = [d for d in draws if d[4] == eps]
        x, gamma, beta, dout = (np.concatenate([d[i] for d in group], axis=-1) for i in range(4))
        layer = keras.layers.BatchNormalization(epsilon=eps, dtype="float64")
        layer.build(x.shape)
        layer.set_weights([gamma, beta, np.zeros(x.shape[-1]), np.ones(x.shape[-1])])
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            loss = tf.reduce_sum(layer(xt, training=True) * dout)
        dx, dgamma, dbeta = (np.asarray(g) for g in tape.gradient(loss, [xt, layer.gamma, layer.beta]))
        start = 0
        for xh, gh, bh, dh, _ in group:
            c = slice(start, start + xh.shape[-1])
            start += xh.shape[-1]
            dxh, dgh, dbh = batchnorm_backward(dh, _reference_bn(xh, gh, bh, eps)[1])
            check_close(dbh, dbeta[c], rtol=1e-6, atol=1e-9, name="dbeta", quiet=True)
            check_close(dgh, dgamma[c], rtol=1e-6, atol=1e-9, name="dgamma", quiet=True)
            check_close(dxh, dx[..., c], rtol=1e-6, atol=1e-9, name="dx", quiet=True)
            checked += 1
    assert checked == DRAWS // 4


def test_batchnorm_backward_visible_gradient_checks_on_1000_draws():
    """The visible test's finite-difference checks (tol 1e-7, noise-aware) on 1,000 random inputs: never a false failure."""
    batchnorm_backward = key("05_regularization", "batchnorm_backward")["batchnorm_backward"]
    rng = np.random.default_rng(50_007)
    for _ in range(DRAWS):
        lead = (int(rng.integers(2, 13)),) if rng.random() < 0.5 else tuple(int(s) for s in rng.integers(1, 5, size=3))
        lead = (max(lead[0], 2), *lead[1:])
        C = int(rng.integers(1, 5))
        x = rng.uniform(-5, 5, size=C) + rng.uniform(0.1, 5, size=C) * rng.normal(size=(*lead, C))
        gamma, beta, dout = rng.normal(size=C), rng.normal(size=C), rng.normal(size=(*lead, C))
        dx, dgamma, dbeta = batchnorm_backward(dout, _reference_bn(x, gamma, beta, 1e-3)[1])
        check_gradient(lambda b_: _reference_bn(x, gamma, b_, 1e-3)[0], beta.copy(), dbeta, dout=dout, name="dbeta", quiet=True)
        check_gradient(lambda g_: _reference_bn(x, g_, beta, 1e-3)[0], gamma.copy(), dgamma, dout=dout, name="dgamma", quiet=True)
        check_close(dx.sum(axis=tuple(range(x.ndim - 1))), np.zeros(C), atol=1e-9, name="dx sums to 0", quiet=True)
        check_gradient(lambda x_: _reference_bn(x_, gamma, beta, 1e-3)[0], x.copy(), dx, dout=dout, name="dx", quiet=True)


# ----------------------------------------------------------------------------------------- 05: MC dropout uncertainty


def _entropy_reference(probs):
    """The hidden test's reference: in bits, converted to nats."""
    p = np.asarray(probs, dtype=np.float64).mean(axis=0)
    return -np.sum(p * np.log2(p, out=np.zeros_like(p), where=p > 0), axis=-1) * np.log(2)


def test_predictive_entropy_hidden_checks_on_1000_draws():
    """float64 with exact zeros (rtol 1e-7, atol 1e-10) and float32 (rtol 1e-4, atol 1e-6), as the hidden test draws them."""
    predictive_entropy = key("05_regularization", "predictive_entropy")["predictive_entropy"]
    rng = np.random.default_rng(50_008)
    for _ in range(DRAWS):
        T, N, C = int(rng.integers(1, 51)), int(rng.integers(1, 41)), int(rng.integers(2, 11))
        ph = rng.dirichlet(np.full(C, rng.uniform(0.05, 2.0)), size=(T, N))
        ph[ph < 1e-3] = 0.0
        ph /= ph.sum(axis=-1, keepdims=True)
        check_close(predictive_entropy(ph), _entropy_reference(ph), rtol=1e-7, atol=1e-10, name="float64", quiet=True)
        p32 = rng.dirichlet(np.ones(C), size=(T, N)).astype(np.float32)
        check_close(predictive_entropy(p32), _entropy_reference(p32), rtol=1e-4, atol=1e-6, name="float32", quiet=True)


def test_decile_accuracy_hidden_checks_on_1000_draws():
    decile_accuracy = key("05_regularization", "decile_accuracy")["decile_accuracy"]
    rng = np.random.default_rng(50_009)
    for _ in range(DRAWS):
        n = 10 * int(rng.integers(1, 201))
        u = rng.gamma(rng.uniform(0.5, 3.0), size=n)
        right = rng.random(n) < 1 / (1 + u)
        rank = np.empty(n, dtype=int)
        rank[np.argsort(u, kind="stable")] = np.arange(n)
        expected = np.array([right[rank // (n // 10) == k].mean() for k in range(10)])
        check_close(decile_accuracy(u, right), expected, atol=1e-12, name="bool", quiet=True)
        check_close(decile_accuracy(u, right.astype(int)), expected, atol=1e-12, name="0/1", quiet=True)


# ----------------------------------------------------------------------------------------- 06: recurrent cells


def _side_by_side(problems: list[RecurrentProblem]) -> tuple[RecurrentProblem, list[tuple[int, int]]]:
    """One problem running every problem's network at once: block-diagonal weights, inputs and states side by side.

    All problems share kind, batch and timesteps. Returns the big problem and each one's (offset, units).
    """
    kind, (_B, _T, _) = problems[0].kind, problems[0].x.shape
    k = 4 if kind == "lstm" else 1
    D, N = sum(p.x.shape[2] for p in problems), sum(p.units for p in problems)
    W, U, b = np.zeros((D, k * N)), np.zeros((N, k * N)), np.zeros(k * N)
    spans, od, on = [], 0, 0
    for p in problems:
        d, n = p.x.shape[2], p.units
        for g in range(k):
            cols = slice(g * N + on, g * N + on + n)
            W[od : od + d, cols] = p.kernel[:, g * n : (g + 1) * n]
            U[on : on + n, cols] = p.recurrent_kernel[:, g * n : (g + 1) * n]
            b[cols] = p.bias[g * n : (g + 1) * n]
        spans.append((on, n))
        od, on = od + d, on + n
    big = RecurrentProblem(
        kind,
        np.concatenate([p.x for p in problems], axis=2),
        np.concatenate([p.h0 for p in problems], axis=1),
        np.concatenate([p.c0 for p in problems], axis=1) if kind == "lstm" else None,
        W,
        U,
        b,
    )
    return big, spans


def _draw_groups(kind, rng, batch_range, time_range, feature_range, unit_range):
    """DRAWS problems with random shapes (as the hidden tests draw them) and random scales, grouped by (batch, T)."""
    groups: dict[tuple[int, int], list[RecurrentProblem]] = {}
    for _ in range(DRAWS):
        B, T = int(rng.integers(*batch_range)), int(rng.integers(*time_range))
        d, n = int(rng.integers(*feature_range)), int(rng.integers(*unit_range))
        p = make_recurrent_problem(kind, batch=B, timesteps=T, features=d, units=n, seed=int(rng.integers(2**32)))
        scale = float(rng.uniform(0.25, 3))  # inputs from small to saturating
        groups.setdefault((B, T), []).append(RecurrentProblem(kind, p.x * scale, p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias))
    return groups


def _compare_groups(groups, run, outputs):
    checked = 0
    for problems in groups.values():
        big, spans = _side_by_side(problems)
        expected = keras_outputs(big)
        for p, (off, n) in zip(problems, spans, strict=False):
            ours = run(p)
            for name in outputs:
                check_close(ours[name], expected[name][..., off : off + n], rtol=1e-5, atol=1e-6, name=name, quiet=True)
            checked += 1
    assert checked == DRAWS


def test_side_by_side_reference_equals_the_per_draw_reference():
    rng = np.random.default_rng(60_000)
    for kind in ("lstm", "simple_rnn"):
        problems = [
            make_recurrent_problem(kind, batch=3, timesteps=5, features=int(rng.integers(1, 6)), units=int(rng.integers(1, 6)), seed=s)
            for s in range(4)
        ]
        big, spans = _side_by_side(problems)
        together = keras_outputs(big)
        for p, (off, n) in zip(problems, spans, strict=False):
            alone = keras_outputs(p)
            for name, value in alone.items():
                np.testing.assert_allclose(together[name][..., off : off + n], value, rtol=1e-12, atol=1e-14)


def test_simple_rnn_hidden_check_on_1000_draws():
    ns = key("06_lstm", "simple_rnn")
    groups = _draw_groups("simple_rnn", np.random.default_rng(60_011), (1, 6), (2, 10), (1, 8), (1, 9))

    def run(p):
        (h_seq, h_T), _ = ns["simple_rnn_forward"](p.x, p.h0, p.kernel, p.recurrent_kernel, p.bias)
        return {"h_seq": h_seq, "h_T": h_T}

    _compare_groups(groups, run, ("h_seq", "h_T"))


def test_lstm_step_hidden_checks_on_1000_draws():
    ns = key("06_lstm", "sigmoid", "lstm_step")
    groups = _draw_groups("lstm", np.random.default_rng(60_021), (1, 7), (1, 2), (1, 9), (1, 9))

    def run(p):
        n = p.units
        (h_next, c_next), cache = ns["lstm_step"](p.x[:, 0], p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias)
        z = p.x[:, 0] @ p.kernel + p.h0 @ p.recurrent_kernel + p.bias
        check_close(cache["f"], 1 / (1 + np.exp(-z[:, n : 2 * n])), rtol=1e-6, name="cache['f']", quiet=True)
        check_close(cache["g"], np.tanh(z[:, 2 * n : 3 * n]), rtol=1e-6, name="cache['g']", quiet=True)
        return {"h_T": h_next, "c_T": c_next}

    _compare_groups(groups, run, ("h_T", "c_T"))


def test_lstm_forward_hidden_check_on_1000_draws():
    ns = key("06_lstm", "sigmoid", "lstm_step", "lstm_forward")
    groups = _draw_groups("lstm", np.random.default_rng(60_031), (1, 6), (2, 12), (1, 8), (1, 9))

    def run(p):
        (h_seq, h_T, c_T), caches = ns["lstm_forward"](p.x, p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias)
        assert len(caches) == p.x.shape[1]
        return {"h_seq": h_seq, "h_T": h_T, "c_T": c_T}

    _compare_groups(groups, run, ("h_seq", "h_T", "c_T"))


def test_a_few_draws_through_check_rnn_outputs_itself():
    ns = key("06_lstm", "sigmoid", "lstm_step", "lstm_forward")
    for seed in range(5):
        p = make_recurrent_problem("lstm", batch=3, timesteps=6, features=4, units=5, seed=600 + seed)
        (h_seq, h_T, c_T), _ = ns["lstm_forward"](p.x, p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias)
        check_rnn_outputs({"h_seq": h_seq, "h_T": h_T, "c_T": c_T}, p, quiet=True)


# ----------------------------------------------------------------------------------------- 06: gradient norms


def test_gradient_norms_hidden_check_on_1000_draws():
    """The key against the hidden test's reference, a tape on the model (rtol 1e-4, atol 1e-7), on random LSTMs and inputs.

    The models are compiled once per feature count (``tf.function`` with free batch and time axes) so
    that 1,000 draws take seconds; the key and the reference call the same compiled model.
    """
    import keras
    import tensorflow as tf

    input_gradient_norms = key("06_lstm", "gradient_norms")["input_gradient_norms"]
    rng = np.random.default_rng(60_051)
    compiled = {}
    for d in (1, 2, 3, 5):
        model = keras.Sequential([keras.Input(shape=(None, d)), keras.layers.LSTM(4), keras.layers.Dense(1)])
        fn = tf.function(lambda x, model=model: model(x), input_signature=[tf.TensorSpec((None, None, d), tf.float32)])
        compiled[d] = (model, fn)
    checked = 0
    for _ in range(DRAWS // 25):  # 40 models (random weights), 25 inputs each; the reference takes all 25 in one batch
        d = int(rng.choice(list(compiled)))
        model, fn = compiled[d]
        model.set_weights([rng.normal(scale=rng.uniform(0.1, 1.5), size=w.shape).astype("float32") for w in model.get_weights()])
        T = int(rng.integers(2, 13))
        inputs = [rng.normal(scale=rng.uniform(0.1, 3), size=(int(rng.integers(1, 9)), T, d)).astype("float32") for _ in range(25)]
        xt = tf.constant(np.concatenate(inputs))
        with tf.GradientTape() as tape:  # examples are independent: each one's gradient involves its own prediction only
            tape.watch(xt)
            total = tf.reduce_sum(fn(xt))
        norms = np.sqrt((tape.gradient(total, xt).numpy() ** 2).sum(axis=-1))
        start = 0
        for xh in inputs:
            expected = norms[start : start + len(xh)].mean(axis=0)
            start += len(xh)
            check_close(input_gradient_norms(fn, xh), expected, rtol=1e-4, atol=1e-7, name="gradient norms", quiet=True)
            checked += 1
    assert checked == DRAWS

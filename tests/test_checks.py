import numpy as np
import pytest

from autograder.checks import (
    ArchitectureError,
    ArrayMismatch,
    GradientCheckError,
    check_accuracy,
    check_architecture,
    check_close,
    check_gradient,
    diagnose_gradient,
    gradient_check,
    numerical_gradient,
)
from autograder.checks.accuracy import AccuracyError, wilson_interval


def mse_problem(seed=0, N=8, D=3):
    rng = np.random.default_rng(seed)
    X, y, w = rng.normal(size=(N, D)), rng.normal(size=N), rng.normal(size=D)
    loss = lambda w: 0.5 * np.mean((X @ w - y) ** 2)
    grad = X.T @ (X @ w - y) / N
    return loss, w, grad, N


# ---------------------------------------------------------------- gradients


def test_numerical_gradient_of_array_valued_function():
    x = np.random.default_rng(1).normal(size=(3, 4))
    dout = np.random.default_rng(2).normal(size=(3, 4))
    assert np.allclose(numerical_gradient(np.tanh, x.copy(), dout=dout), dout * (1 - np.tanh(x) ** 2), atol=1e-8)


def test_correct_gradient_passes(capsys):
    loss, w, grad, N = mse_problem()
    assert check_gradient(loss, w, grad, name="mse") is None  # None: nbgrader must not read a partial-credit number
    assert "✓ mse" in capsys.readouterr().out
    assert gradient_check(loss, w, grad).max_relative_error < 1e-7


def test_gradient_missing_mean_is_diagnosed_as_batch_size():
    loss, w, grad, N = mse_problem(N=16)
    with pytest.raises(GradientCheckError, match=r"16x too large \(the batch size\): the mean over the batch is missing"):
        check_gradient(loss, w, grad * 16, batch_size=16)


def test_gradient_doubled_mean_is_diagnosed():
    loss, w, grad, N = mse_problem(N=16)
    with pytest.raises(GradientCheckError, match="taken twice"):
        check_gradient(loss, w, grad / 16, batch_size=16)


def test_gradient_sign_flip_is_diagnosed():
    loss, w, grad, N = mse_problem()
    with pytest.raises(GradientCheckError, match="wrong sign"):
        check_gradient(loss, w, -grad)


def test_transposed_gradient_is_diagnosed():
    rng = np.random.default_rng(5)
    A, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    f = lambda W: np.sum(np.sin(A @ W))
    grad = A.T @ np.cos(A @ W)  # (3, 5)
    with pytest.raises(GradientCheckError, match="transpose"):
        check_gradient(f, W, grad.T)
    Wsq = rng.normal(size=(3, 3))
    Asq = rng.normal(size=(3, 3))
    fsq = lambda W: np.sum(np.sin(Asq @ W))
    with pytest.raises(GradientCheckError, match="transpose"):
        check_gradient(fsq, Wsq, (Asq.T @ np.cos(Asq @ Wsq)).T)


def test_zero_and_none_gradients_are_diagnosed():
    loss, w, grad, N = mse_problem()
    with pytest.raises(GradientCheckError, match="all zeros"):
        check_gradient(loss, w, np.zeros_like(grad))
    with pytest.raises(GradientCheckError, match="None"):
        check_gradient(loss, w, None)


def test_other_constant_factor_and_unrelated_error():
    loss, w, grad, N = mse_problem()
    assert "constant factor 3" in diagnose_gradient(3 * grad, grad)
    wrong = grad + np.array([0.0, 0.3, 0.0])
    assert diagnose_gradient(wrong, grad) is None
    with pytest.raises(GradientCheckError, match=r"worst entry \(1,\)"):
        check_gradient(loss, w, wrong)


# ---------------------------------------------------------------- arrays


def test_check_close_messages():
    check_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-9]), quiet=True)
    assert check_close([1.0], [1.0], quiet=True) is None
    with pytest.raises(ArrayMismatch, match=r"shape \(2, 3\), expected \(3, 2\).*transpose"):
        check_close(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ArrayMismatch, match="NaN or inf"):
        check_close([np.nan, 1.0], [0.0, 1.0])
    with pytest.raises(ArrayMismatch, match=r"worst at index \(1,\): yours 2.5, expected 2"):
        check_close([1.0, 2.5], [1.0, 2.0])
    with pytest.raises(ArrayMismatch, match="forget to `return`"):
        check_close(None, [1.0])


# ---------------------------------------------------------------- architecture


@pytest.fixture(scope="module")
def keras():
    from autograder.runtime import quiet

    quiet()
    import keras

    return keras


def lenet_like(keras, padding):
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(6, 5, padding=padding, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


SPEC = [
    {"type": "Conv2D", "output_shape": (24, 24, 6), "params": 156, "filters": 6, "kernel_size": (5, 5), "padding": "valid", "activation": "relu"},
    {"type": "MaxPooling2D", "output_shape": (12, 12, 6), "pool_size": (2, 2)},
    {"type": "Flatten", "output_shape": (864,)},
    {"type": "Dense", "output_shape": (10,), "params": 8650, "units": 10, "activation": "softmax"},
]


def test_architecture_passes_for_matching_model(keras, capsys):
    check_architecture(lenet_like(keras, "valid"), SPEC, name="cnn")
    assert "4 layers match" in capsys.readouterr().out


def test_architecture_same_padding_is_caught_with_a_table(keras):
    with pytest.raises(ArchitectureError) as info:
        check_architecture(lenet_like(keras, "same"), SPEC)
    message = str(info.value)
    assert "layer 0 does not match" in message
    assert "output shape (28, 28, 6), expected (24, 24, 6)" in message and "padding='same', expected 'valid'" in message
    assert "<- first mismatch" in message.splitlines()[3]


def test_architecture_functional_model_missing_and_extra_layers(keras):
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(6, 5, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    check_architecture(keras.Model(inputs, outputs), SPEC, quiet=True)  # the InputLayer is skipped
    with pytest.raises(ArchitectureError, match="layer missing"):
        check_architecture(keras.Model(inputs, x), SPEC)
    extra = keras.layers.Dense(10)(outputs)
    with pytest.raises(ArchitectureError, match="extra layer Dense"):
        check_architecture(keras.Model(inputs, extra), SPEC)
    with pytest.raises(ArchitectureError, match="Did the function return the model"):
        check_architecture(None, SPEC)


def test_architecture_wrong_activation(keras):
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="sigmoid")])
    with pytest.raises(ArchitectureError, match="activation='sigmoid', expected 'relu'"):
        check_architecture(model, [{"type": "Dense", "units": 3, "activation": "relu"}])


# ---------------------------------------------------------------- accuracy


def test_wilson_interval_contains_estimate():
    low, high = wilson_interval(840, 1000)
    assert low < 0.84 < high and high - low < 0.05
    assert wilson_interval(0, 10)[0] == 0.0


def test_check_accuracy_threshold_and_label_formats(capsys):
    y = np.array([0, 1, 2, 2])
    probabilities = np.eye(3)[[0, 1, 2, 0]]
    result = check_accuracy(probabilities, None, y, threshold=0.75)
    assert result.accuracy == 0.75 and "95% interval" in capsys.readouterr().out
    check_accuracy(probabilities, None, np.eye(3)[y], threshold=0.7, quiet=True)
    with pytest.raises(AccuracyError, match="below the required 0.8000"):
        check_accuracy(probabilities, None, y, threshold=0.8)
    with pytest.raises(AccuracyError, match="Did the training cell run"):
        check_accuracy(None, None, y, threshold=0.5)


def test_check_accuracy_evaluates_a_keras_model(keras):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(200, 2)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="binary_crossentropy")
    model.fit(x, y, epochs=30, verbose=0)
    assert check_accuracy(model, x, y, threshold=0.9, quiet=True).accuracy >= 0.9


# ---------------------------------------------------------------- regression


def test_check_mse_ceiling_and_baseline(capsys):
    from autograder.checks import check_mse
    from autograder.checks.regression import MSEError

    y = np.array([[0.0], [1.0], [2.0], [3.0]])
    result = check_mse(y + 0.1, None, y, ceiling=0.02)
    assert abs(result.mse - 0.01) < 1e-12 and result.baseline == 1.25
    assert "predicting the mean scores 1.2500" in capsys.readouterr().out
    with pytest.raises(MSEError, match="above the allowed 0.0050"):
        check_mse(y + 0.1, None, y, ceiling=0.005)
    with pytest.raises(MSEError, match="predictions for targets"):
        check_mse(np.zeros(3), None, y, ceiling=1.0)


def test_report_mse_prints_and_records_without_asserting(capsys, tmp_path, monkeypatch):
    import json

    from autograder.checks import report_mse

    y = np.array([0.0, 1.0, 2.0, 3.0])
    log = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("DLCOURSE_METRICS", str(log))
    result = report_mse(np.full(4, 1.5), None, y, name="mean model", note="not graded")
    assert result.mse == result.baseline == 1.25  # far above any ceiling, and still no exception
    assert capsys.readouterr().out.strip() == "mean model 1.2500 (predicting the mean scores 1.2500; n=4) — not graded"
    entry = json.loads(log.read_text())
    assert entry["kind"] == "mse" and entry["name"] == "mean model" and entry["mse"] == 1.25 and entry["ceiling"] is None


def test_checks_report_metrics_only_when_asked(tmp_path, monkeypatch, keras):
    import json

    from autograder import metrics

    y = np.array([0, 1, 1, 0])
    check_accuracy(np.eye(2)[y], None, y, threshold=0.5, quiet=True)
    assert not metrics.enabled()
    log = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("DLCOURSE_METRICS", str(log))
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="softmax")])
    check_accuracy(model, np.zeros((4, 3)), np.zeros(4, dtype=int), threshold=0.0, name="acc", quiet=True)
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["kind"] == "accuracy" and entry["name"] == "acc" and entry["params"] == 8 and entry["accuracy"] == 1.0

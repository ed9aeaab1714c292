"""autograder.checks.rnn: hand-written recurrent cells against Keras, and the cuDNN conditions (no GPU needed)."""

import numpy as np
import pytest

from autograder.runtime import quiet

quiet()

import keras  # noqa: E402

from autograder.checks import ArrayMismatch  # noqa: E402
from autograder.checks.rnn import (  # noqa: E402
    CudnnIncompatible,
    RecurrentMismatch,
    check_cudnn_compatible,
    check_rnn_outputs,
    cudnn_blockers,
    diagnose_recurrent,
    gpu_visible,
    keras_outputs,
    lstm_reference,
    make_recurrent_problem,
    simple_rnn_reference,
)

pytestmark = pytest.mark.tensorflow


# ---------------------------------------------------------------- the references agree with Keras


@pytest.mark.parametrize("shape", [(3, 5, 4, 6), (1, 1, 1, 1), (2, 9, 7, 3)])
def test_numpy_lstm_reference_is_keras(shape):
    problem = make_recurrent_problem("lstm", *shape, seed=sum(shape))
    expected = keras_outputs(problem)
    assert set(expected) == {"h_seq", "h_T", "c_T"}
    for key, value in lstm_reference(problem).items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-12, atol=1e-12)


def test_numpy_simple_rnn_reference_is_keras():
    problem = make_recurrent_problem("simple_rnn", 2, 6, 3, 4, seed=1)
    expected = keras_outputs(problem)
    assert set(expected) == {"h_seq", "h_T"} and problem.c0 is None
    for key, value in simple_rnn_reference(problem).items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-12, atol=1e-12)


def test_problem_shapes_follow_keras_layout():
    p = make_recurrent_problem("lstm", batch=2, timesteps=3, features=5, units=4)
    assert p.x.shape == (2, 3, 5) and p.h0.shape == p.c0.shape == (2, 4)
    assert p.kernel.shape == (5, 16) and p.recurrent_kernel.shape == (4, 16) and p.bias.shape == (16,)
    with pytest.raises(ValueError):
        make_recurrent_problem("gru", 1, 1, 1, 1)


# ---------------------------------------------------------------- check_rnn_outputs and its diagnoses


def test_correct_outputs_pass(capsys):
    p = make_recurrent_problem("lstm", 3, 4, 2, 5, seed=3)
    assert check_rnn_outputs(lstm_reference(p), p, name="lstm") is None  # None: nbgrader must not read partial credit
    assert "✓ lstm: h_seq, h_T, c_T match Keras" in capsys.readouterr().out


def test_one_step_is_checked_with_a_one_step_problem():
    p = make_recurrent_problem("lstm", 4, 1, 3, 2, seed=4)
    ref = lstm_reference(p)
    check_rnn_outputs({"h_T": ref["h_T"], "c_T": ref["c_T"]}, p, quiet=True)


@pytest.mark.parametrize("order", ["icfo", "ifoc", "fico", "oifc"])
def test_gate_order_is_diagnosed(order):
    p = make_recurrent_problem("lstm", 3, 4, 2, 5, seed=5)
    wrong = lstm_reference(p, order=order)
    with pytest.raises(RecurrentMismatch, match=f"gate order {', '.join(order)}; Keras stores .*\\[i \\| f \\| c \\| o\\]"):
        check_rnn_outputs(wrong, p, name="lstm")


def test_gate_order_is_diagnosed_from_one_step():
    p = make_recurrent_problem("lstm", 3, 1, 4, 5, seed=0)
    wrong = lstm_reference(p, order="icfo")
    with pytest.raises(RecurrentMismatch, match="gate order i, c, f, o"):
        check_rnn_outputs({"h_T": wrong["h_T"], "c_T": wrong["c_T"]}, p)


def test_other_lstm_mistakes_are_diagnosed():
    p = make_recurrent_problem("lstm", 3, 4, 2, 5, seed=6)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))
    with pytest.raises(RecurrentMismatch, match="candidate uses a sigmoid"):
        check_rnn_outputs(lstm_reference(p, candidate=sigmoid), p)
    with pytest.raises(RecurrentMismatch, match=r"missing the tanh: the new hidden state is o \* tanh"):
        check_rnn_outputs(lstm_reference(p, squash_cell=False), p)


def test_simple_rnn_without_tanh_is_diagnosed():
    p = make_recurrent_problem("simple_rnn", 2, 3, 4, 5, seed=7)
    with pytest.raises(RecurrentMismatch, match="the tanh is missing"):
        check_rnn_outputs(simple_rnn_reference(p, activation=lambda z: z), p)


def test_unknown_mistake_has_no_diagnosis_but_still_fails():
    p = make_recurrent_problem("lstm", 2, 3, 2, 3, seed=8)
    noisy = {k: v + 0.1 for k, v in lstm_reference(p).items()}
    assert diagnose_recurrent(noisy, p) is None
    with pytest.raises(RecurrentMismatch) as info:
        check_rnn_outputs(noisy, p)
    assert "Likely cause" not in str(info.value) and "differ by more than" in str(info.value)


def test_shape_and_none_are_reported():
    p = make_recurrent_problem("lstm", 2, 3, 2, 3, seed=9)
    ref = lstm_reference(p)
    with pytest.raises(ArrayMismatch, match=r"shape \(2, 3, 3\), expected \(2, 3\)"):
        check_rnn_outputs({"h_T": ref["h_seq"]}, p)
    with pytest.raises(ArrayMismatch, match="forget to `return`"):
        check_rnn_outputs({"c_T": None}, p)
    with pytest.raises(ValueError, match="unknown outputs"):
        check_rnn_outputs({"y": ref["h_T"]}, p)


# ---------------------------------------------------------------- cuDNN conditions


def test_default_lstm_and_gru_have_no_blockers():
    assert cudnn_blockers(keras.layers.LSTM(8)) == []
    assert cudnn_blockers(keras.layers.LSTM(8, dropout=0.3, return_sequences=True, go_backwards=True)) == []
    assert cudnn_blockers(keras.layers.GRU(8)) == []


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"activation": "relu"}, "activation='relu'"),
        ({"recurrent_activation": "hard_sigmoid"}, "recurrent_activation='hard_sigmoid'"),
        ({"recurrent_dropout": 0.2}, "recurrent_dropout=0.2"),
        ({"unroll": True}, "unroll=True"),
        ({"use_bias": False}, "use_bias=False"),
        ({"use_cudnn": False}, "use_cudnn=False"),
    ],
)
def test_each_lstm_condition_is_named(kwargs, fragment):
    blockers = cudnn_blockers(keras.layers.LSTM(8, **kwargs))
    assert len(blockers) == 1 and fragment in blockers[0]


def test_layers_without_the_fused_kernel():
    assert "use keras.layers.LSTM(...)" in cudnn_blockers(keras.layers.RNN(keras.layers.LSTMCell(4)))[0]
    assert "use keras.layers.GRU(...)" in cudnn_blockers(keras.layers.RNN(keras.layers.GRUCell(4)))[0]
    assert "SimpleRNN has no fused cuDNN kernel" in cudnn_blockers(keras.layers.SimpleRNN(4))[0]
    assert "reset_after=False" in cudnn_blockers(keras.layers.GRU(4, reset_after=False))[0]
    assert "not a recurrent layer" in cudnn_blockers(keras.layers.Dense(4))[0]


def test_bidirectional_checks_both_directions():
    blockers = cudnn_blockers(keras.layers.Bidirectional(keras.layers.LSTM(4, unroll=True)))
    assert [b.split()[0] for b in blockers] == ["forward", "backward"]
    assert cudnn_blockers(keras.layers.Bidirectional(keras.layers.LSTM(4))) == []


def test_masks_must_be_right_padded():
    layer = keras.layers.LSTM(4)
    assert cudnn_blockers(layer, mask=np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1]])) == []
    assert cudnn_blockers(layer, mask=np.ones((2, 3, 1), dtype=bool)) == []
    left = cudnn_blockers(layer, mask=np.array([[1, 1, 1], [0, 1, 1]]))
    assert len(left) == 1 and "not right-padded (row 1 is [0, 1, 1])" in left[0]
    gap = cudnn_blockers(layer, mask=np.array([[1, 0, 1]]))
    assert "not right-padded" in gap[0]
    empty = cudnn_blockers(layer, mask=np.array([[1, 1], [0, 0]]))
    assert len(empty) == 1 and "row 1 of the mask is entirely masked" in empty[0]


def test_check_cudnn_compatible_on_a_model(capsys):
    good = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4, return_sequences=True), keras.layers.GRU(4)])
    assert check_cudnn_compatible(good) is None
    out = capsys.readouterr().out
    assert "2 recurrent layer(s) meet every cuDNN condition" in out
    assert ("a GPU is visible" in out) == gpu_visible()
    bad = keras.Sequential(
        [
            keras.Input((5, 3)),
            keras.layers.LSTM(4, return_sequences=True, name="first"),
            keras.layers.LSTM(4, recurrent_dropout=0.1, activation="relu", name="second"),
        ]
    )
    with pytest.raises(CudnnIncompatible) as info:
        check_cudnn_compatible(bad, name="bad model")
    message = str(info.value)
    assert message.startswith("bad model cannot use the fused cuDNN kernel")
    assert "'first'" not in message and message.count("LSTM 'second'") == 2


def test_check_cudnn_compatible_on_layers_and_mistakes():
    check_cudnn_compatible(keras.layers.LSTM(3), quiet=True)
    with pytest.raises(CudnnIncompatible, match="unroll=True"):
        check_cudnn_compatible(keras.layers.LSTM(3, unroll=True))
    with pytest.raises(CudnnIncompatible, match="not right-padded"):
        check_cudnn_compatible(keras.layers.LSTM(3), mask=np.array([[0, 1]]))
    with pytest.raises(CudnnIncompatible, match="got None"):
        check_cudnn_compatible(None)
    with pytest.raises(CudnnIncompatible, match="has no recurrent layer"):
        check_cudnn_compatible(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))


def test_nested_models_are_searched():
    inner = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4, unroll=True)], name="inner")
    outer = keras.Sequential([keras.Input((5, 3)), inner, keras.layers.Dense(1)])
    with pytest.raises(CudnnIncompatible, match="unroll=True"):
        check_cudnn_compatible(outer)

"""Checks for recurrent networks: a hand-written cell against Keras, and Keras's fused cuDNN kernel.

Two groups of helpers:

* :func:`make_recurrent_problem`, :func:`keras_outputs` and :func:`check_rnn_outputs`
  compare a student's NumPy ``SimpleRNN`` / ``LSTM`` with the Keras layer run on
  the same weights (Keras's layout: ``kernel`` ``(features, k*units)``,
  ``recurrent_kernel`` ``(units, k*units)``, ``bias`` ``(k*units,)``; for the LSTM
  the four blocks are in the gate order *i, f, c, o*). When the outputs differ,
  the check looks for the usual mistakes: gate blocks read in another order, a
  sigmoid where the candidate needs tanh, a missing tanh on the cell state.
* :func:`cudnn_blockers` and :func:`check_cudnn_compatible` say whether Keras 3
  (TensorFlow backend) may run a layer with the fused cuDNN kernel on a GPU, and
  if not, which condition the layer breaks. They inspect the configuration
  only, so they give the same answer on a machine without a GPU.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .arrays import ArrayMismatch, check_close
from .diagnoses import DiagnosedFailure, Diagnosis

GATE_ORDER = "ifco"
GATE_NAMES = {"i": "input gate", "f": "forget gate", "c": "cell candidate", "o": "output gate"}
OUTPUT_NAMES = ("h_seq", "h_T", "c_T")


class RecurrentMismatch(ArrayMismatch):
    pass


class CudnnIncompatible(DiagnosedFailure):
    pass


# ------------------------------------------------------------ hand-written cells against Keras


@dataclass
class RecurrentProblem:
    """Inputs and Keras-layout weights for one comparison, all float64.

    ``x`` ``(batch, timesteps, features)``; ``h0`` ``(batch, units)``; ``c0``
    ``(batch, units)`` for an LSTM, ``None`` for a SimpleRNN; ``kernel``
    ``(features, k*units)``; ``recurrent_kernel`` ``(units, k*units)``; ``bias``
    ``(k*units,)`` with ``k`` = 4 (LSTM) or 1 (SimpleRNN).
    """

    kind: str
    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray | None
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray

    @property
    def units(self) -> int:
        return self.h0.shape[1]

    @property
    def weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.kernel, self.recurrent_kernel, self.bias


def make_recurrent_problem(kind: str, batch: int, timesteps: int, features: int, units: int, seed: int = 0) -> RecurrentProblem:
    """Random inputs, initial states and weights for ``kind`` ``"lstm"`` or ``"simple_rnn"``.

    The weights are scaled so the gates are neither saturated nor all alike, and
    the bias is random, so reading the gate blocks in the wrong order changes
    the outputs clearly.
    """
    if kind not in ("lstm", "simple_rnn"):
        raise ValueError(f"kind must be 'lstm' or 'simple_rnn', not {kind!r}")
    rng = np.random.default_rng(seed)
    k = 4 if kind == "lstm" else 1
    return RecurrentProblem(
        kind=kind,
        x=rng.normal(size=(batch, timesteps, features)),
        h0=rng.normal(scale=0.5, size=(batch, units)),
        c0=rng.normal(scale=0.5, size=(batch, units)) if kind == "lstm" else None,
        kernel=rng.normal(scale=0.6 / np.sqrt(features), size=(features, k * units)),
        recurrent_kernel=rng.normal(scale=0.6 / np.sqrt(units), size=(units, k * units)),
        bias=rng.normal(scale=0.8, size=(k * units,)),
    )


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def lstm_reference(problem: RecurrentProblem, order: str = GATE_ORDER, candidate=np.tanh, squash_cell: bool = True) -> dict[str, np.ndarray]:
    """A NumPy LSTM that reads the gate blocks in ``order`` (Keras: ``"ifco"``).

    ``candidate`` and ``squash_cell`` exist to reproduce common mistakes
    (``h = o * c`` instead of ``o * tanh(c)``). Returns ``h_seq``, ``h_T`` and ``c_T``.
    """
    n = problem.units
    h, c = problem.h0, problem.c0
    kernel, recurrent, bias = problem.weights
    blocks = {gate: slice(j * n, (j + 1) * n) for j, gate in enumerate(order)}
    hs = []
    for t in range(problem.x.shape[1]):
        z = problem.x[:, t] @ kernel + h @ recurrent + bias
        i, f, o = (_sigmoid(z[:, blocks[g]]) for g in "ifo")
        g = candidate(z[:, blocks["c"]])
        c = f * c + i * g
        h = o * (np.tanh(c) if squash_cell else c)
        hs.append(h)
    return {"h_seq": np.stack(hs, axis=1), "h_T": h, "c_T": c}


def simple_rnn_reference(problem: RecurrentProblem, activation=np.tanh) -> dict[str, np.ndarray]:
    """A NumPy SimpleRNN, ``h_t = activation(x_t W + h_{t-1} U + b)``. Returns ``h_seq`` and ``h_T``."""
    h = problem.h0
    hs = []
    for t in range(problem.x.shape[1]):
        h = activation(problem.x[:, t] @ problem.kernel + h @ problem.recurrent_kernel + problem.bias)
        hs.append(h)
    return {"h_seq": np.stack(hs, axis=1), "h_T": h}


def keras_outputs(problem: RecurrentProblem) -> dict[str, np.ndarray]:
    """What ``keras.layers.LSTM`` / ``SimpleRNN(return_sequences=True, return_state=True)`` returns for the problem.

    The layer runs in float64 with ``use_cudnn=False`` (where the layer has that
    switch), so the reference is the same on every machine.
    """
    import keras

    _, timesteps, features = problem.x.shape
    if problem.kind == "lstm":
        layer = keras.layers.LSTM(problem.units, return_sequences=True, return_state=True, use_cudnn=False, dtype="float64")
        initial_state = [problem.h0, problem.c0]
    else:
        layer = keras.layers.SimpleRNN(problem.units, return_sequences=True, return_state=True, dtype="float64")
        initial_state = [problem.h0]
    layer.build((None, timesteps, features))
    layer.set_weights([problem.kernel, problem.recurrent_kernel, problem.bias])
    outputs = layer(problem.x, initial_state=initial_state)
    return {name: np.asarray(keras.ops.convert_to_numpy(value)) for name, value in zip(OUTPUT_NAMES, outputs, strict=False)}


def _candidates(problem: RecurrentProblem) -> list[tuple[Diagnosis, str, dict[str, np.ndarray]]]:
    """(diagnosis, its sentence, outputs) for the usual mistakes, most specific first."""
    if problem.kind == "simple_rnn":
        return [
            (
                Diagnosis.RNN_TANH_MISSING,
                "the tanh is missing: h_t = tanh(x_t W + h_{t-1} U + b)",
                simple_rnn_reference(problem, activation=lambda z: z),
            ),
            (Diagnosis.RNN_SIGMOID, "a sigmoid is used where the SimpleRNN uses tanh", simple_rnn_reference(problem, activation=_sigmoid)),
        ]
    found = []
    for order in itertools.permutations(GATE_ORDER):
        order = "".join(order)
        if order == GATE_ORDER:
            continue
        read = ", ".join(order)
        found.append(
            (
                Diagnosis.GATE_ORDER,
                f"the gate blocks are read in the gate order {read}; Keras stores the column blocks of kernel, "
                f"recurrent_kernel and bias as [i | f | c | o] ({', '.join(GATE_NAMES[g] for g in GATE_ORDER)})",
                lstm_reference(problem, order),
            )
        )
    found += [
        (
            Diagnosis.CANDIDATE_SIGMOID,
            "the cell candidate uses a sigmoid; it needs tanh (only i, f and o are sigmoid gates)",
            lstm_reference(problem, candidate=_sigmoid),
        ),
        (
            Diagnosis.CELL_TANH_MISSING,
            "h = o * c is missing the tanh: the new hidden state is o * tanh(c_t)",
            lstm_reference(problem, squash_cell=False),
        ),
    ]
    return found


def recurrent_diagnosis(actual: Mapping[str, np.ndarray], problem: RecurrentProblem) -> tuple[Diagnosis, str] | None:
    """The likely mistake behind outputs that differ from Keras's, with the sentence that names it, or ``None``."""
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in actual.items() if v is not None}
    for code, diagnosis, outputs in _candidates(problem):
        if all(k in outputs and outputs[k].shape == a.shape and np.allclose(a, outputs[k], rtol=1e-5, atol=1e-6) for k, a in arrays.items()):
            return code, diagnosis
    return None


def diagnose_recurrent(actual: Mapping[str, np.ndarray], problem: RecurrentProblem) -> str | None:
    """Name the likely mistake behind outputs that differ from Keras's, or ``None``."""
    found = recurrent_diagnosis(actual, problem)
    return found[1] if found else None


def check_rnn_outputs(
    actual: Mapping[str, object],
    problem: RecurrentProblem,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    name: str = "recurrent layer",
    quiet: bool = False,
) -> None:
    """Assert the student's outputs equal Keras's on ``problem``.

    ``actual`` maps any of ``"h_seq"`` ``(batch, timesteps, units)``, ``"h_T"``
    ``(batch, units)`` and ``"c_T"`` (LSTM only) to the student's arrays; for one
    step, make a problem with ``timesteps=1`` and pass ``h_T`` (and ``c_T``).
    Returns ``None``; raises :class:`RecurrentMismatch` naming the likely
    mistake when one is recognised.
    """
    unknown = set(actual) - set(OUTPUT_NAMES)
    if unknown:
        raise ValueError(f"unknown outputs {sorted(unknown)}; use {OUTPUT_NAMES}")
    expected = keras_outputs(problem)
    shape = f"batch={problem.x.shape[0]}, T={problem.x.shape[1]}, features={problem.x.shape[2]}, units={problem.units}"
    worst = 0.0
    for key in OUTPUT_NAMES:
        if key not in actual:
            continue
        try:
            check_close(actual[key], expected[key], rtol=rtol, atol=atol, name=f"{name} {key}", quiet=True)
        except ArrayMismatch as exc:
            found = None
            if "differ by more than" in str(exc):
                found = recurrent_diagnosis({k: v for k, v in actual.items() if np.shape(v) == expected[k].shape}, problem)
            message = f"{exc.untagged} ({shape})"
            if found:  # first, so a grader's one-line summary keeps it
                message = f"{name} {key} differs from Keras. Likely cause: {found[1]}. Details: {message}"
            raise RecurrentMismatch(message, found[0] if found else exc.diagnosis) from None
        worst = max(worst, float(np.max(np.abs(np.asarray(actual[key], dtype=np.float64) - expected[key]))))
    if not quiet:
        print(f"✓ {name}: {', '.join(k for k in OUTPUT_NAMES if k in actual)} match Keras ({shape}), max |difference| {worst:.1e}")


# ------------------------------------------------------------ the fused cuDNN kernel


def _activation_name(fn) -> str:
    return getattr(fn, "__name__", repr(fn))


def _is(fn, name: str) -> bool:
    """Whether ``fn`` is one of the functions Keras's TensorFlow backend accepts as ``name``."""
    import keras

    accepted = [getattr(keras.activations, name), getattr(keras.ops, name)]
    try:
        import tensorflow as tf

        accepted += [getattr(tf, name), getattr(tf.math, name), getattr(tf.nn, name)]
    except ImportError:
        pass
    return any(fn is a for a in accepted)


def _mask_blockers(mask) -> list[str]:
    mask = np.asarray(mask).astype(bool)
    if mask.ndim == 3:
        mask = mask[..., 0]
    if mask.ndim != 2:
        return [f"the mask has shape {mask.shape}; expected (batch, timesteps)"]
    problems = []
    lengths = mask.sum(axis=1)
    right_padded = mask == (np.arange(mask.shape[1])[None, :] < lengths[:, None])
    bad = np.flatnonzero(~right_padded.all(axis=1))
    if bad.size:
        problems.append(
            f"the mask is not right-padded (row {int(bad[0])} is {mask[bad[0]].astype(int).tolist()}): cuDNN needs every "
            "sequence's real steps first and the padding after them; pad at the end (padding='post')"
        )
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        problems.append(f"row {int(empty[0])} of the mask is entirely masked: cuDNN needs at least one real step per sequence")
    return problems


def cudnn_blockers(layer, mask=None) -> list[str]:
    """Why Keras 3 (TensorFlow backend) would *not* run ``layer`` with the fused cuDNN kernel.

    ``layer`` is a recurrent layer, or a ``Bidirectional`` wrapper around one
    (its forward and backward layers are both checked). ``mask`` is an optional
    boolean array ``(batch, timesteps)`` the layer will be called with. An empty
    list means every condition about the layer holds; whether a GPU is visible
    is not the layer's business (see :func:`gpu_visible`).
    """
    import keras

    if isinstance(layer, keras.layers.Bidirectional):
        blockers = [f"forward {b}" for b in cudnn_blockers(layer.forward_layer)]
        blockers += [f"backward {b}" for b in cudnn_blockers(layer.backward_layer)]
        return blockers + (_mask_blockers(mask) if mask is not None else [])
    kind = type(layer).__name__
    if not isinstance(layer, keras.layers.RNN):
        return [f"{kind} is not a recurrent layer"]
    is_lstm, is_gru = isinstance(layer, keras.layers.LSTM), isinstance(layer, keras.layers.GRU)
    if not (is_lstm or is_gru):
        cell = type(getattr(layer, "cell", None)).__name__
        if cell in ("LSTMCell", "GRUCell"):
            layer_name = cell[: -len("Cell")]
            return [f"keras.layers.RNN({cell}(...)) always runs the generic step-by-step loop; use keras.layers.{layer_name}(...) instead"]
        return [f"{kind} has no fused cuDNN kernel in Keras (only LSTM and GRU do)"]
    cell = layer.cell
    blockers = []
    if getattr(layer, "use_cudnn", "auto") is False:
        blockers.append("use_cudnn=False switches the fused kernel off; leave it at 'auto'")
    if not _is(cell.activation, "tanh"):
        blockers.append(f"activation={_activation_name(cell.activation)!r}: the fused kernel computes tanh; use activation='tanh'")
    if not _is(cell.recurrent_activation, "sigmoid"):
        blockers.append(
            f"recurrent_activation={_activation_name(cell.recurrent_activation)!r}: the fused kernel's gates are sigmoids; "
            "use recurrent_activation='sigmoid'"
        )
    if cell.recurrent_dropout:
        blockers.append(
            f"recurrent_dropout={cell.recurrent_dropout:g}: the fused kernel cannot drop units inside the recurrence; "
            "use recurrent_dropout=0 and regularise with dropout= on the inputs (or a Dropout layer) instead"
        )
    if layer.unroll:
        blockers.append("unroll=True: the fused kernel runs the loop itself; use unroll=False")
    if not cell.use_bias:
        blockers.append("use_bias=False: the fused kernel needs the bias; use use_bias=True")
    if is_gru and not getattr(cell, "reset_after", True):
        blockers.append("reset_after=False: cuDNN's GRU applies the reset gate after the matrix product; use reset_after=True")
    if mask is not None:
        blockers += _mask_blockers(mask)
    return blockers


def gpu_visible() -> bool:
    """Whether the backend Keras runs on sees a GPU (the condition outside the layer)."""
    from ..runtime import backend_gpus

    try:
        return bool(backend_gpus()[1])
    except ImportError:
        return False


def _recurrent_layers(model) -> list:
    import keras

    found = []
    for layer in getattr(model, "layers", []):
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
            found.append(layer)
        elif hasattr(layer, "layers"):  # a nested model
            found += _recurrent_layers(layer)
    return found


def check_cudnn_compatible(layer_or_model, *, mask=None, name: str | None = None, quiet: bool = False) -> None:
    """Assert that Keras may use the fused cuDNN kernel for a layer, or for every recurrent layer of a model.

    Raises :class:`CudnnIncompatible` listing each broken condition, layer by
    layer. Inspects the configuration only, so it works (and gives the same
    verdict) without a GPU. Returns ``None``.
    """
    if layer_or_model is None:
        raise CudnnIncompatible(
            f"{name or 'layer'}: got None instead of a Keras layer or model. Did the function `return` it?", Diagnosis.NOTHING_RETURNED
        )
    if hasattr(layer_or_model, "layers"):
        name = name or f"model {layer_or_model.name!r}"
        layers = _recurrent_layers(layer_or_model)
        if not layers:
            raise CudnnIncompatible(f"{name} has no recurrent layer (LSTM or GRU) to run with cuDNN")
    else:
        name = name or f"layer {getattr(layer_or_model, 'name', type(layer_or_model).__name__)!r}"
        layers = [layer_or_model]
    report = []
    for layer in layers:
        for blocker in cudnn_blockers(layer, mask=mask):
            report.append(f"{type(layer).__name__} {layer.name!r}: {blocker}")
    if report:  # the first problem on the first line, which a grader's one-line summary keeps
        raise CudnnIncompatible(
            f"{name} cannot use the fused cuDNN kernel, so on a GPU it falls back to the much slower generic loop: {report[0]}"
            + "".join(f"\n  - and {line}" for line in report[1:]),
            Diagnosis.CUDNN_INCOMPATIBLE,
        )
    if not quiet:
        where = "a GPU is visible, so it will" if gpu_visible() else "no GPU is visible here, but on one it would"
        print(f"✓ {name}: {len(layers)} recurrent layer(s) meet every cuDNN condition ({where} run fused)")

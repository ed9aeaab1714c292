"""The mistakes the checks can name, each with a stable code, and how a code travels to the grader.

A check that recognises a mistake raises a :class:`DiagnosedFailure` carrying a :class:`Diagnosis`;
its message ends its first line with the code in brackets (``... the mean over the batch is
missing. [batch-mean-missing]``). The grader sees only the notebook's error output
(``ename: evalue``), so the bracketed code is how the diagnosis gets there; :func:`read_diagnosis`
reads it back, and also names the few mistakes Python itself reports (a stub still raising
``NotImplementedError``, an overflow under ``np.errstate(over="raise")``).

Codes are part of the reports instructors keep: never rename one, only add.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Diagnosis(StrEnum):
    """A recognised mistake; the value is its stable code."""

    BATCH_MEAN_MISSING = "batch-mean-missing"
    BATCH_MEAN_TWICE = "batch-mean-twice"
    SIGN = "sign"
    TRANSPOSE = "transpose"
    FACTOR_TWO = "factor-two"
    CONSTANT_FACTOR = "constant-factor"
    ALL_ZERO = "all-zero"
    SHAPE = "shape"
    NOTHING_RETURNED = "nothing-returned"
    NAN_OR_INF = "nan-or-inf"
    OVERFLOW = "overflow"
    NOT_ANSWERED = "not-answered"
    GATE_ORDER = "gate-order"
    CANDIDATE_SIGMOID = "candidate-sigmoid"
    CELL_TANH_MISSING = "cell-tanh-missing"
    RNN_TANH_MISSING = "rnn-tanh-missing"
    RNN_SIGMOID = "rnn-sigmoid"
    CUDNN_INCOMPATIBLE = "cudnn-incompatible"
    LAYER_TYPE = "layer-type"
    LAYER_MISSING = "layer-missing"
    LAYER_EXTRA = "layer-extra"
    ACTIVATION = "activation"
    LAYER_CONFIG = "layer-config"
    MODEL_NOT_BUILT = "model-not-built"
    ACCURACY_BELOW = "accuracy-below"
    MSE_ABOVE = "mse-above"

    @property
    def title(self) -> str:
        """A short name for reports."""
        return _TITLES[self]


_TITLES = {
    Diagnosis.BATCH_MEAN_MISSING: "batch mean missing",
    Diagnosis.BATCH_MEAN_TWICE: "batch mean taken twice",
    Diagnosis.SIGN: "wrong sign",
    Diagnosis.TRANSPOSE: "transposed",
    Diagnosis.FACTOR_TWO: "off by a factor 2",
    Diagnosis.CONSTANT_FACTOR: "off by a constant factor",
    Diagnosis.ALL_ZERO: "gradient all zero",
    Diagnosis.SHAPE: "wrong shape",
    Diagnosis.NOTHING_RETURNED: "nothing (or no model) returned",
    Diagnosis.NAN_OR_INF: "NaN or inf: not numerically stable",
    Diagnosis.OVERFLOW: "overflow: not numerically stable",
    Diagnosis.NOT_ANSWERED: "not answered (the stub still raises)",
    Diagnosis.GATE_ORDER: "LSTM gate blocks in the wrong order",
    Diagnosis.CANDIDATE_SIGMOID: "sigmoid for the LSTM cell candidate",
    Diagnosis.CELL_TANH_MISSING: "tanh of the cell state missing",
    Diagnosis.RNN_TANH_MISSING: "RNN tanh missing",
    Diagnosis.RNN_SIGMOID: "sigmoid where the RNN uses tanh",
    Diagnosis.CUDNN_INCOMPATIBLE: "layer cannot use cuDNN",
    Diagnosis.LAYER_TYPE: "wrong layer type",
    Diagnosis.LAYER_MISSING: "layer missing",
    Diagnosis.LAYER_EXTRA: "extra layer",
    Diagnosis.ACTIVATION: "wrong activation",
    Diagnosis.LAYER_CONFIG: "layer configured differently",
    Diagnosis.MODEL_NOT_BUILT: "model not built (no Input)",
    Diagnosis.ACCURACY_BELOW: "accuracy below the bar",
    Diagnosis.MSE_ABOVE: "error above the ceiling",
}

_TAG = re.compile(r"\[([a-z][a-z0-9-]*)\]\s*$")


def tagged(message: str, diagnosis: Diagnosis | None) -> str:
    """``message`` with `` [code]`` at the end of its first line (the line a grader's summary keeps)."""
    if diagnosis is None:
        return message
    first, newline, rest = message.partition("\n")
    return f"{first} [{diagnosis}]{newline}{rest}"


class DiagnosedFailure(AssertionError):
    """A failed check; ``diagnosis`` names the mistake when the check recognised one."""

    def __init__(self, message: str = "", diagnosis: Diagnosis | None = None):
        self.diagnosis = diagnosis
        self.untagged = message
        super().__init__(tagged(message, diagnosis))

    def __reduce__(self):
        return type(self), (self.untagged, self.diagnosis)


def read_diagnosis(ename: str, evalue: str) -> Diagnosis | None:
    """The diagnosis behind a notebook's error output (``ename``, ``evalue``), or ``None``."""
    first = (evalue or "").strip().partition("\n")[0]
    match = _TAG.search(first)
    if match:
        try:
            return Diagnosis(match.group(1))
        except ValueError:  # a bracketed word that is not one of ours
            pass
    if ename == "NotImplementedError":
        return Diagnosis.NOT_ANSWERED
    if ename == "FloatingPointError":
        return Diagnosis.OVERFLOW if "overflow" in first else Diagnosis.NAN_OR_INF
    return None

"""Train a graded model once, where the student works; grade the model they trained.

Every notebook cell that trains a model a test grades calls :func:`train_or_restore`
around the student's own training function::

    def fit_small_cnn(model):
        model.compile(...)
        return model.fit(x_train, y_train, epochs=10, batch_size=128, verbose=2)

    cnn_run = train_or_restore("small_cnn", cnn, fit_small_cnn, data=(x_train, y_train))

On the student's machine it trains as before and saves, in ``trained_models/``
beside the notebook, the weights only (``<name>.weights.h5``, Keras's HDF5
weights format: arrays, no code) and a record (``<name>.json``): a fingerprint
of what produced the weights (the training code and the notebook functions and
constants it uses, the architecture, the data, the seed), the history, the
fit arguments, the optimizer's configuration, the library versions and the
machine. Run again with the same fingerprint, it restores instead of training.

At grading time (``DLCOURSE_TRAINING``):

* ``reuse`` (the default): restore when the fingerprint matches and the file
  loads into the model the student's code built, else train, saying why;
* ``train``: always train (and record);
* ``audit``: always train, then compare with the submitted weights, bit for
  bit and by their metrics on the first examples of ``data``.

Restoring runs the student's training function with the model's ``fit``
replaced by one that loads the weights and returns the recorded history, so
whatever else the function sets up (compiling, the optimizer, callbacks) is
there for the tests, as after real training. Each call appends what happened,
as one JSON line, to the file named by ``DLCOURSE_TRAINING_LOG`` (the grader
reads it); nothing here imports the grading pipeline.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from .audit import (
    AUDIT_EXAMPLES,
    DEFAULT_TOLERANCE,
    LOSS_FLOOR,
    AuditTolerance,
    AuditVerdict,
    audit_metrics,
    compare_with_submitted,
    submitted_weights,
)
from .files import (
    DEFAULT_MAX_WEIGHTS_MB,
    FOLDER_VARIABLE,
    HDF5_SIGNATURE,
    MAX_WEIGHTS_MB_VARIABLE,
    RECORD_DIR,
    RECORD_FORMAT,
    WeightsRefused,
    check_weights_file,
    handed_in_summary,
    load_weights,
    machine,
    max_weights_bytes,
    read_record,
    record_dir,
    record_path,
    weights_path,
)
from .fingerprint import FINGERPRINT_WORDS, architecture_summary, array_digest, data_parts, describe, fingerprint, training_code

__all__ = [
    "AUDIT_EXAMPLES",
    "DEFAULT_MAX_WEIGHTS_MB",
    "DEFAULT_TOLERANCE",
    "FINGERPRINT_WORDS",
    "FOLDER_VARIABLE",
    "HDF5_SIGNATURE",
    "LOG_VARIABLE",
    "LOSS_FLOOR",
    "MAX_WEIGHTS_MB_VARIABLE",
    "MODE_VARIABLE",
    "RECORD_DIR",
    "RECORD_FORMAT",
    "AuditTolerance",
    "AuditVerdict",
    "Mode",
    "Outcome",
    "TrainingRun",
    "WeightsRefused",
    "architecture_summary",
    "array_digest",
    "audit_metrics",
    "check_weights_file",
    "fingerprint",
    "handed_in_summary",
    "load_weights",
    "max_weights_bytes",
    "read_record",
    "record_dir",
    "record_path",
    "train_or_restore",
    "training_code",
    "weights_path",
]

MODE_VARIABLE = "DLCOURSE_TRAINING"
LOG_VARIABLE = "DLCOURSE_TRAINING_LOG"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Mode(StrEnum):
    REUSE = "reuse"
    TRAIN = "train"
    AUDIT = "audit"


class Outcome(StrEnum):
    RESTORED = "restored"
    TRAINED = "trained"
    AUDITED = "audited"


@dataclass
class TrainingRun:
    """What :func:`train_or_restore` returns: the history as ``fit`` gave it, and where the weights came from."""

    name: str
    history: Any  # a keras.callbacks.History (restored ones carry the recorded epochs and metrics)
    seconds: float  # training time: the student's, as recorded, when restored
    outcome: Outcome
    reason: str = ""  # why it trained (empty when restored)
    audit: dict | None = None
    record: dict = field(default_factory=dict, repr=False)

    @property
    def restored(self) -> bool:
        return self.outcome is Outcome.RESTORED

    @property
    def device(self) -> str:
        """Where the weights were trained (this machine, or the one in the record when restored)."""
        return self.record.get("machine", {}).get("device", "")


# ---------------------------------------------------------------- the helper


def _history(values: dict, epochs: list, params: dict, model):
    import keras

    history = keras.callbacks.History()
    history.history = {k: list(v) for k, v in values.items()}
    history.epoch = list(epochs)
    history.params = dict(params)
    history.set_model(model)
    return history


def _floats(values: dict) -> dict:
    return {k: [float(x) for x in v] for k, v in values.items()}


def _fit_arguments(args: tuple, kwargs: dict) -> dict:
    """What a ``fit`` call says about training, as plain values for the record."""
    import numpy as np

    described = {k: v for k, v in kwargs.items() if isinstance(v, bool | int | float | str) or v is None}
    x = args[0] if args else kwargs.get("x")
    if isinstance(x, np.ndarray):
        described["examples"] = int(x.shape[0])
    described.setdefault("batch_size", 32 if x is not None and isinstance(x, np.ndarray) else None)
    return described


class _FitRecorder:
    """Stands in for ``model.fit`` during real training: calls it and remembers its arguments."""

    def __init__(self, fit):
        self.fit, self.calls = fit, []

    def __call__(self, *args, **kwargs):
        self.calls.append(_fit_arguments(args, kwargs))
        return self.fit(*args, **kwargs)


class _FitRestorer:
    """Stands in for ``model.fit`` on restore: loads the weights (after the student's code compiled) and returns the history."""

    def __init__(self, model, path: Path, record: dict):
        self.model, self.path, self.record, self.calls = model, path, record, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            load_weights(self.model, self.path)
        return _history(self.record["history"], self.record["epoch"], self.record.get("params", {}), self.model)


def _log(entry: dict) -> None:
    target = os.environ.get(LOG_VARIABLE)
    if not target:
        return
    with open(target, "a") as handle:
        handle.write(json.dumps(entry, default=str) + "\n")


def _mode() -> Mode:
    try:
        return Mode(os.environ.get(MODE_VARIABLE, Mode.REUSE))
    except ValueError:
        return Mode.REUSE


def _ensure_built(model, data) -> None:
    if not getattr(model, "built", True):
        x = data_parts(data)[0]
        model.build((None, *x.shape[1:]))


def _why_not_restore(record: dict | None, expected: dict[str, str], weights: Path) -> str:
    if record is None:
        return (
            f"no record in {RECORD_DIR}/ yet"
            if not weights.exists()
            else f"{weights.with_suffix('').with_suffix('.json').name} is missing or unreadable"
        )
    if not weights.exists():
        return f"{weights.name} is missing"
    changed = [key for key in ("code", "architecture", "data", "seed") if record.get("fingerprint", {}).get(key) != expected[key]]
    return "; ".join(FINGERPRINT_WORDS[key] for key in changed)


def _with_fit(model, stand_in, train):
    model.fit = stand_in
    try:
        return train(model)
    finally:
        try:
            del model.fit
        except AttributeError:
            pass


def _train(name: str, model, train, data, expected: dict, folder: Path, save: bool) -> tuple[Any, float, dict]:
    import keras

    recorder = _FitRecorder(model.fit)
    start = time.perf_counter()
    history = _with_fit(model, recorder, train)
    seconds = time.perf_counter() - start
    if not isinstance(history, keras.callbacks.History):
        history = getattr(model, "history", None) or _history({}, [], {}, model)
    record = {
        "format": RECORD_FORMAT,
        "name": name,
        "fingerprint": expected,
        "seconds": round(seconds, 2),
        "history": _floats(history.history),
        "epoch": list(history.epoch),
        "params": {k: v for k, v in (history.params or {}).items() if isinstance(v, int | float | str)},
        "fit": recorder.calls,
        "optimizer": describe(getattr(model, "optimizer", None), set()),
        "parameters": int(model.count_params()),
        "metrics": audit_metrics(model, data),
        "machine": machine(),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "code": training_code(train),
    }
    if save:
        folder.mkdir(parents=True, exist_ok=True)
        model.save_weights(str(weights_path(name, folder)))
        record["weights_sha256"] = hashlib.sha256(weights_path(name, folder).read_bytes()).hexdigest()
        record_path(name, folder).write_text(json.dumps(record, indent=1, default=str))
    return history, seconds, record


def train_or_restore(name: str, model, train, data, tolerance: AuditTolerance = DEFAULT_TOLERANCE) -> TrainingRun:
    """Train ``model`` with ``train(model)`` (which compiles, fits and returns the History), or restore what it trained before.

    Inputs:  name, a short lower-case id for the files (``small_cnn``); model, the built, untrained
             keras.Model; train, a function model -> History written by you; data, the training
             data ``(x, y)`` that ``train`` fits on (its digest goes into the record; the audit
             evaluates on its first examples)
    Output:  a :class:`TrainingRun`: ``.history`` (the History), ``.seconds`` (training time), ``.restored``
    """
    if not _NAME.match(name):
        raise ValueError(f"name {name!r}: use lower-case letters, digits and underscores (it names the files in {RECORD_DIR}/)")
    if not callable(train):
        raise TypeError(f"train must be a function model -> History, got {type(train).__name__}")
    folder = record_dir()
    mode = _mode()
    _ensure_built(model, data)
    expected = fingerprint(model, train, data)
    weights = weights_path(name, folder)
    record = read_record(name, folder)
    reason = _why_not_restore(record, expected, weights) if mode is Mode.REUSE else ""
    if mode is Mode.REUSE and not reason:
        restorer = _FitRestorer(model, weights, record)
        try:
            history = _with_fit(model, restorer, train)
        except WeightsRefused as exc:
            reason = f"refused {exc}"
        else:
            if restorer.calls:
                seconds = float(record.get("seconds", 0.0))
                trained_on = record.get("machine", {}).get("device", "another machine")
                epochs = len(record.get("epoch", []))
                print(
                    f"{name}: restored the weights trained before ({epochs} epochs in {seconds:.0f} s on {trained_on}) from {RECORD_DIR}/{weights.name}"
                )
                _log({"name": name, "outcome": Outcome.RESTORED, "reason": "", "seconds": seconds})
                return TrainingRun(name, history, seconds, Outcome.RESTORED, record=record)
            reason = "the training function never called model.fit, so it trained on its own"
            print(f"{name}: {reason}")
            _log({"name": name, "outcome": Outcome.TRAINED, "reason": reason, "seconds": 0.0})
            return TrainingRun(name, history, 0.0, Outcome.TRAINED, reason)
    if mode is Mode.AUDIT:
        submitted, problem = submitted_weights(model, name, folder)
        print(f"{name}: training again to audit the submitted weights")
        history, seconds, new_record = _train(name, model, train, data, expected, folder, save=False)
        found = compare_with_submitted(model, data, submitted, problem, tolerance)
        print(f"{name}: audit: {found['verdict']}: {found['detail']}")
        _log({"name": name, "outcome": Outcome.AUDITED, "reason": "", "seconds": seconds, "audit": found})
        return TrainingRun(name, history, seconds, Outcome.AUDITED, audit=found, record=new_record)
    if mode is Mode.TRAIN:
        reason = "asked to train (DLCOURSE_TRAINING=train)"
    print(f"{name}: training ({reason})")
    history, seconds, new_record = _train(name, model, train, data, expected, folder, save=True)
    print(f"{name}: trained in {seconds:.0f} s; weights and record saved in {RECORD_DIR}/")
    _log({"name": name, "outcome": Outcome.TRAINED, "reason": reason, "seconds": seconds})
    return TrainingRun(name, history, seconds, Outcome.TRAINED, reason, record=new_record)

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

import functools
import hashlib
import inspect
import json
import os
import re
import time
import types
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

RECORD_DIR = "trained_models"
RECORD_FORMAT = 1
MODE_VARIABLE = "DLCOURSE_TRAINING"
LOG_VARIABLE = "DLCOURSE_TRAINING_LOG"
FOLDER_VARIABLE = "DLCOURSE_TRAINED_MODELS"  # where records live (default: trained_models/ in the working folder)
MAX_WEIGHTS_MB_VARIABLE = "DLCOURSE_MAX_WEIGHTS_MB"
DEFAULT_MAX_WEIGHTS_MB = 64  # the course's largest model is about 3 MB of float32 weights
AUDIT_EXAMPLES = 2048  # the audit evaluates both weight sets on this many examples of the training data
LOSS_FLOOR = 1e-4  # losses below this count as equal: a regression fitted to rounding
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Mode(StrEnum):
    REUSE = "reuse"
    TRAIN = "train"
    AUDIT = "audit"


class Outcome(StrEnum):
    RESTORED = "restored"
    TRAINED = "trained"
    AUDITED = "audited"


class AuditVerdict(StrEnum):
    BIT_EQUAL = "bit-equal"  # the retrained weights are the submitted ones, bit for bit
    WITHIN_TOLERANCE = "within tolerance"  # other arithmetic (machine, threads), same result
    MISMATCH = "mismatch"  # the submitted weights do not come from this code
    NOTHING_SUBMITTED = "no weights submitted"
    UNREADABLE = "submitted weights unreadable"


@dataclass(frozen=True)
class AuditTolerance:
    """How far the submitted weights' metrics may sit from the retrained ones' (measured: benchmarks/ audit tolerance)."""

    # Two honest trainings on other seeds (how a change of machine looks) differed by up to 0.008 in
    # accuracy and 29 % in loss (06's adding problem, whose MSE is near 0): benchmarks/audit_tolerance.md.
    accuracy: float = 0.03  # absolute, on the audit examples
    loss: float = 1.0  # the submitted loss within a factor 1 + loss of the retrained one, either way

    def allows(self, submitted: dict, retrained: dict) -> bool:
        for key, value in retrained.items():
            if key not in submitted:
                continue
            if "accuracy" in key and abs(submitted[key] - value) > self.accuracy:
                return False
            if key == "loss":
                # a ratio, either way: lower loss from extra training is as telling as higher loss
                ratio = max(abs(submitted[key]), LOSS_FLOOR) / max(abs(value), LOSS_FLOOR)
                if max(ratio, 1 / ratio) > 1 + self.loss:
                    return False
        return True


DEFAULT_TOLERANCE = AuditTolerance()


class WeightsRefused(ValueError):
    """A submitted weights file that is not weights of this model: too large, not HDF5, or another architecture."""


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


# ---------------------------------------------------------------- fingerprints


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def array_digest(array) -> str:
    import numpy as np

    array = np.ascontiguousarray(np.asarray(array))
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(memoryview(array).cast("B") if array.size else b"")
    return digest.hexdigest()


def _without_names(value):
    """A Keras config without the auto-numbered names (``dense_3``) that change with what else the session built."""
    if isinstance(value, dict):
        return {k: _without_names(v) for k, v in value.items() if k not in ("name", "keras_history")}
    if isinstance(value, list | tuple):
        return [_without_names(v) for v in value]
    return value


def _layers(model) -> list:
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found += _layers(layer)
    return found


def architecture_summary(model) -> list[dict]:
    """Per layer, in order: its class, its configuration (names left out) and the shapes of its weights."""
    return [
        {
            "class": type(layer).__name__,
            "config": _without_names(layer.get_config()),
            "weights": [list(w.shape) for w in layer.weights],
        }
        for layer in _layers(model)
    ]


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _describe(value, seen: set[int], depth: int = 0) -> str | None:
    """A stable text for a value the training code uses, or ``None`` for what does not shape training (modules, classes)."""
    import numpy as np

    if depth > 4:
        return None
    if isinstance(value, functools.partial):
        return f"partial({_describe(value.func, seen, depth + 1)}, {[_describe(a, seen, depth + 1) for a in value.args]}, {sorted((k, _describe(v, seen, depth + 1)) for k, v in value.keywords.items())})"
    if isinstance(value, types.FunctionType):
        if value.__module__ not in ("__main__", None) and not value.__module__.startswith("__main__"):
            return None  # a library's function: its version is recorded, not its source
        if id(value) in seen:
            return f"<recursion {value.__name__}>"
        seen.add(id(value))
        return _function_text(value, seen, depth + 1)
    if value is None or isinstance(value, bool | int | float | complex | str | bytes):
        return repr(value)
    if isinstance(value, np.ndarray | np.generic):
        return f"array {array_digest(value)}"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return f"{type(value).__name__}[{', '.join(str(_describe(v, seen, depth + 1)) for v in list(items)[:1000])}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v, seen, depth + 1)}" for k, v in list(value.items())[:1000]) + "}"
    if isinstance(value, type | types.ModuleType):
        return None
    if hasattr(value, "get_config"):
        try:
            config = value.get_config()
        except Exception:  # an object whose config needs it built, or a custom class without one
            return type(value).__name__
        return f"{type(value).__name__}{json.dumps(_without_names(config), sort_keys=True, default=str)}"
    return _by_constructor(value, seen, depth)


def _by_constructor(value, seen: set[int], depth: int) -> str | None:
    """An object without a config (a Keras callback) by the arguments it was made with, kept as attributes of the same name."""
    try:
        parameters = inspect.signature(type(value).__init__).parameters
    except (TypeError, ValueError):
        return None
    described = {}
    for name in parameters:
        if name not in ("self", "args", "kwargs") and name in getattr(value, "__dict__", {}):
            described[name] = _describe(getattr(value, name), seen, depth + 1)
    return f"{type(value).__name__}{described}" if described else None


def _function_text(fn, seen: set[int], depth: int = 0) -> str:
    """The function's source, then every notebook function, constant and array it uses, by name."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):  # defined where no source is kept (exec of a string)
        source = fn.__code__.co_code.hex()
    lines = [source]
    namespace = getattr(fn, "__globals__", {})
    for name in sorted(_code_names(fn.__code__)):
        if name in namespace:
            text = _describe(namespace[name], seen, depth)
            if text is not None:
                lines.append(f"{name} = {text}")
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False):
        try:
            lines.append(f"{name} = {_describe(cell.cell_contents, seen, depth)}")
        except ValueError:  # an empty closure cell
            pass
    if fn.__defaults__:
        lines.append(f"defaults = {_describe(fn.__defaults__, seen, depth)}")
    if fn.__kwdefaults__:
        lines.append(f"kwdefaults = {_describe(fn.__kwdefaults__, seen, depth)}")
    return "\n".join(lines)


def training_code(train) -> str:
    """What the fingerprint holds of the training code: its source and what it uses from the notebook."""
    if isinstance(train, functools.partial):
        return _describe(train, set()) or ""
    return _function_text(train, set())


def _seed() -> int:
    from .runtime import run_seed

    return run_seed(0)


def fingerprint(model, train, data) -> dict[str, str]:
    """The four things that decide the trained weights, each as a SHA-256: code, architecture, data and seed."""
    return {
        "code": _sha(training_code(train)),
        "architecture": _sha(json.dumps(architecture_summary(model), sort_keys=True, default=str)),
        "data": _sha("".join(array_digest(part) for part in _parts(data))),
        "seed": str(_seed()),
    }


FINGERPRINT_WORDS = {
    "code": "the training code (or a notebook function or constant it uses) changed since it was trained",
    "architecture": "the model built now is not the one that was trained",
    "data": "the training data differ from what it was trained on",
    "seed": "the seed (DLCOURSE_SEED) differs",
}


def _parts(data) -> list:
    if isinstance(data, dict):
        return [data[k] for k in sorted(data)]
    if isinstance(data, list | tuple):
        return list(data)
    return [data]


# ---------------------------------------------------------------- files


def record_dir() -> Path:
    return Path(os.environ.get(FOLDER_VARIABLE, RECORD_DIR))


def weights_path(name: str, folder: Path | None = None) -> Path:
    return (folder or record_dir()) / f"{name}.weights.h5"


def record_path(name: str, folder: Path | None = None) -> Path:
    return (folder or record_dir()) / f"{name}.json"


def max_weights_bytes() -> int:
    return int(float(os.environ.get(MAX_WEIGHTS_MB_VARIABLE, DEFAULT_MAX_WEIGHTS_MB)) * 1024 * 1024)


def check_weights_file(path: Path) -> None:
    """Refuse, before Keras opens it, a file that is too large, not HDF5, or links to other files."""
    size = path.stat().st_size
    if size > max_weights_bytes():
        raise WeightsRefused(f"{path.name} is {size / 2**20:.1f} MB, over the {max_weights_bytes() / 2**20:.0f} MB cap for a weights file")
    with open(path, "rb") as handle:
        if handle.read(8) != HDF5_SIGNATURE:
            raise WeightsRefused(f"{path.name} is not a Keras weights file (.weights.h5, HDF5); save weights with train_or_restore")
    import h5py

    links: list[str] = []

    def visit(name, link):
        if isinstance(link, h5py.ExternalLink | h5py.SoftLink):
            links.append(name)

    with h5py.File(path, "r") as handle:
        handle.visititems_links(visit)
    if links:
        raise WeightsRefused(f"{path.name} holds links ({', '.join(links[:3])}); a weights file holds arrays only")


def load_weights(model, path: Path) -> None:
    """Load a checked weights file into ``model``, or raise :class:`WeightsRefused` saying why."""
    check_weights_file(path)
    try:
        model.load_weights(str(path))
    except Exception as exc:
        detail = str(exc).strip().splitlines()
        raise WeightsRefused(
            f"{path.name} does not fit the model the notebook builds (another architecture?): {' '.join(detail[-1:])[:240]}"
        ) from None


def read_record(name: str, folder: Path | None = None) -> dict | None:
    path = record_path(name, folder)
    try:
        if path.stat().st_size > 16 * 1024 * 1024:
            return None
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == RECORD_FORMAT else None


def _machine() -> dict:
    from .runtime import device_report

    report = device_report()
    threads = os.environ.get("TF_NUM_INTRAOP_THREADS") or str(report.cores)
    return {
        "device": report.device,
        "cpu": report.cpu,
        "threads": threads,
        "gpus": report.gpus,
        "backend": f"{report.backend} {report.backend_version}",
        "keras": report.keras,
        "numpy": report.numpy,
    }


def handed_in_summary(folder: Path | None = None) -> list[str]:
    """One line per trained model in ``folder``: what a student hands in, and what the grader will find."""
    folder = folder or record_dir()
    lines = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        name = path.stem
        record = read_record(name, folder)
        if record is None:
            lines.append(f"{name}: the record is unreadable: run the notebook again to rewrite it")
        elif not weights_path(name, folder).exists():
            lines.append(f"{name}: {weights_path(name, folder).name} is missing: run the notebook again")
        else:
            lines.append(
                f"{name}: {len(record.get('epoch', []))} epochs, trained in {record.get('seconds', 0):.0f} s on {record.get('machine', {}).get('device', '?')}"
            )
    return lines


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


def audit_metrics(model, data) -> dict[str, float]:
    """The compiled model's loss and metrics on the first :data:`AUDIT_EXAMPLES` examples of ``(x, y)``."""
    parts = _parts(data)
    if len(parts) < 2 or not getattr(model, "compiled", False):
        return {}
    x, y = parts[0][:AUDIT_EXAMPLES], parts[1][:AUDIT_EXAMPLES]
    values = model.evaluate(x, y, batch_size=256, verbose=0, return_dict=True)
    return {k: float(v) for k, v in values.items()}


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
        x = _parts(data)[0]
        model.build((None, *x.shape[1:]))


def _why_not_restore(record: dict | None, expected: dict[str, str], weights: Path) -> str:
    if record is None:
        return (
            f"no record in {weights.parent}/ yet"
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
        "optimizer": _describe(getattr(model, "optimizer", None), set()),
        "parameters": int(model.count_params()),
        "metrics": audit_metrics(model, data),
        "machine": _machine(),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "code": training_code(train),
    }
    if save:
        folder.mkdir(parents=True, exist_ok=True)
        model.save_weights(str(weights_path(name, folder)))
        record["weights_sha256"] = hashlib.sha256(weights_path(name, folder).read_bytes()).hexdigest()
        record_path(name, folder).write_text(json.dumps(record, indent=1, default=str))
    return history, seconds, record


def _submitted_weights(model, name: str, folder: Path) -> tuple[list | None, str]:
    """The submitted weights as arrays, read through the model (its own initial weights put back), or why not."""
    path = weights_path(name, folder)
    if not path.exists():
        return None, "no weights submitted"
    initial = model.get_weights()
    try:
        load_weights(model, path)
        return model.get_weights(), ""
    except WeightsRefused as exc:
        return None, str(exc)
    finally:
        model.set_weights(initial)


def _audit(model, data, submitted: list | None, problem: str, tolerance: AuditTolerance) -> dict:
    import numpy as np

    if submitted is None:
        verdict = AuditVerdict.NOTHING_SUBMITTED if problem == "no weights submitted" else AuditVerdict.UNREADABLE
        return {"verdict": verdict, "detail": problem}
    retrained = model.get_weights()
    if len(retrained) == len(submitted) and all(np.array_equal(a, b) for a, b in zip(retrained, submitted, strict=True)):
        return {"verdict": AuditVerdict.BIT_EQUAL, "detail": "the retrained weights equal the submitted ones bit for bit"}
    retrained_metrics = audit_metrics(model, data)
    model.set_weights(submitted)
    try:
        submitted_metrics = audit_metrics(model, data)
    finally:
        model.set_weights(retrained)
    ok = tolerance.allows(submitted_metrics, retrained_metrics)
    figures = ", ".join(
        f"{k} {submitted_metrics[k]:.4f} submitted vs {v:.4f} retrained" for k, v in retrained_metrics.items() if k in submitted_metrics
    )
    return {
        "verdict": AuditVerdict.WITHIN_TOLERANCE if ok else AuditVerdict.MISMATCH,
        "detail": (figures or "no metrics to compare (the model is not compiled)")
        + f" on the first {AUDIT_EXAMPLES} training examples (tolerance: accuracy ±{tolerance.accuracy}, loss within a factor {1 + tolerance.loss:g})",
        "submitted": submitted_metrics,
        "retrained": retrained_metrics,
        "tolerance": {"accuracy": tolerance.accuracy, "loss": tolerance.loss},
    }


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
                print(f"{name}: restored the weights trained before ({epochs} epochs in {seconds:.0f} s on {trained_on}) from {weights}")
                _log({"name": name, "outcome": Outcome.RESTORED, "reason": "", "seconds": seconds})
                return TrainingRun(name, history, seconds, Outcome.RESTORED, record=record)
            reason = "the training function never called model.fit, so it trained on its own"
            print(f"{name}: {reason}")
            _log({"name": name, "outcome": Outcome.TRAINED, "reason": reason, "seconds": 0.0})
            return TrainingRun(name, history, 0.0, Outcome.TRAINED, reason)
    if mode is Mode.AUDIT:
        submitted, problem = _submitted_weights(model, name, folder)
        print(f"{name}: training again to audit the submitted weights")
        history, seconds, new_record = _train(name, model, train, data, expected, folder, save=False)
        audit = _audit(model, data, submitted, problem, tolerance)
        print(f"{name}: audit: {audit['verdict']}: {audit['detail']}")
        _log({"name": name, "outcome": Outcome.AUDITED, "reason": "", "seconds": seconds, "audit": audit})
        return TrainingRun(name, history, seconds, Outcome.AUDITED, audit=audit, record=new_record)
    if mode is Mode.TRAIN:
        reason = "asked to train (DLCOURSE_TRAINING=train)"
    print(f"{name}: training ({reason})")
    history, seconds, new_record = _train(name, model, train, data, expected, folder, save=True)
    print(f"{name}: trained in {seconds:.0f} s; weights and record saved in {folder}/")
    _log({"name": name, "outcome": Outcome.TRAINED, "reason": reason, "seconds": seconds})
    return TrainingRun(name, history, seconds, Outcome.TRAINED, reason, record=new_record)

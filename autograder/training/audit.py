"""The audit: the submitted weights against the ones this code trains again, bit for bit or by their metrics."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .files import WeightsRefused, load_weights, weights_path
from .fingerprint import data_parts

AUDIT_EXAMPLES = 2048  # the audit evaluates both weight sets on this many examples of the training data
LOSS_FLOOR = 1e-4  # losses below this count as equal: a regression fitted to rounding


class AuditVerdict(StrEnum):
    BIT_EQUAL = "bit-equal"  # the retrained weights are the submitted ones, bit for bit
    WITHIN_TOLERANCE = "within tolerance"  # other arithmetic (machine, threads), same result
    MISMATCH = "mismatch"  # the submitted weights do not come from this code
    NOTHING_SUBMITTED = "no weights submitted"
    UNREADABLE = "submitted weights unreadable"


@dataclass(frozen=True)
class AuditTolerance:
    """How far the submitted weights' metrics may sit from the retrained ones' (measured: benchmarks/results/audit_tolerance.md)."""

    # Wide of how far two honest trainings on other seeds (how a change of machine looks) land apart;
    # the largest spread, 06's adding problem in loss (its MSE is near 0), is in benchmarks/results/audit_tolerance.md.
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


def _fixed_batch_size(model) -> int | None:
    """The batch size the model's input declares (a stateful RNN needs one), else ``None``."""
    try:
        size = model.inputs[0].shape[0]
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    return int(size) if size else None


def _reset_stateful(model) -> None:
    """Zero the carried state of every stateful RNN layer, so that an evaluation starts where training started."""
    from .fingerprint import _layers

    for layer in _layers(model):
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state"):
            layer.reset_state()


def audit_metrics(model, data) -> dict[str, float]:
    """The compiled model's loss and metrics on the first :data:`AUDIT_EXAMPLES` examples of ``(x, y)``.

    A model whose input has a fixed batch size (a stateful LSTM for truncated BPTT) is evaluated in batches of that
    size, on a whole number of them, from a zero state.
    """
    parts = data_parts(data)
    if len(parts) < 2 or not getattr(model, "compiled", False):
        return {}
    batch = _fixed_batch_size(model)
    n = AUDIT_EXAMPLES if batch is None else max(min(AUDIT_EXAMPLES, len(parts[0])) // batch, 1) * batch
    x, y = parts[0][:n], parts[1][:n]
    _reset_stateful(model)
    try:
        values = model.evaluate(x, y, batch_size=batch or 256, verbose=0, return_dict=True)
    finally:
        _reset_stateful(model)
    return {k: float(v) for k, v in values.items()}


def submitted_weights(model, name: str, folder: Path) -> tuple[list | None, str]:
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


def compare_with_submitted(model, data, submitted: list | None, problem: str, tolerance: AuditTolerance) -> dict:
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

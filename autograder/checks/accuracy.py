"""``check_accuracy``: held-out accuracy with a 95% interval against a threshold."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import metrics
from .diagnoses import DiagnosedFailure, Diagnosis


class AccuracyError(DiagnosedFailure):
    pass


@dataclass
class AccuracyResult:
    accuracy: float
    low: float
    high: float
    n: int
    threshold: float

    @property
    def passed(self) -> bool:
        return self.accuracy >= self.threshold


def wilson_interval(correct: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval for a binomial proportion (well behaved near 0 and 1)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def predicted_labels(outputs) -> np.ndarray:
    """Class labels from probabilities/logits ``(n, k)``, a sigmoid column ``(n, 1)``, or labels ``(n,)``."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    outputs = outputs.reshape(len(outputs))
    if np.issubdtype(outputs.dtype, np.floating):
        return (outputs >= 0.5).astype(np.int64)
    return outputs


def check_accuracy(model, x, y, *, threshold: float, name: str = "test accuracy", batch_size: int = 1024, quiet: bool = False) -> AccuracyResult:
    """Evaluate ``model`` on ``(x, y)`` and assert its accuracy is at least ``threshold``.

    ``model`` is a Keras model (anything with ``predict``) or an array of its
    outputs already computed on ``x``. ``y`` holds integer labels ``(n,)`` or
    one-hot rows ``(n, k)``. Returns an :class:`AccuracyResult`.
    """
    if model is None:
        raise AccuracyError(f"{name}: got None instead of a model. Did the training cell run and return the model?", Diagnosis.NOTHING_RETURNED)
    outputs = model.predict(x, batch_size=batch_size, verbose=0) if hasattr(model, "predict") else model
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    labels = labels.reshape(-1)
    predictions = predicted_labels(outputs)
    if predictions.shape != labels.shape:
        raise AccuracyError(f"{name}: {predictions.shape[0]} predictions for {labels.shape[0]} labels", Diagnosis.SHAPE)
    correct = int(np.sum(predictions == labels))
    n = labels.size
    low, high = wilson_interval(correct, n)
    result = AccuracyResult(correct / n, low, high, n, threshold)
    if metrics.enabled():
        metrics.record("accuracy", name=name, accuracy=result.accuracy, low=low, high=high, n=n, threshold=threshold, **metrics.model_facts(model))
    summary = f"{name} {result.accuracy:.4f} (95% interval {low:.4f}-{high:.4f}, n={n:,})"
    if not result.passed:
        raise AccuracyError(
            f"{summary} is below the required {threshold:.4f}. Train longer, check the learning rate, "
            "and make sure the inputs are scaled the same way for training and testing.",
            Diagnosis.ACCURACY_BELOW,
        )
    if not quiet:
        print(f"✓ {summary} ≥ {threshold:.4f}")
    return result

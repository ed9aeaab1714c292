"""``check_mse``: held-out mean squared error against a ceiling; ``report_mse`` for figures shown but not graded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import metrics
from .diagnoses import DiagnosedFailure, Diagnosis


class MSEError(DiagnosedFailure):
    pass


@dataclass
class MSEResult:
    mse: float
    baseline: float
    n: int
    ceiling: float | None


def measure_mse(model, x, y, *, name: str = "test MSE", ceiling: float | None = None, batch_size: int = 1024) -> MSEResult:
    """Held-out MSE of ``model`` (a Keras model, or its predictions on ``x``) and of predicting the mean of ``y``.

    Asserts nothing; reports the figure to ``dlcourse bench`` when it is listening.
    """
    if model is None:
        raise MSEError(f"{name}: got None instead of a model. Did the training cell run?", Diagnosis.NOTHING_RETURNED)
    predictions = np.asarray(model.predict(x, batch_size=batch_size, verbose=0) if hasattr(model, "predict") else model, dtype=np.float64)
    targets = np.asarray(y, dtype=np.float64)
    if predictions.size != targets.size:
        raise MSEError(f"{name}: {predictions.shape} predictions for targets of shape {targets.shape}", Diagnosis.SHAPE)
    predictions = predictions.reshape(targets.shape)
    mse = float(np.mean((predictions - targets) ** 2))
    baseline = float(np.mean((targets - targets.mean()) ** 2))
    result = MSEResult(mse, baseline, targets.shape[0], ceiling)
    if metrics.enabled():
        metrics.record("mse", name=name, mse=mse, baseline=baseline, n=result.n, ceiling=ceiling, **metrics.model_facts(model))
    return result


def report_mse(model, x, y, *, name: str, note: str = "") -> MSEResult:
    """Print (and report to the bench) a model's MSE that is shown but not graded, e.g. a baseline model's."""
    result = measure_mse(model, x, y, name=name)
    print(f"{name} {result.mse:.4f} (predicting the mean scores {result.baseline:.4f}; n={result.n:,}){' — ' + note if note else ''}")
    return result


def check_mse(model, x, y, *, ceiling: float, name: str = "test MSE", batch_size: int = 1024, quiet: bool = False) -> MSEResult:
    """Evaluate ``model`` on ``(x, y)`` and assert its mean squared error is at most ``ceiling``.

    ``model`` is a Keras model or its predictions on ``x`` (same shape as ``y``).
    The message also gives the error of always predicting the mean of ``y``,
    the baseline any model must beat.
    """
    result = measure_mse(model, x, y, name=name, ceiling=ceiling, batch_size=batch_size)
    summary = f"{name} {result.mse:.4f} (predicting the mean scores {result.baseline:.4f}; n={result.n:,})"
    if not np.isfinite(result.mse) or result.mse > ceiling:
        raise MSEError(
            f"{summary} is above the allowed {ceiling:.4f}. Train longer or check the learning rate and the targets' scaling.", Diagnosis.MSE_ABOVE
        )
    if not quiet:
        print(f"✓ {summary} ≤ {ceiling:.4f}")
    return result

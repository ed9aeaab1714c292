"""Numerical gradient checking, in the style of CS231n, with the noise of finite differences allowed for.

The analytic gradient is compared with centred finite differences computed in float64. A centred
difference ``D(h) = (f(x + h) - f(x - h)) / 2h`` is only as exact as two things allow:

* rounding: ``f`` itself is computed with a relative error of a few ``eps`` (2.2e-16), which the
  division by ``2h`` (1e-5) amplifies to an absolute error of about ``eps * |f| / h`` (2e-11 |f|);
* truncation: ``h**2 / 6`` times the third derivative (about 1e-11 for smooth losses).

Two equivalent formulas for the same loss (``-mean(log_probs[idx, y])`` and the one-hot
``-sum(Y * log_probs) / N``) round differently, so their numerical gradients differ by that much,
and a fixed relative tolerance of 1e-7 on entries of 1e-5 is below it: correct code lost points to
noise. So each entry is allowed its own noise before the relative error is measured:

    noise_i = ROUNDING_ULPS * eps * scale(f) / h  +  |D(h)_i - D(2h)_i|

where ``scale(f)`` is ``|f(x)|`` (or ``sum |f(x) * dout|`` for array-valued ``f``). The first term
bounds rounding (measured: at most 2 eps |f| / h over 900 random softmax cross-entropy checks with
three formulas; 32 leaves a margin of 16, and catches intermediate values larger than ``f``); the
second is a measured error estimate: D(2h) carries four times D(h)'s truncation error and its own
rounding, so the gap between them over-estimates D(h)'s error. It is computed only for entries that
fail without it, so correct gradients cost nothing extra. (A kink, such as ReLU's at 0, within 2h of
the point defeats every finite difference: test inputs keep away from kinks.) An entry then passes when

    |a - n| - noise  <  tol * max(|a| + |n|, 1e-3 * max|n|).

Real mistakes stay far outside: a missing 1/N, a flipped sign, a transpose or a 1 % error give
relative errors of 5e-3 or more, against an allowance of about 1e-8 relative (a few 1e-9 absolute
for a loss of a few units, entries of 0.1).

When the check fails, :func:`diagnose_gradient` looks for the usual mistakes: a constant factor (a
forgotten or doubled mean over the batch), a flipped sign, a transpose, or a gradient never filled in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .diagnoses import DiagnosedFailure, Diagnosis

TINY = 1e-12
EPS = float(np.finfo(np.float64).eps)
ROUNDING_ULPS = 32.0  # rounding allowance, in units of eps * scale(f) / h (see the module docstring)


class GradientCheckError(DiagnosedFailure):
    pass


def relative_error(analytic, numeric, tiny: float = TINY) -> np.ndarray:
    """Elementwise ``|a - n| / max(|a| + |n|, tiny)``."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), tiny)


def noise_floor(numeric: np.ndarray) -> float:
    """The ``tiny`` of :func:`relative_error` for a gradient check.

    Finite differences carry an absolute error of roughly 1e-10 (rounding
    plus truncation), so an entry a thousand times smaller than the largest
    one cannot be checked to a relative 1e-7; such entries are compared
    against this floor instead of their own size.
    """
    largest = float(np.max(np.abs(numeric))) if np.size(numeric) else 0.0
    return max(TINY, 1e-3 * largest)


def _scalarizer(dout):
    dout = None if dout is None else np.asarray(dout, dtype=np.float64)

    def scalar(value) -> float:
        value = np.asarray(value, dtype=np.float64)
        if dout is None:
            if value.size != 1:
                raise ValueError(f"f returned shape {value.shape}; pass dout= to check a function with array output")
            return float(value.reshape(()))
        return float(np.sum(value * dout))

    return scalar


def _centred(f, x: np.ndarray, dout, h: float, indices) -> np.ndarray:
    """Centred differences at the flat ``indices`` of ``x`` (perturbed in place and restored)."""
    scalar = _scalarizer(dout)
    flat = x.reshape(-1)  # a view: writing to it perturbs x
    out = np.zeros(len(indices), dtype=np.float64)
    for k, i in enumerate(indices):
        old = flat[i]
        flat[i] = old + h
        plus = scalar(f(x))
        flat[i] = old - h
        minus = scalar(f(x))
        flat[i] = old
        out[k] = (plus - minus) / (2 * h)
    return out


def numerical_gradient(f: Callable[[np.ndarray], object], x: np.ndarray, dout=None, h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    ``f`` takes an array shaped like ``x`` and returns a scalar (``dout`` is
    then ignored) or an array shaped like ``dout``, the upstream gradient.
    ``x`` is perturbed in place, one entry at a time, and restored.
    Returns an array of ``x``'s shape. Cost: two calls of ``f`` per entry.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"numerical_gradient needs a float array, got dtype {x.dtype}")
    return _centred(f, x, dout, h, range(x.size)).reshape(x.shape)


def finite_difference_noise(f, x: np.ndarray, numeric: np.ndarray, *, dout=None, h: float = 1e-5, indices=None) -> np.ndarray:
    """How far ``numeric`` (centred differences with step ``h``) may be from the true gradient.

    ``ROUNDING_ULPS * eps * scale(f) / h`` plus ``|D(h) - D(2h)|`` at the flat ``indices`` (every
    entry by default; elsewhere only the rounding term). Returns an array shaped like ``x``.
    """
    x = np.asarray(x)
    value = np.asarray(f(x), dtype=np.float64)
    scale = float(np.abs(value).sum()) if dout is None else float(np.sum(np.abs(value * np.asarray(dout, dtype=np.float64))))
    noise = np.full(x.shape, ROUNDING_ULPS * EPS * scale / h)
    indices = range(x.size) if indices is None else indices
    if len(indices):
        coarse = _centred(f, x, dout, 2 * h, indices)
        noise.reshape(-1)[list(indices)] += np.abs(numeric.reshape(-1)[list(indices)] - coarse)
    return noise


def gradient_diagnosis(analytic, numeric, batch_size: int | None = None) -> tuple[Diagnosis, str] | None:
    """The likely mistake behind a gradient that does not match, with the sentence that names it, or ``None``."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        if a.ndim == 2 and a.T.shape == n.shape and np.allclose(a.T, n, rtol=1e-4, atol=1e-8):
            return Diagnosis.TRANSPOSE, f"your gradient is the transpose of the right one (shape {a.shape} instead of {n.shape})"
        return (
            Diagnosis.SHAPE,
            f"your gradient has shape {a.shape} but the parameter has shape {n.shape}: a gradient is shaped like what it differentiates",
        )
    if not np.any(n):
        return None
    if not np.any(a):
        return Diagnosis.ALL_ZERO, "your gradient is all zeros: is it computed, assigned and returned?"
    if a.ndim == 2 and a.shape[0] == a.shape[1] and not np.allclose(a, n, rtol=1e-4, atol=1e-8) and np.allclose(a.T, n, rtol=1e-4, atol=1e-8):
        return Diagnosis.TRANSPOSE, "your gradient is the transpose of the right one: check the order of a matrix product (X.T @ d, not d.T @ X)"
    scale = float(np.dot(a.ravel(), n.ravel()) / np.dot(n.ravel(), n.ravel()))
    residual = np.linalg.norm(a - scale * n) / max(np.linalg.norm(a), TINY)
    if residual > 1e-3 or abs(scale - 1) < 1e-3:
        return None
    if abs(scale + 1) < 1e-3:
        return Diagnosis.SIGN, "your gradient has the wrong sign: gradient ascent instead of descent, or (p - y) written as (y - p)"
    subject = "your gradient has the wrong sign and is" if scale < 0 else "your gradient is"
    magnitude = abs(scale)
    if batch_size and batch_size > 1:
        if abs(magnitude - batch_size) / batch_size < 1e-3:
            return Diagnosis.BATCH_MEAN_MISSING, f"{subject} {batch_size}x too large (the batch size): the mean over the batch is missing"
        if abs(magnitude * batch_size - 1) < 1e-3:
            return Diagnosis.BATCH_MEAN_TWICE, f"{subject} {batch_size}x too small (the batch size): the mean over the batch is taken twice"
    if abs(magnitude - 2) < 1e-3 or abs(magnitude - 0.5) < 1e-3:
        return Diagnosis.FACTOR_TWO, f"{subject} off by a factor {magnitude:.3g}: check a 1/2 in the loss or a doubled term"
    return (
        Diagnosis.CONSTANT_FACTOR,
        f"{subject} off by a constant factor {magnitude:.4g}: a missing or extra scaling (batch size, 1/2, learning rate?)",
    )


def diagnose_gradient(analytic, numeric, batch_size: int | None = None) -> str | None:
    """Name the likely mistake behind a gradient that does not match, or ``None``."""
    found = gradient_diagnosis(analytic, numeric, batch_size)
    return found[1] if found else None


@dataclass
class GradientCheck:
    """The measured errors. ``max_relative_error`` is the error beyond finite-difference noise."""

    name: str
    max_relative_error: float
    worst_index: tuple
    analytic: float
    numeric: float
    tol: float
    noise: float = 0.0  # finite-difference noise allowed at the worst entry

    @property
    def passed(self) -> bool:
        return self.max_relative_error < self.tol


def excess_relative_error(analytic, numeric, noise, floor: float = TINY) -> np.ndarray:
    """Elementwise ``max(|a - n| - noise, 0) / max(|a| + |n|, floor)``: the relative error noise cannot explain."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    return np.maximum(np.abs(a - n) - noise, 0.0) / np.maximum(np.abs(a) + np.abs(n), floor)


def check_gradient(
    f: Callable[[np.ndarray], object],
    x: np.ndarray,
    analytic,
    *,
    dout=None,
    h: float = 1e-5,
    tol: float = 1e-7,
    batch_size: int | None = None,
    name: str = "gradient",
    quiet: bool = False,
) -> None:
    """Compare ``analytic`` with the numerical gradient of ``f`` at ``x``.

    Args:
        f: function of one array shaped like ``x``; returns a scalar loss, or an
            array the shape of ``dout`` (the check then differentiates ``sum(f(x) * dout)``).
        x: the point, any shape; copied to float64 before perturbing.
        analytic: the gradient your backward pass computed, shape of ``x``.
        dout: upstream gradient for array-valued ``f``.
        tol: pass when the largest relative error beyond finite-difference noise is below it
            (1e-7 suits float64; see the module docstring for the noise allowed).
        batch_size: lets the diagnosis recognise a factor equal to the batch size.

    Returns ``None`` (nbgrader would read a number left as a test cell's value
    as partial credit); raises :class:`GradientCheckError` when it fails.
    Use :func:`gradient_check` for the measured errors.
    """
    result = gradient_check(f, x, analytic, dout=dout, h=h, tol=tol, batch_size=batch_size, name=name)
    if not quiet:
        print(f"✓ {name}: matches the numerical gradient (relative error beyond finite-difference noise {result.max_relative_error:.2e} < {tol:g})")


def gradient_check(
    f, x, analytic, *, dout=None, h: float = 1e-5, tol: float = 1e-7, batch_size: int | None = None, name: str = "gradient"
) -> GradientCheck:
    """The work of :func:`check_gradient`: returns the :class:`GradientCheck`, raises when it fails."""
    point = np.array(x, dtype=np.float64, copy=True)
    if analytic is None:
        raise GradientCheckError(f"{name}: your gradient is None. Did the backward function forget to `return` it?", Diagnosis.NOTHING_RETURNED)
    numeric = numerical_gradient(f, point, dout=dout, h=h)
    if not np.all(np.isfinite(numeric)):
        raise GradientCheckError(
            f"{name}: the function being differentiated returns NaN or inf near this point, "
            "so its gradient cannot be checked. Check the forward pass or loss for exp overflow or log(0).",
            Diagnosis.NAN_OR_INF,
        )
    a = np.asarray(analytic, dtype=np.float64)
    if a.shape != numeric.shape:
        code, diagnosis = gradient_diagnosis(a, numeric, batch_size)
        raise GradientCheckError(f"{name}: {diagnosis}.", code)
    if not np.all(np.isfinite(a)):
        raise GradientCheckError(f"{name}: your gradient contains NaN or inf. Check for log(0), exp overflow or 0/0.", Diagnosis.NAN_OR_INF)
    floor = noise_floor(numeric)
    noise = finite_difference_noise(f, point, numeric, dout=dout, h=h, indices=[])  # rounding only
    suspects = np.flatnonzero(excess_relative_error(a, numeric, noise, floor) >= tol)
    if suspects.size:  # measure the finite-difference error where rounding alone does not explain the gap
        noise = finite_difference_noise(f, point, numeric, dout=dout, h=h, indices=suspects)
    errors = excess_relative_error(a, numeric, noise, floor)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(errors)), errors.shape)) if errors.size else ()
    result = GradientCheck(
        name,
        float(errors.max()) if errors.size else 0.0,
        worst,
        float(a[worst]),
        float(numeric[worst]),
        tol,
        float(noise[worst]) if errors.size else 0.0,
    )
    if not result.passed:
        found = gradient_diagnosis(a, numeric, batch_size)
        message = (
            f"{name}: max relative error {result.max_relative_error:.3e} (needs < {tol:g}, beyond finite-difference noise); "
            f"worst entry {worst}: yours {result.analytic:.6g}, numerical {result.numeric:.6g}."
        )
        if found:
            message += f" Likely cause: {found[1]}."
        raise GradientCheckError(message, found[0] if found else None)
    return result

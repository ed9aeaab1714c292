"""Numerical gradient checking, in the style of CS231n.

The analytic gradient is compared with centered finite differences computed
in float64, using the relative error ``|a - n| / max(|a| + |n|, tiny)``.
When the check fails, :func:`diagnose_gradient` looks for the usual
mistakes: a constant factor (a forgotten or doubled mean over the batch), a
flipped sign, a transpose, or a gradient that was never filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

TINY = 1e-12


class GradientCheckError(AssertionError):
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
    grad = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writing to it perturbs x
    grad_flat = grad.reshape(-1)

    def scalar(value) -> float:
        value = np.asarray(value, dtype=np.float64)
        if dout is None:
            if value.size != 1:
                raise ValueError(f"f returned shape {value.shape}; pass dout= to check a function with array output")
            return float(value.reshape(()))
        return float(np.sum(value * np.asarray(dout, dtype=np.float64)))

    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = scalar(f(x))
        flat[i] = old - h
        minus = scalar(f(x))
        flat[i] = old
        grad_flat[i] = (plus - minus) / (2 * h)
    return grad


def diagnose_gradient(analytic, numeric, batch_size: int | None = None) -> str | None:
    """Name the likely mistake behind a gradient that does not match, or ``None``."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        if a.ndim == 2 and a.T.shape == n.shape and np.allclose(a.T, n, rtol=1e-4, atol=1e-8):
            return "your gradient is the transpose of the right one (shape {} instead of {})".format(a.shape, n.shape)
        return f"your gradient has shape {a.shape} but the parameter has shape {n.shape}: a gradient is shaped like what it differentiates"
    if not np.any(n):
        return None
    if not np.any(a):
        return "your gradient is all zeros: is it computed, assigned and returned?"
    if a.ndim == 2 and a.shape[0] == a.shape[1] and not np.allclose(a, n, rtol=1e-4, atol=1e-8) and np.allclose(a.T, n, rtol=1e-4, atol=1e-8):
        return "your gradient is the transpose of the right one: check the order of a matrix product (X.T @ d, not d.T @ X)"
    scale = float(np.dot(a.ravel(), n.ravel()) / np.dot(n.ravel(), n.ravel()))
    residual = np.linalg.norm(a - scale * n) / max(np.linalg.norm(a), TINY)
    if residual > 1e-3 or abs(scale - 1) < 1e-3:
        return None
    if abs(scale + 1) < 1e-3:
        return "your gradient has the wrong sign: gradient ascent instead of descent, or (p - y) written as (y - p)"
    subject = "your gradient has the wrong sign and is" if scale < 0 else "your gradient is"
    magnitude = abs(scale)
    if batch_size and batch_size > 1:
        if abs(magnitude - batch_size) / batch_size < 1e-3:
            return f"{subject} {batch_size}x too large (the batch size): the mean over the batch is missing"
        if abs(magnitude * batch_size - 1) < 1e-3:
            return f"{subject} {batch_size}x too small (the batch size): the mean over the batch is taken twice"
    if abs(magnitude - 2) < 1e-3 or abs(magnitude - 0.5) < 1e-3:
        return f"{subject} off by a factor {magnitude:.3g}: check a 1/2 in the loss or a doubled term"
    return f"{subject} off by a constant factor {magnitude:.4g}: a missing or extra scaling (batch size, 1/2, learning rate?)"


@dataclass
class GradientCheck:
    name: str
    max_relative_error: float
    worst_index: tuple
    analytic: float
    numeric: float
    tol: float

    @property
    def passed(self) -> bool:
        return self.max_relative_error < self.tol


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
        tol: pass when the largest relative error is below it (1e-7 suits float64).
        batch_size: lets the diagnosis recognise a factor equal to the batch size.

    Returns ``None`` (nbgrader would read a number left as a test cell's value
    as partial credit); raises :class:`GradientCheckError` when it fails.
    Use :func:`gradient_check` for the measured errors.
    """
    result = gradient_check(f, x, analytic, dout=dout, h=h, tol=tol, batch_size=batch_size, name=name)
    if not quiet:
        print(f"✓ {name}: max relative error {result.max_relative_error:.2e} (< {tol:g})")


def gradient_check(f, x, analytic, *, dout=None, h: float = 1e-5, tol: float = 1e-7, batch_size: int | None = None, name: str = "gradient") -> GradientCheck:
    """The work of :func:`check_gradient`: returns the :class:`GradientCheck`, raises when it fails."""
    point = np.array(x, dtype=np.float64, copy=True)
    numeric = numerical_gradient(f, point, dout=dout, h=h)
    if analytic is None:
        raise GradientCheckError(f"{name}: your gradient is None. Did the backward function forget to `return` it?")
    a = np.asarray(analytic, dtype=np.float64)
    if a.shape != numeric.shape:
        diagnosis = diagnose_gradient(a, numeric, batch_size)
        raise GradientCheckError(f"{name}: {diagnosis}.")
    if not np.all(np.isfinite(a)):
        raise GradientCheckError(f"{name}: your gradient contains NaN or inf. Check for log(0), exp overflow or 0/0.")
    errors = relative_error(a, numeric, noise_floor(numeric))
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(errors)), errors.shape)) if errors.size else ()
    result = GradientCheck(name, float(errors.max()) if errors.size else 0.0, worst, float(a[worst]), float(numeric[worst]), tol)
    if not result.passed:
        diagnosis = diagnose_gradient(a, numeric, batch_size)
        message = (
            f"{name}: max relative error {result.max_relative_error:.3e} (needs < {tol:g}); "
            f"worst entry {worst}: yours {result.analytic:.6g}, numerical {result.numeric:.6g}."
        )
        if diagnosis:
            message += f" Likely cause: {diagnosis}."
        raise GradientCheckError(message)
    return result

"""``check_close``: compare an array a student computed with the expected one."""

from __future__ import annotations

import numpy as np

from .diagnoses import DiagnosedFailure, Diagnosis


class ArrayMismatch(DiagnosedFailure):
    pass


def _as_array(value, name: str, role: str) -> np.ndarray:
    if value is None:
        raise ArrayMismatch(f"{name}: {role} is None. Did the function forget to `return` its result?", Diagnosis.NOTHING_RETURNED)
    try:
        return np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ArrayMismatch(f"{name}: {role} cannot be turned into an array ({exc})") from exc


def check_close(actual, expected, *, rtol: float = 1e-5, atol: float = 1e-8, name: str = "result", quiet: bool = False) -> None:
    """Assert ``actual`` matches ``expected`` elementwise within ``atol + rtol * |expected|``.

    Checks, in order: shape, numeric dtype, NaN/inf, then values; the message
    names the first thing wrong and the worst entry.

    Returns ``None`` on purpose: nbgrader reads a number left as a test cell's
    last value as *partial credit in points*.
    """
    actual = _as_array(actual, name, "your result")
    expected = _as_array(expected, name, "the expected value")
    if actual.shape != expected.shape:
        hint = ""
        if actual.size == expected.size:
            hint = " Same number of entries: check a reshape, a transpose or a missing keepdims=True."
        elif actual.ndim == expected.ndim + 1 or actual.ndim + 1 == expected.ndim:
            hint = " One axis too many or too few: check an axis= argument or a squeeze."
        raise ArrayMismatch(f"{name}: shape {actual.shape}, expected {expected.shape}.{hint}", Diagnosis.SHAPE)
    if not (np.issubdtype(actual.dtype, np.number) or actual.dtype == bool):
        raise ArrayMismatch(f"{name}: dtype {actual.dtype} is not numeric")
    if np.issubdtype(actual.dtype, np.inexact):
        bad = ~np.isfinite(actual)
        expected_bad = ~np.isfinite(expected.astype(np.float64))
        if np.any(bad & ~expected_bad):
            where = tuple(int(i) for i in np.argwhere(bad & ~expected_bad)[0])
            kinds = "NaN" if np.isnan(actual[where]) else "inf"
            raise ArrayMismatch(
                f"{name}: {int(np.sum(bad & ~expected_bad))} entries are NaN or inf (first: {kinds} at index {where}). "
                "Look for exp() of a large number, log(0) or a division by zero: the numerically stable forms avoid them.",
                Diagnosis.NAN_OR_INF,
            )
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    finite = np.isfinite(e)
    diff = np.where(finite, np.abs(a - e), 0.0)
    allowed = atol + rtol * np.abs(np.where(finite, e, 0.0))
    if np.any(diff > allowed) or np.any(~finite & (a != e)):
        worst = np.unravel_index(int(np.argmax(diff - allowed)), diff.shape) if diff.size else ()
        worst = tuple(int(i) for i in worst)
        n_bad = int(np.sum(diff > allowed))
        raise ArrayMismatch(
            f"{name}: {n_bad} of {diff.size} entries differ by more than atol={atol:g} + rtol={rtol:g}*|expected|; "
            f"worst at index {worst}: yours {a[worst]:.6g}, expected {e[worst]:.6g} (difference {diff[worst]:.3g})."
        )
    max_diff = float(diff.max()) if diff.size else 0.0
    if not quiet:
        print(f"✓ {name}: shape {actual.shape} matches, max |difference| {max_diff:.2e}")

"""How a cost grows with problem size: timing, power-law fits and log-log plots.

Assignment 02 measures the lectures' claim that finite differences cost
O(W^2) per gradient and backpropagation O(W), for W weights. The helpers here
keep that experiment short in the notebook: :func:`best_time` times a call,
:func:`fit_power_law` estimates the exponent k in ``cost ~ c * W**k``, and
:func:`plot_scaling` draws the measurements on log-log axes with the fits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np


def best_time(fn: Callable[[], object], repeat: int = 5, number: int = 1) -> float:
    """Seconds per call of ``fn()``: the fastest of ``repeat`` rounds of ``number`` calls.

    The minimum is the usual estimate on a shared machine: other processes only
    ever make a round slower.
    """
    if repeat < 1 or number < 1:
        raise ValueError("repeat and number must be at least 1")
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def fit_power_law(sizes: Sequence[float], costs: Sequence[float]) -> tuple[float, float]:
    """Least-squares fit of ``log cost = k log size + log c``; returns ``(k, c)``.

    Needs at least two distinct positive sizes and positive costs.
    """
    x = np.asarray(sizes, dtype=np.float64)
    y = np.asarray(costs, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"sizes and costs must be 1-D and the same length, got {x.shape} and {y.shape}")
    if x.size < 2 or np.unique(x).size < 2:
        raise ValueError("a power law needs at least two distinct sizes")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("sizes and costs must be positive to fit on log-log axes")
    k, log_c = np.polyfit(np.log(x), np.log(y), 1)
    return float(k), float(np.exp(log_c))


def plot_scaling(
    sizes: Sequence[float],
    costs: Mapping[str, Sequence[float]],
    xlabel: str = "number of weights $W$",
    ylabel: str = "seconds",
    fit_last: int | None = 3,
    title: str | None = None,
    ax=None,
):
    """Each named cost against ``sizes`` on log-log axes, with its fitted exponent.

    ``fit_last`` fits the power law on the largest sizes only (fixed per-call
    overheads dominate small problems); ``None`` fits all of them. The fitted
    line is drawn dashed over the points it was fitted on, and the legend
    gives its exponent. Returns the figure.
    """
    import matplotlib.pyplot as plt

    sizes = np.asarray(sizes, dtype=np.float64)
    fig = ax.figure if ax is not None else plt.figure(figsize=(6, 4))
    ax = ax or fig.add_subplot()
    for i, (label, values) in enumerate(costs.items()):
        values = np.asarray(values, dtype=np.float64)
        start = 0 if fit_last is None else max(0, len(sizes) - fit_last)
        k, c = fit_power_law(sizes[start:], values[start:])
        ax.loglog(sizes, values, marker="o", color=f"C{i}", label=f"{label} (slope {k:.2f})")
        ax.loglog(sizes[start:], c * sizes[start:] ** k, linestyle="--", color=f"C{i}", alpha=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig

"""The figures the notebooks draw, shared so no notebook re-implements them.

Each function draws on a new figure (or the ``ax`` given), returns the
figure, and leaves showing it to the notebook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def plot_history(histories: Mapping[str, object] | object, metrics: Sequence[str] = ("loss", "accuracy"), title: str | None = None):
    """Training and validation curves, one panel per metric.

    ``histories`` is a Keras ``History`` (or its ``.history`` dict), or a mapping
    ``label -> History`` to overlay several runs on the same panels.
    """
    plt = _plt()
    if not isinstance(histories, Mapping) or "loss" in histories:
        histories = {"": histories}
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=False):
        for i, (label, history) in enumerate(histories.items()):
            values = getattr(history, "history", history)
            color = f"C{i}"
            prefix = f"{label} " if label else ""
            if metric in values:
                epochs = np.arange(1, len(values[metric]) + 1)
                ax.plot(epochs, values[metric], color=color, label=f"{prefix}train")
            if f"val_{metric}" in values:
                epochs = np.arange(1, len(values[f"val_{metric}"]) + 1)
                ax.plot(epochs, values[f"val_{metric}"], color=color, linestyle="--", label=f"{prefix}validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_curves(curves: Mapping[str, Sequence[float]], xlabel: str, ylabel: str, logy: bool = False, title: str | None = None, ax=None):
    """Several named 1-D curves on one axis (losses per iteration, norms per layer, ...)."""
    plt = _plt()
    fig = ax.figure if ax is not None else plt.figure(figsize=(6, 3.8))
    ax = ax or fig.add_subplot()
    for label, values in curves.items():
        ax.plot(np.arange(len(values)), values, marker="." if len(values) < 40 else None, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of class ``i`` predicted as ``j``; shape ``(n_classes, n_classes)``."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()), 1)
    return matrix


def plot_confusion_matrix(y_true, y_pred, class_names: Sequence[str], title: str = "Confusion matrix (test set)"):
    """Row-normalised confusion matrix with counts in each cell."""
    plt = _plt()
    matrix = confusion_matrix(y_true, y_pred, len(class_names))
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(class_names)):
        for j in range(len(class_names)):
            ax.text(j, i, matrix[i, j], ha="center", va="center", fontsize=7, color="white" if rates[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_image_grid(
    images, titles: Sequence[str] | None = None, ncols: int = 10, cmap: str = "gray", symmetric: bool = False, suptitle: str | None = None
):
    """Images ``(n, h, w)`` in a grid; ``symmetric`` centres the colour map on 0 (for weights)."""
    plt = _plt()
    images = np.asarray(images)
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.5 * nrows), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k >= n:
            continue
        if symmetric:
            limit = np.abs(images[k]).max() or 1.0
            ax.imshow(images[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            ax.imshow(images[k], cmap=cmap)
        if titles is not None:
            ax.set_title(titles[k], fontsize=7)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X, y, title: str | None = None, resolution: int = 200, ax=None):
    """Filled contours of ``predict`` over the bounding box of 2-D points ``X`` ``(n, 2)``, with the points.

    ``predict`` maps ``(m, 2)`` points to class labels or probabilities of class 1, shape ``(m,)``.
    """
    plt = _plt()
    X = np.asarray(X)
    fig = ax.figure if ax is not None else plt.figure(figsize=(4.8, 4.2))
    ax = ax or fig.add_subplot()
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    z = np.asarray(predict(np.c_[gx.ravel(), gy.ravel()])).reshape(gx.shape)
    ax.contourf(gx, gy, z, levels=20 if z.dtype.kind == "f" else None, cmap="RdBu_r", alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", linewidths=0.4, s=24)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig

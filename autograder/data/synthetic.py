"""Seeded generators for the small synthetic problems the course uses.

Every generator takes a ``seed`` and returns NumPy arrays, so a notebook, its
tests and the grader all see exactly the same data.
"""

from __future__ import annotations

import numpy as np


def make_xor(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four Gaussian clusters at the corners of the unit square, labelled by XOR.

    Returns ``X`` of shape ``(n, 2)`` (float64) and ``y`` of shape ``(n,)`` with values in {0, 1}.
    """
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n, 2))
    X = corners + noise * rng.standard_normal((n, 2))
    y = np.logical_xor(corners[:, 0], corners[:, 1]).astype(np.int64)
    return X, y


def make_blobs(n: int = 200, separation: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two 2-D Gaussian blobs (unit variance) whose means are ``separation`` apart.

    Returns ``X`` of shape ``(n, 2)`` and ``y`` of shape ``(n,)`` in {0, 1}, classes balanced.
    """
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    means = np.array([[-separation / 2, 0.0], [separation / 2, 0.0]])
    X = means[y] + rng.standard_normal((n, 2))
    order = rng.permutation(n)
    return X[order], y[order].astype(np.int64)


def make_spirals(n_per_class: int = 100, n_classes: int = 2, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spirals (the CS231n toy problem): not linearly separable.

    Returns ``X`` of shape ``(n_per_class * n_classes, 2)`` and ``y`` of shape
    ``(n_per_class * n_classes,)`` with values ``0 .. n_classes-1``.
    """
    rng = np.random.default_rng(seed)
    X = np.zeros((n_per_class * n_classes, 2))
    y = np.zeros(n_per_class * n_classes, dtype=np.int64)
    for k in range(n_classes):
        rows = slice(n_per_class * k, n_per_class * (k + 1))
        radius = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + noise * rng.standard_normal(n_per_class)
        X[rows] = np.c_[radius * np.sin(theta), radius * np.cos(theta)]
        y[rows] = k
    return X, y


def make_adding_problem(n: int = 1000, timesteps: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber, 1997), plain-sum variant.

    Each sequence has two features per step: a value drawn uniformly from
    [0, 1) and a marker that is 1 at exactly two random steps (one in each half)
    and 0 elsewhere. The target is the sum of the two marked values, so
    predicting the mean (1.0) gives an MSE of 1/6 ~ 0.167.

    Returns ``X`` of shape ``(n, timesteps, 2)`` (float32) and ``y`` of shape ``(n, 1)`` (float32).
    """
    if timesteps < 2:
        raise ValueError("the adding problem needs at least 2 time steps")
    rng = np.random.default_rng(seed)
    values = rng.random((n, timesteps))
    markers = np.zeros((n, timesteps))
    half = timesteps // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, timesteps, size=n)
    markers[np.arange(n), first] = 1.0
    markers[np.arange(n), second] = 1.0
    X = np.stack([values, markers], axis=-1).astype(np.float32)
    y = (values[np.arange(n), first] + values[np.arange(n), second]).reshape(n, 1).astype(np.float32)
    return X, y

"""Temporarily set environment variables (inherited by the kernels a step starts)."""

from __future__ import annotations

import os
from contextlib import contextmanager


@contextmanager
def temporary_environment(values: dict[str, str]):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

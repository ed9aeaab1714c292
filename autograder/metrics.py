"""Results a notebook reports to whoever runs it (``dlcourse bench``), one JSON line each.

Nothing is written unless ``DLCOURSE_METRICS`` names a file, so students and
graded runs never see it. The checks call :func:`record` themselves: a
notebook that checks its final model's accuracy has reported it too.
"""

from __future__ import annotations

import json
import os
import time

ENV = "DLCOURSE_METRICS"


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def record(kind: str, **fields) -> None:
    """Append ``{"kind": kind, "time": ..., **fields}`` to the metrics file, if one is set."""
    path = os.environ.get(ENV)
    if not path:
        return
    entry = {"kind": kind, "time": time.time(), **fields}
    with open(path, "a") as handle:
        handle.write(json.dumps(entry, default=float) + "\n")


def model_facts(model) -> dict:
    """Parameter count and epochs trained (from the last ``fit``) of a Keras model; empty for anything else."""
    facts = {}
    if hasattr(model, "count_params"):
        try:
            facts["params"] = int(model.count_params())
        except Exception:  # an unbuilt model has no parameter count yet
            pass
    history = getattr(model, "history", None)
    if history is not None and getattr(history, "epoch", None):
        facts["epochs"] = len(history.epoch)
    return facts

"""Run answer keys end to end with timing, collecting what their checks report."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat

from ..environment import temporary_environment
from ..metrics import ENV as METRICS_ENV
from ..pipeline.kernel_glue import strip_ansi
from ..training import FOLDER_VARIABLE, MODE_VARIABLE, RECORD_DIR, Mode


@dataclass
class NotebookRun:
    assignment: str
    dataset: str
    seed: int
    wall_s: float
    metrics: list[dict] = field(default_factory=list)
    error: str | None = None


def _cell_spans(nb) -> list[tuple[str, float, float]]:
    """``(source, start, end)`` of each executed code cell, from nbclient's timing metadata (epoch seconds)."""
    spans = []
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if cell.cell_type == "code" and start and end:
            to_epoch = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            spans.append((cell.source, to_epoch(start), to_epoch(end)))
    return spans


def attach_training_times(metrics: list[dict], spans: list[tuple[str, float, float]]) -> None:
    """Give each metric the duration of the last training cell (one calling ``.fit(``) that ended before it."""
    for entry in metrics:
        fits = [(start, end) for source, start, end in spans if ".fit(" in source and end <= entry["time"] + 1e-3]
        if fits:
            start, end = fits[-1]
            entry["train_s"] = round(end - start, 2)
            if entry.get("epochs"):
                entry["epoch_s"] = round((end - start) / entry["epochs"], 3)


def run_notebook(path: Path, assignment: str, *, seed: int = 0, dataset: str = "fashion_mnist", timeout: int = 900) -> NotebookRun:
    """Execute ``path`` top to bottom in a fresh kernel; never raises for a failing cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-") as scratch:
        log = Path(scratch) / "metrics.jsonl"
        env = {METRICS_ENV: str(log), "DLCOURSE_SEED": str(seed), "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3"}
        # The bench measures training: always train, and keep the weights out of the checkout.
        env |= {MODE_VARIABLE: Mode.TRAIN, FOLDER_VARIABLE: str(Path(scratch) / RECORD_DIR)}
        if dataset == "mnist":
            env["DLCOURSE_SWAP_FASHION_FOR_MNIST"] = "1"
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=True, resources={"metadata": {"path": str(path.parent)}})
        error = None
        start = time.perf_counter()
        with temporary_environment(env):
            try:
                client.execute()
            except CellExecutionError as exc:
                error = (strip_ansi(str(exc)).strip().splitlines() or [""])[-1][:300]
            except Exception as exc:  # kernel death, timeout
                error = f"{type(exc).__name__}: {exc}"[:300]
        wall = time.perf_counter() - start
        metrics = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    attach_training_times(metrics, _cell_spans(nb))
    return NotebookRun(assignment, dataset, seed, round(wall, 1), metrics, error)


def time_grading(root: Path, assignment: str, copies: int = 1, workers: int | None = None) -> float:
    """Seconds ``dlcourse grade`` takes for ``copies`` submissions of ``assignment`` (its answer key), fresh folders."""
    from ..pipeline.examples import answered_release
    from ..pipeline.grade import GradingOptions, grade_batch

    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-grade-") as scratch:
        submissions = Path(scratch) / "submissions"
        answered = answered_release(root, assignment)
        for number in range(copies):
            student = submissions / f"reference-{number + 1}"
            student.mkdir(parents=True)
            nbformat.write(answered, student / f"{assignment}.ipynb")
        start = time.perf_counter()
        grade_batch(root, submissions, Path(scratch) / "grading", options=GradingOptions(workers=workers))
        return round(time.perf_counter() - start, 1)

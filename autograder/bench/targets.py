"""The training-speed targets of the course's answer keys, judged against one bench run.

This machine's speed drifts from day to day, so every time target is scaled by the day's
*yardstick*: the median epoch time of assignment 04's LeNet-5 in the same run, a fixed
workload (its model, batch size and data do not change), against :data:`YARDSTICK_REFERENCE_S`, its
epoch in the run the targets were set from. Accuracy targets are the median over seeds on Fashion-MNIST's full
test set; time targets are the median training-cell (or notebook) wall time, scaled.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from ..registry import BenchTarget, assignments
from .runner import NotebookRun

YARDSTICK_ASSIGNMENT = "04_cnn"
YARDSTICK_MODEL = "LeNet-5"  # a fragment of the check_accuracy name whose epoch time is the yardstick
YARDSTICK_REFERENCE_S = 4.95  # LeNet-5's epoch (s) in the bench run the targets were set from: benchmarks/results/grading_baseline.md
NOTEBOOK_LIMIT_S = 150.0  # every answer key end to end
ALL_NOTEBOOKS_LIMIT_S = 600.0  # every answer key, one after the other


def course_targets(root=None) -> list[tuple[str, BenchTarget]]:
    """(assignment id, target) for every ``[[targets]]`` entry of the assignments' ``assignment.toml``."""
    return [(a.id, t) for a in assignments(root) for t in a.targets]


@dataclass(frozen=True)
class Verdict:
    what: str
    measured: str
    target: str
    met: bool | None  # None: not measured in this run

    @property
    def mark(self) -> str:
        return {True: "met", False: "**missed**", None: "not measured"}[self.met]


def _metrics(runs: list[NotebookRun], assignment: str, model: str, dataset: str = "fashion_mnist") -> list[dict]:
    return [
        entry
        for run in runs
        if run.assignment == assignment and run.dataset == dataset
        for entry in run.metrics
        if entry.get("kind") == "accuracy" and model in entry["name"]
    ]


def yardstick(runs: list[NotebookRun]) -> float | None:
    """The median LeNet-5 epoch time (s) on Fashion-MNIST in these runs, or None if 04 did not run."""
    epochs = [e["epoch_s"] for e in _metrics(runs, YARDSTICK_ASSIGNMENT, YARDSTICK_MODEL) if "epoch_s" in e]
    return statistics.median(epochs) if epochs else None


def judge(runs: list[NotebookRun], root=None) -> tuple[float | None, list[Verdict]]:
    """(the time scale of this run, one verdict per target); the scale is yardstick / YARDSTICK_REFERENCE_S (1.0 without 04)."""
    stick = yardstick(runs)
    scale = stick / YARDSTICK_REFERENCE_S if stick else None
    factor = scale or 1.0
    verdicts = []
    for assignment, t in course_targets(root):
        found = _metrics(runs, assignment, t.model)
        label = f"{assignment} {found[0]['name'] if found else t.model}"
        if not found:
            verdicts.append(Verdict(f"{label}: accuracy", "–", f"≥ {t.min_accuracy:.3f}", None))
            continue
        accuracy = statistics.median(e["accuracy"] for e in found)
        verdicts.append(
            Verdict(f"{label}: accuracy (median of {len(found)})", f"{accuracy:.4f}", f"≥ {t.min_accuracy:.3f}", accuracy >= t.min_accuracy)
        )
        trains = [e["train_s"] for e in found if "train_s" in e]
        if t.max_train_s and trains:
            limit = t.max_train_s * factor
            seconds = statistics.median(trains)
            verdicts.append(
                Verdict(f"{label}: training s (median)", f"{seconds:.1f}", f"≤ {limit:.0f} ({t.max_train_s:.0f} × {factor:.2f})", seconds <= limit)
            )
    walls: dict[str, list[float]] = {}
    for run in runs:
        if run.dataset == "fashion_mnist" and not run.error:
            walls.setdefault(run.assignment, []).append(run.wall_s)
    for assignment, values in sorted(walls.items()):
        limit = NOTEBOOK_LIMIT_S * factor
        seconds = statistics.median(values)
        verdicts.append(Verdict(f"{assignment}: notebook end to end s (median)", f"{seconds:.1f}", f"≤ {limit:.0f}", seconds <= limit))
    if len(walls) == len(assignments(root)):
        total = sum(statistics.median(v) for v in walls.values())
        limit = ALL_NOTEBOOKS_LIMIT_S * factor
        verdicts.append(Verdict(f"all {len(walls)} notebooks s (sum of medians)", f"{total:.1f}", f"≤ {limit:.0f}", total <= limit))
    return scale, verdicts


def grading_overhead(runs: list[NotebookRun], grading_s: dict[str, float]) -> dict[str, float]:
    """Grading one submission over running the same answer key plainly (seed 0, Fashion-MNIST), per assignment."""
    plain = {r.assignment: r.wall_s for r in runs if r.dataset == "fashion_mnist" and r.seed == 0 and not r.error}
    return {aid: seconds / plain[aid] for aid, seconds in grading_s.items() if plain.get(aid)}


def markdown(runs: list[NotebookRun], grading_s: dict[str, float]) -> list[str]:
    """The targets section of results.md."""
    scale, verdicts = judge(runs)
    stick = yardstick(runs)
    lines = ["", "## Training-speed targets", ""]
    if stick:
        lines.append(
            f"Yardstick: LeNet-5's epoch took {stick:.2f} s in this run (median), against {YARDSTICK_REFERENCE_S} s when the targets "
            f"were set, so every time target is scaled by {scale:.2f}."
        )
    else:
        lines.append("Yardstick: 04 did not run, so time targets are not scaled.")
    lines += ["", "| what | measured | target | |", "|---|---|---|---|"]
    lines += [f"| {v.what} | {v.measured} | {v.target} | {v.mark} |" for v in verdicts]
    overhead = grading_overhead(runs, grading_s)
    if overhead:
        lines += [
            "",
            "Against the bench's own run of the notebook (nbclient in this process, figures not drawn), a stricter baseline",
            "than the target's `jupyter nbconvert --execute`, which `benchmarks/scripts/grading_overhead.py` times.",
            "",
            "| assignment | grading one submission / the bench's run of the notebook (target ≤ 1.15) |",
            "|---|---|",
        ]
        lines += [f"| {aid} | {ratio:.2f} |" for aid, ratio in overhead.items()]
    return lines

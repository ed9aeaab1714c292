"""What grading a whole class costs: a projection from measured per-notebook grading times.

Inputs are measurements already in ``benchmarks/results/``: ``results.json`` holds the seconds one
submission (the answer key: every cell runs, every model trains) takes to grade on the benchmark
machine, and ``grading_throughput.json`` how much two workers on that machine's two cores gain over
one. Nothing here is measured again; the model that turns them into class-scale figures is small and
stated in the output:

* a submission occupies all of the benchmark machine's cores while it grades (TensorFlow's thread
  pools use every core while a model trains), so its cost in core-seconds is ``seconds x cores``;
* a machine with ``N`` cores runs ``N / cores`` such gradings side by side at the same speed each
  (``dlcourse grade --workers N/2 --threads 2``), and a Dask cluster of ``M`` machines ``M`` times
  as many, as long as there are submissions left to hand out;
* the gain of two workers over one measured on the benchmark machine applies to the notebooks that
  do not saturate both cores (those that train no more than a small model); for the CNN and LSTM
  notebooks it is taken as 1 (measured for 04/05: two CNN kernels side by side finished no sooner
  than one after the other).

``grading_baseline.json`` keeps the grading times from before the answer keys were made faster; the projection sets
them beside today's, scaled to today's machine by the yardstick (the LeNet-5 epoch both runs timed), and
states the core-hours the speed-up saves.

Run ``python -m autograder.bench.projection`` (``dlcourse bench`` and ``dlcourse bench-grading``
write the inputs) to refresh ``benchmarks/results/grading_projection.{json,md}``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from ..pipeline.audit import DEFAULT_AUDIT_FRACTION
from ..registry import get_assignment
from . import RESULTS

CLUSTERS = ((1, 2), (1, 16), (4, 16), (16, 16))  # (machines, cores per machine)


def _light(assignment: str) -> bool:
    """Whether grading leaves a core idle, so that a second worker on the benchmark machine gains (``assignment.toml``)."""
    return get_assignment(assignment).light


@dataclass(frozen=True)
class ClassProjection:
    assignment: str
    seconds_per_submission: float  # measured: one answer key graded on the benchmark machine
    core_hours: float  # for the whole class
    wall_hours: dict[str, float]  # "M x N cores" -> hours to grade the class


def project(grading_s: dict[str, float], *, bench_cores: int, pair_speedup: float, students: int = 300) -> list[ClassProjection]:
    rows = []
    for assignment, seconds in sorted(grading_s.items()):
        speedup = pair_speedup if _light(assignment) else 1.0
        core_hours = students * seconds * bench_cores / speedup / 3600
        wall = {}
        for machines, cores in CLUSTERS:
            slots = machines * max(1, cores // bench_cores)
            rounds = math.ceil(students / slots)
            wall[f"{machines} x {cores} cores"] = rounds * seconds / speedup / 3600
        rows.append(ClassProjection(assignment, seconds, core_hours, wall))
    return rows


@dataclass(frozen=True)
class Saving:
    """Core-hours for the class before the speed-up (its times scaled to today's machine) and now."""

    baseline_date: str
    time_scale: float  # today's yardstick / the baseline's: how much slower today's machine is
    before_core_hours: dict[str, float]  # assignment -> core-hours at the baseline's times, scaled

    def saved(self, rows: list[ClassProjection]) -> float:
        return sum(self.before_core_hours[r.assignment] for r in rows) - sum(r.core_hours for r in rows)


def saving(baseline: dict, *, yardstick_s: float, bench_cores: int, pair_speedup: float, students: int = 300) -> Saving:
    scale = yardstick_s / baseline["yardstick_s"]
    scaled = {a: s * scale for a, s in baseline["grading_s"].items()}
    before = {r.assignment: r.core_hours for r in project(scaled, bench_cores=bench_cores, pair_speedup=pair_speedup, students=students)}
    return Saving(baseline["machine"]["date"], scale, before)


@dataclass(frozen=True)
class WeightsProjection:
    """The class graded from the students' weights: all but the audited sample restore, the sample trains."""

    assignment: str
    with_weights_s: float  # measured: the key graded with its weights handed in
    trained_s: float  # measured: the key graded by training
    audited: int  # submissions trained again
    core_hours: float
    wall_hours: dict[str, float]


def audited_count(students: int, fraction: float) -> int:
    """As ``dlcourse grade`` draws it: ``ceil(fraction x students)``, at least one (none at fraction 0)."""
    return 0 if fraction <= 0 else min(students, max(1, math.ceil(fraction * students)))


def project_with_weights(
    measured: dict[str, dict], grading_s: dict[str, float], *, fraction: float, bench_cores: int, pair_speedup: float, students: int = 300
) -> list[WeightsProjection]:
    """Restoring grades like a light notebook (one core busy, so a second worker gains); an audit trains like today."""
    rows = []
    for assignment, full_s in sorted(grading_s.items()):
        row = measured.get(assignment)
        if row is None:  # nothing to restore (02 trains no model): graded as today
            reuse_s, trained_s, audits = full_s, full_s, 0
        else:
            reuse_s, trained_s, audits = row["with_weights_s"], row["trained_s"], audited_count(students, fraction)
        reuse_speedup = pair_speedup if row is not None or _light(assignment) else 1.0
        seconds = (students - audits) * reuse_s / reuse_speedup + audits * trained_s
        wall = {}
        for machines, cores in CLUSTERS:
            slots = machines * max(1, cores // bench_cores)
            wall[f"{machines} x {cores} cores"] = math.ceil(students / slots) * seconds / students / 3600
        rows.append(WeightsProjection(assignment, reuse_s, trained_s, audits, seconds * bench_cores / 3600, wall))
    return rows


def render_with_weights(rows: list[WeightsProjection], *, machine: dict, fraction: float, students: int, today_core_hours: float) -> str:
    clusters = list(rows[0].wall_hours) if rows else []
    total = sum(r.core_hours for r in rows)
    lines = [
        "",
        f"## With the students' weights: audit fraction {fraction:g}",
        "",
        f"From `benchmarks/results/grading_with_weights.json` ({machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('date', '?')}): each submission is graded from its handed-in weights, and "
        f"`ceil({fraction:g} x {students})` of each assignment's submissions are trained again to audit them "
        "(at `dlcourse grade`'s default). A grading that restores keeps one core busy, so two run side by side on the "
        "benchmark machine (the same gain as the light notebooks above); an audit trains as a grading does today.",
        "",
        "| assignment | s with weights | s trained | audited | core-hours | " + " | ".join(f"wall h, {c}" for c in clusters) + " |",
        "|---|---|---|---|---|" + "---|" * len(clusters),
    ]
    for r in rows:
        lines.append(
            f"| {r.assignment} | {r.with_weights_s:.0f} | {r.trained_s:.0f} | {r.audited} | {r.core_hours:.1f} | "
            + " | ".join(f"{h:.2f}" for h in r.wall_hours.values())
            + " |"
        )
    lines.append(
        f"| all | | | {sum(r.audited for r in rows)} | {total:.1f} | "
        + " | ".join(f"{sum(r.wall_hours[c] for r in rows):.2f}" for c in clusters)
        + " |"
    )
    lines += [
        "",
        f"{total:.1f} core-hours for the class against {today_core_hours:.1f} when every submission is trained again "
        "(the same measurements: the training runs' seconds, 02's from the table above).",
    ]
    return "\n".join(lines) + "\n"


def render(rows: list[ClassProjection], *, machine: dict, pair_speedup: float, students: int, before: Saving | None = None) -> str:
    clusters = list(rows[0].wall_hours) if rows else []
    lines = [
        f"# Grading a class of {students}: a projection",
        "",
        f"From `benchmarks/results/results.json` (seconds to grade one answer key; {machine.get('cpu', '?')}, "
        f"{machine.get('cores', '?')} cores, {machine.get('date', '?')}) and `benchmarks/results/grading_throughput.json` "
        f"(two workers on that machine: {pair_speedup:.2f}x one worker). The model and its assumptions are in "
        "`autograder/bench/projection.py`; a Dask cluster's machines are counted like the local one's cores.",
        "",
        "| assignment | s per submission | core-hours | "
        + ("core-hours before¹ | " if before else "")
        + " | ".join(f"wall h, {c}" for c in clusters)
        + " |",
        "|---|---|---|" + ("---|" if before else "") + "---|" * len(clusters),
    ]
    for r in rows:
        lines.append(
            f"| {r.assignment} | {r.seconds_per_submission:.0f} | {r.core_hours:.1f} | "
            + (f"{before.before_core_hours[r.assignment]:.1f} | " if before else "")
            + " | ".join(f"{h:.2f}" for h in r.wall_hours.values())
            + " |"
        )
    total_core = sum(r.core_hours for r in rows)
    totals = [sum(r.wall_hours[c] for r in rows) for c in clusters]
    lines.append(
        f"| all | {sum(r.seconds_per_submission for r in rows):.0f} | {total_core:.1f} | "
        + (f"{sum(before.before_core_hours[r.assignment] for r in rows):.1f} | " if before else "")
        + " | ".join(f"{h:.2f}" for h in totals)
        + " |"
    )
    if before:
        saved = before.saved(rows)
        total_before = sum(before.before_core_hours[r.assignment] for r in rows)
        lines += [
            "",
            f"¹ The grading times of {before.baseline_date} (`benchmarks/results/grading_baseline.json`, before the answer "
            f"keys were made faster) scaled by today's yardstick: this machine ran 04's LeNet-5 epoch {before.time_scale:.2f}x as "
            f"long as that day's. The speed-up {'saves' if saved >= 0 else 'costs'} {abs(saved):.1f} core-hours for the "
            f"class ({abs(saved) / total_before:.0%} of {total_before:.1f}).",
        ]
    return "\n".join(lines) + "\n"


def write_projection(results_dir: Path, students: int = 300, audit_fraction: float = DEFAULT_AUDIT_FRACTION) -> Path:
    results = json.loads((results_dir / "results.json").read_text())
    throughput = json.loads((results_dir / "grading_throughput.json").read_text())
    runs = {r["workers"]: r["seconds"] for r in throughput["runs"] if r["mode"].startswith("dlcourse")}
    pair_speedup = runs[1] / runs[2]
    machine = results["machine"]
    rows = project(results["grading_s"], bench_cores=machine["cores"], pair_speedup=pair_speedup, students=students)
    before = None
    if (results_dir / "grading_baseline.json").exists() and "yardstick_s" in results:
        baseline = json.loads((results_dir / "grading_baseline.json").read_text())
        before = saving(baseline, yardstick_s=results["yardstick_s"], bench_cores=machine["cores"], pair_speedup=pair_speedup, students=students)
    payload = {"machine": machine, "students": students, "pair_speedup": round(pair_speedup, 3), "rows": [asdict(r) for r in rows]}
    if before:
        payload["before"] = asdict(before) | {"saved_core_hours": round(before.saved(rows), 2)}
    text = render(rows, machine=machine, pair_speedup=pair_speedup, students=students, before=before)
    weights_file = results_dir / "grading_with_weights.json"
    if weights_file.exists():
        weights = json.loads(weights_file.read_text())
        measured = {r["assignment"]: r for r in weights["rows"]}
        grading_s = {a: measured[a]["trained_s"] if a in measured else s for a, s in results["grading_s"].items()}
        with_weights = project_with_weights(
            measured, grading_s, fraction=audit_fraction, bench_cores=machine["cores"], pair_speedup=pair_speedup, students=students
        )
        payload["with_weights"] = {"audit_fraction": audit_fraction, "machine": weights["machine"], "rows": [asdict(r) for r in with_weights]}
        retrained = project(grading_s, bench_cores=machine["cores"], pair_speedup=pair_speedup, students=students)
        text += render_with_weights(
            with_weights,
            machine=weights["machine"],
            fraction=audit_fraction,
            students=students,
            today_core_hours=sum(r.core_hours for r in retrained),
        )
    (results_dir / "grading_projection.json").write_text(json.dumps(payload, indent=1) + "\n")
    out = results_dir / "grading_projection.md"
    out.write_text(text)
    return out


if __name__ == "__main__":
    print(write_projection(Path(__file__).resolve().parents[2] / RESULTS).read_text())

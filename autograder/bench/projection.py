"""What grading a whole class costs: a projection from measured per-notebook grading times.

Inputs are measurements already in ``benchmarks/``: ``results.json`` holds the seconds one
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

Run ``python -m autograder.bench.projection`` (``dlcourse bench`` and ``dlcourse bench-grading``
write the inputs) to refresh ``benchmarks/grading_projection.{json,md}``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

# Notebooks whose grading leaves a core idle, so that a second worker on the benchmark machine gains.
LIGHT = ("01_logistic_regression", "02_backprop")
CLUSTERS = ((1, 2), (1, 16), (4, 16), (16, 16))  # (machines, cores per machine)


@dataclass(frozen=True)
class ClassProjection:
    assignment: str
    seconds_per_submission: float  # measured: one answer key graded on the benchmark machine
    core_hours: float  # for the whole class
    wall_hours: dict[str, float]  # "M x N cores" -> hours to grade the class


def project(grading_s: dict[str, float], *, bench_cores: int, pair_speedup: float, students: int = 300) -> list[ClassProjection]:
    rows = []
    for assignment, seconds in sorted(grading_s.items()):
        speedup = pair_speedup if assignment in LIGHT else 1.0
        core_hours = students * seconds * bench_cores / speedup / 3600
        wall = {}
        for machines, cores in CLUSTERS:
            slots = machines * max(1, cores // bench_cores)
            rounds = math.ceil(students / slots)
            wall[f"{machines} x {cores} cores"] = rounds * seconds / speedup / 3600
        rows.append(ClassProjection(assignment, seconds, core_hours, wall))
    return rows


def render(rows: list[ClassProjection], *, machine: dict, pair_speedup: float, students: int) -> str:
    clusters = list(rows[0].wall_hours) if rows else []
    lines = [
        f"# Grading a class of {students}: a projection",
        "",
        f"From `benchmarks/results.json` (seconds to grade one answer key; {machine.get('cpu', '?')}, "
        f"{machine.get('cores', '?')} cores, {machine.get('date', '?')}) and `benchmarks/grading_throughput.json` "
        f"(two workers on that machine: {pair_speedup:.2f}x one worker). The model and its assumptions are in "
        "`autograder/bench/projection.py`; a Dask cluster's machines are counted like the local one's cores.",
        "",
        "| assignment | s per submission | core-hours | " + " | ".join(f"wall h, {c}" for c in clusters) + " |",
        "|---|---|---|" + "---|" * len(clusters),
    ]
    for r in rows:
        lines.append(
            f"| {r.assignment} | {r.seconds_per_submission:.0f} | {r.core_hours:.1f} | "
            + " | ".join(f"{h:.2f}" for h in r.wall_hours.values())
            + " |"
        )
    total_core = sum(r.core_hours for r in rows)
    totals = [sum(r.wall_hours[c] for r in rows) for c in clusters]
    lines.append(f"| all | {sum(r.seconds_per_submission for r in rows):.0f} | {total_core:.1f} | " + " | ".join(f"{h:.2f}" for h in totals) + " |")
    return "\n".join(lines) + "\n"


def write_projection(benchmarks: Path, students: int = 300) -> Path:
    results = json.loads((benchmarks / "results.json").read_text())
    throughput = json.loads((benchmarks / "grading_throughput.json").read_text())
    runs = {r["workers"]: r["seconds"] for r in throughput["runs"] if r["mode"].startswith("dlcourse")}
    pair_speedup = runs[1] / runs[2]
    machine = results["machine"]
    rows = project(results["grading_s"], bench_cores=machine["cores"], pair_speedup=pair_speedup, students=students)
    payload = {"machine": machine, "students": students, "pair_speedup": round(pair_speedup, 3), "rows": [asdict(r) for r in rows]}
    (benchmarks / "grading_projection.json").write_text(json.dumps(payload, indent=1) + "\n")
    out = benchmarks / "grading_projection.md"
    out.write_text(render(rows, machine=machine, pair_speedup=pair_speedup, students=students))
    return out


if __name__ == "__main__":
    print(write_projection(Path(__file__).resolve().parents[2] / "benchmarks").read_text())

"""Grading throughput: one batch of generated submissions graded with 1 and N workers and with plain ``nbgrader autograde``.

The batch cycles through the assignment's example class (answer key, untouched
release, planted mistakes), so it mixes notebooks that run to the end with
ones that stop early, as a real class does. Every mode grades the same bytes;
the benchmark also compares the scores the modes gave, so a fast mode that
grades differently shows up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..pipeline.examples import ExampleStudent, build_submission, example_students
from ..pipeline.nbgrader_cells import is_grade, is_solution
from ..registry import AssignmentFolderError


@dataclass
class ThroughputRun:
    mode: str  # "dlcourse, 2 workers" or "nbgrader autograde (sequential)"
    workers: int
    submissions: int
    seconds: float
    per_minute: float
    scores: dict[str, float | None] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)


def generate_class(root: Path, assignment: str, count: int, out_dir: Path) -> list[str]:
    """``count`` submissions ``student000``… cycling through the example class; returns the student ids."""
    try:
        examples = example_students(assignment, root)
    except (KeyError, AssignmentFolderError):  # a course folder without an example class (a toy course): the answer key alone
        examples = []
    examples = examples or [ExampleStudent("key", assignment, "solution", "the answer key")]
    students = []
    for index in range(count):
        example = replace(examples[index % len(examples)], student=f"student{index:03d}")
        build_submission(root, example, out_dir)
        students.append(example.student)
    return students


def time_dlcourse(root: Path, submissions: Path, workdir: Path, workers: int) -> ThroughputRun:
    from ..pipeline.grade import GradingOptions, grade_batch

    start = time.perf_counter()
    subs = grade_batch(root, submissions, workdir, options=GradingOptions(workers=workers, force=True))
    seconds = time.perf_counter() - start
    statuses: dict[str, int] = {}
    for sub in subs:
        statuses[sub.status] = statuses.get(sub.status, 0) + 1
    return ThroughputRun(
        f"dlcourse grade, {workers} worker{'s' if workers > 1 else ''}",
        workers,
        len(subs),
        round(seconds, 1),
        round(60 * len(subs) / seconds, 2),
        {sub.student: sub.auto_score for sub in subs},
        statuses,
    )


def _nbgrader(course: Path, *args: str) -> None:
    from ..pipeline.nbgrader_setup import grading_environment

    env = {**os.environ, **grading_environment()}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, "--CourseDirectory.root=" + str(course)], cwd=course, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{(done.stdout + done.stderr)[-2000:]}")


def time_plain_nbgrader(root: Path, assignment: str, submissions: Path, workdir: Path) -> ThroughputRun:
    """Plain nbgrader, as an instructor without this kit would run it: one notebook after another, no sandbox."""
    from nbgrader.api import Gradebook

    from ..pipeline.nbgrader_setup import db_url, gradebook_warnings_silenced

    course = workdir / "nbgrader_course"
    shutil.copytree(root / "source_notebooks" / assignment, course / "source" / assignment)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.db_url = 'sqlite:///gradebook.db'\n"
        "c.Execute.timeout = 900\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n"
    )
    students = sorted(p.name for p in submissions.iterdir() if p.is_dir())
    for student in students:
        target = course / "submitted" / student / assignment
        target.mkdir(parents=True)
        for notebook in (submissions / student).glob("*.ipynb"):
            shutil.copy(notebook, target / notebook.name)
    _nbgrader(course, "generate_assignment", assignment, "--force")
    start = time.perf_counter()
    _nbgrader(course, "autograde", assignment, "--create", "--force")
    seconds = time.perf_counter() - start
    with gradebook_warnings_silenced(), Gradebook(db_url(course)) as gradebook:
        scores = {s: gradebook.find_submission(assignment, s).score for s in students}
    return ThroughputRun(
        "nbgrader autograde (sequential)",
        1,
        len(students),
        round(seconds, 1),
        round(60 * len(students) / seconds, 2),
        scores,
        {"graded": len(students)},
    )


def _auto_points(root: Path, assignment: str) -> float:
    """Autograded points of the assignment: nbgrader's scores include written answers only once graded by hand."""
    import nbformat

    nb = nbformat.read(next((root / "source_notebooks" / assignment).glob("*.ipynb")), as_version=4)
    return float(sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells if is_grade(c) and not is_solution(c)))


def measure(root: Path, assignment: str, count: int, workers: list[int], nbgrader: bool = True, on_progress=lambda label: None) -> dict:
    """Grade one generated batch in each mode; returns a JSON-ready record."""
    with tempfile.TemporaryDirectory(prefix="dlcourse-throughput-") as scratch:
        scratch = Path(scratch)
        submissions = scratch / "submissions"
        generate_class(root, assignment, count, submissions)
        runs = []
        for n in workers:
            on_progress(f"dlcourse grade, {n} worker(s)")
            runs.append(time_dlcourse(root, submissions, scratch / f"workers{n}", n))
        if nbgrader:
            on_progress("plain nbgrader autograde")
            runs.append(time_plain_nbgrader(root, assignment, submissions, scratch / "nbgrader"))
    baseline = next((r for r in runs if r.mode.startswith("dlcourse") and r.workers == 1), None)
    record = {"assignment": assignment, "submissions": count, "autograded_points": _auto_points(root, assignment), "runs": [asdict(r) for r in runs]}
    if baseline:
        record["speedup_vs_1_worker"] = {r.mode: round(r.per_minute / baseline.per_minute, 2) for r in runs}
    first = runs[0].scores if runs else {}
    record["scores_agree"] = all(r.scores == first for r in runs if r.mode.startswith("dlcourse"))
    return record


def markdown(machine: dict, record: dict) -> str:
    lines = [
        f"# Grading throughput: {record['assignment']}, {record['submissions']} generated submissions",
        "",
        f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores; {machine.get('date', '')}.",
        "",
        "| mode | seconds | submissions / min | vs 1 worker | statuses |",
        "|---|---|---|---|---|",
    ]
    speedups = record.get("speedup_vs_1_worker", {})
    for run in record["runs"]:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(run["statuses"].items()))
        speedup = f"{speedups[run['mode']]:.2f}×" if run["mode"] in speedups else "—"
        lines.append(f"| {run['mode']} | {run['seconds']:.1f} | {run['per_minute']:.2f} | {speedup} | {statuses} |")
    lines += ["", f"Every dlcourse mode gave the same scores: {'yes' if record['scores_agree'] else 'NO'}."]
    plain = next((r for r in record["runs"] if r["mode"].startswith("nbgrader")), None)
    ours = next((r for r in record["runs"] if r["mode"].startswith("dlcourse")), None)
    if plain and ours:
        differ = sorted(s for s in ours["scores"] if plain["scores"].get(s) != ours["scores"].get(s))
        lines.append(f"Plain nbgrader gave a different autograded score to: {', '.join(differ) if differ else 'nobody'}.")
    return "\n".join(lines) + "\n"

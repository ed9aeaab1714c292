"""Reports on a graded batch: gradebook CSVs, a score histogram, a printed summary."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

from .intake import Submission

COLUMNS = [
    "student", "assignment", "status", "score", "max_score", "auto_score", "auto_max_score",
    "manual_grading_pending", "failed_tests", "message", "feedback", "file",
]


def _num(value) -> str:
    return "" if value is None else f"{value:g}"


def write_csv(subs: Sequence[Submission], path: Path) -> Path:
    """One row per submission with its status: nothing graded or not is left out."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for s in subs:
            writer.writerow([
                s.student, s.assignment or "", s.status, _num(s.score), _num(s.max_score), _num(s.auto_score),
                _num(s.auto_max_score), "yes" if s.manual_pending else "no",
                "; ".join(grade_id for grade_id, _ in s.failed_tests), s.message.replace("\n", " | "),
                str(s.feedback or ""), str(s.path),
            ])
    return path


def write_nbgrader_csv(db_url: str, path: Path) -> Path:
    """nbgrader's own CSV export of the gradebook, for tools that expect it."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    with Gradebook(db_url) as gb:
        CsvExportPlugin(to=str(path)).export(gb)
    return path


def plot_histogram(subs: Sequence[Submission], path: Path) -> Path | None:
    """Histogram of autograded scores (percent of the autograded maximum), one colour per assignment."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_assignment: dict[str, list[float]] = {}
    for s in subs:
        if s.auto_max_score:
            by_assignment.setdefault(s.assignment, []).append(100 * s.auto_score / s.auto_max_score)
    if not by_assignment:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.hist(list(by_assignment.values()), bins=[i * 10 for i in range(11)], label=list(by_assignment), stacked=True)
    ax.set_xlabel("autograded score (% of autograded points)")
    ax.set_ylabel("submissions")
    ax.set_title(f"Score distribution ({sum(map(len, by_assignment.values()))} graded submissions)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summary_table(subs: Sequence[Submission]) -> str:
    """A plain-text gradebook: one line per submission, failing tests named."""
    rows = [("student", "assignment", "status", "auto score", "manual", "failed tests / message")]
    for s in subs:
        score = f"{_num(s.auto_score)}/{_num(s.auto_max_score)}" if s.auto_max_score else "-"
        detail = ", ".join(g for g, _ in s.failed_tests) or s.message.splitlines()[0] if (s.failed_tests or s.message) else ""
        rows.append((s.student, s.assignment or "?", s.status, score, "pending" if s.manual_pending else "", detail[:70]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_reports(subs: Sequence[Submission], workdir: Path, db_url: str) -> dict[str, Path]:
    paths = {"gradebook": write_csv(subs, workdir / "grades.csv")}
    if any(s.auto_max_score for s in subs):
        paths["nbgrader export"] = write_nbgrader_csv(db_url, workdir / "nbgrader_grades.csv")
    histogram = plot_histogram(subs, workdir / "score_histogram.png")
    if histogram:
        paths["histogram"] = histogram
    paths["feedback"] = workdir / "feedback"
    return paths

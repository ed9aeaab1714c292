"""Reports on a graded batch: gradebook CSVs, a score histogram, a printed summary."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

from .intake import Submission
from .nbgrader_setup import gradebook_warnings_silenced

COLUMNS = [
    "student",
    "assignment",
    "status",
    "score",
    "max_score",
    "auto_score",
    "auto_max_score",
    "manual_grading_pending",
    "failed_tests",
    "message",
    "feedback",
    "file",
    "trained_models",  # per model: graded as handed in (restored) or trained here, and why
    "audit",  # empty unless re-trained to check the handed-in weights; "for review: ..." on a mismatch
]


def _num(value) -> str:
    return "" if value is None else f"{value:g}"


def write_csv(subs: Sequence[Submission], path: Path) -> Path:
    """One row per submission with its status: nothing graded or not is left out."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for s in subs:
            writer.writerow(
                [
                    s.student,
                    s.assignment or "",
                    s.status,
                    _num(s.score),
                    _num(s.max_score),
                    _num(s.auto_score),
                    _num(s.auto_max_score),
                    "yes" if s.manual_pending else "no",
                    "; ".join(grade_id for grade_id, _ in s.failed_tests),
                    s.message.replace("\n", " | "),
                    str(s.feedback or ""),
                    str(s.path),
                    s.result.training_summary,
                    s.result.audit,
                ]
            )
    return path


def write_nbgrader_csv(db_url: str, path: Path, subs: Sequence[Submission] = ()) -> Path:
    """nbgrader's own CSV export of the gradebook, plus our status and message columns."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    with gradebook_warnings_silenced(), Gradebook(db_url) as gb:
        CsvExportPlugin(to=str(path)).export(gb)
    status = {(s.student, s.assignment): s for s in subs}
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    if rows:
        fields = list(rows[0]) + ["status", "message"]
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fields)
            writer.writeheader()
            for row in rows:
                sub = status.get((row.get("student_id"), row.get("assignment")))
                row["status"] = sub.status if sub else ""
                row["message"] = sub.message.replace("\n", " | ") if sub else ""
                writer.writerow(row)
    return path


def question_statistics(db_url: str, subs: Sequence[Submission]) -> list[dict]:
    """Per test cell: mean score, how often it fails, the most common failure message."""
    from collections import Counter, defaultdict

    from nbgrader.api import Gradebook

    messages: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for s in subs:
        for grade_id, message in s.failed_tests:
            messages[(s.assignment, grade_id)][message] += 1
    stats: dict[tuple[str, str], list] = defaultdict(list)
    with gradebook_warnings_silenced(), Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        if grade.cell_type == "code":
                            stats[(assignment.name, grade.name)].append((grade.auto_score or 0, grade.max_score))
    rows = []
    for (aid, grade_id), scores in sorted(stats.items()):
        common = messages[(aid, grade_id)].most_common(1)
        rows.append(
            {
                "assignment": aid,
                "test": grade_id,
                "submissions": len(scores),
                "max_points": scores[0][1],
                "mean_points": round(sum(a for a, _ in scores) / len(scores), 3),
                "failure_rate": round(sum(1 for a, m in scores if a < m) / len(scores), 3),
                "most_common_failure": common[0][0] if common else "",
                "times": common[0][1] if common else 0,
            }
        )
    return rows


def write_question_statistics(rows: list[dict], path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(
            handle, ["assignment", "test", "submissions", "max_points", "mean_points", "failure_rate", "most_common_failure", "times"]
        )
        writer.writeheader()
        writer.writerows(rows)
    return path


def plot_questions(rows: list[dict], path: Path) -> Path | None:
    """Bar chart: failure rate of every test."""
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.2))
    labels = [f"{r['assignment']}: {r['test']}" for r in rows]
    ax.barh(labels, [100 * r["failure_rate"] for r in rows], color="tab:red")
    ax.set_xlabel("submissions failing this test (%)")
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- LMS gradebook imports

CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_ID_COLUMN = "Username"
_CANVAS_DOWNLOAD = re.compile(r"^[^_]+_(?:late_)?(\d+)_\d+_")


def _scored(subs: Sequence[Submission]) -> tuple[list[str], list[str], dict[tuple[str, str], Submission]]:
    """(assignments, students, (student, assignment) -> the scored submission), in order of appearance."""
    assignments: dict[str, None] = {}
    students: dict[str, None] = {}
    scored: dict[tuple[str, str], Submission] = {}
    for s in subs:
        if s.assignment and s.max_score:
            assignments.setdefault(s.assignment)
            students.setdefault(s.student)
            scored.setdefault((s.student, s.assignment), s)
    return list(assignments), list(students), scored


def canvas_user_id(sub: Submission) -> str:
    """Canvas's numeric user id when the file name is Canvas's (``name_123_456_file.ipynb``), else ``""``."""
    match = _CANVAS_DOWNLOAD.match(Path(sub.path).name)
    return match.group(1) if match else ""


def write_canvas_csv(subs: Sequence[Submission], path: Path) -> Path:
    """``canvas_grades.csv`` for Canvas's Grades > Import; returns ``path``.

    Columns, as Canvas's importer (``GradebookImporter``) reads them and its own export writes them:
    ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per assignment, titled with the
    assignment id. Canvas accepts the header when column 1 is "Student", column 2 "ID" and the last student
    column "Section". The second row, ``Points Possible``, gives each assignment's maximum (used for an
    assignment the import creates). Then one row per student with a score.

    Canvas finds the student by ``ID`` (its numeric user id), else ``SIS User ID``, else ``SIS Login ID``,
    else by name. ``ID`` is filled in when the notebook came from a Canvas submissions download (file
    names ``<name>[_late]_<user id>_<submission id>_<file>``); ``SIS Login ID`` (and ``Student``) is the
    student id the grader used (the folder name or the file name's prefix); ``SIS User ID`` and ``Section``
    stay empty. An assignment column updates the Canvas assignment with that exact title (or one titled
    "Title (assignment id)", as in Canvas's export); otherwise Canvas offers to create it.

    A score is the final score (:func:`.scoring.final_score`: withheld points show as 0). A cell is empty
    where the student has no scored submission for that assignment; Canvas lists every change for review
    before it applies any.
    """
    assignments, students, scored = _scored(subs)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CANVAS_STUDENT_COLUMNS + assignments)
        maxima = {aid: next(s.max_score for (_, a), s in scored.items() if a == aid) for aid in assignments}
        writer.writerow(["Points Possible", "", "", "", ""] + [_num(maxima[aid]) for aid in assignments])
        for student in students:
            mine = [scored.get((student, aid)) for aid in assignments]
            canvas_id = next((canvas_user_id(s) for s in mine if s and canvas_user_id(s)), "")
            writer.writerow([student, canvas_id, "", student, ""] + [_num(s.score) if s else "" for s in mine])
    return path


def _feedback(sub: Submission) -> str:
    failed = ", ".join(grade_id for grade_id, _ in sub.failed_tests)
    parts = [str(sub.status)] + ([f"failed tests: {failed}"] if failed else []) + (["written answers to be graded"] if sub.manual_pending else [])
    if sub.status != "graded" and sub.message:
        parts.append(sub.message.splitlines()[0][:200])
    return "; ".join(parts)


def write_moodle_csv(subs: Sequence[Submission], path: Path) -> Path:
    """``moodle_grades.csv`` for Moodle's Grades > Import > CSV file; returns ``path``.

    Columns: ``Username``, then per assignment a grade column ``<assignment id>`` and a feedback column
    ``<assignment id> feedback`` (status, failing tests, written answers still to grade). On Moodle's
    import page map ``Username`` to "username" (or to "ID number" / "Email address" if that is what the
    student ids are), each grade column to its grade item (or "new grade item") and each feedback column
    to "Feedback for <grade item>". Moodle stops the whole import at a row whose user it cannot find, so
    the file has no other rows: one per student with a score, no "Points Possible" row. Scores are the
    final scores, as in :func:`write_canvas_csv`; an empty cell means no scored submission, and Moodle
    imports it as "no grade", so map only the columns you mean to import.
    """
    assignments, students, scored = _scored(subs)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([MOODLE_ID_COLUMN] + [name for aid in assignments for name in (aid, f"{aid} feedback")])
        for student in students:
            row = [student]
            for aid in assignments:
                s = scored.get((student, aid))
                row += [_num(s.score), _feedback(s)] if s else ["", ""]
            writer.writerow(row)
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
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_reports(subs: Sequence[Submission], workdir: Path, db_url: str, root: Path | None = None, *, class_pages: bool = True) -> dict[str, Path]:
    """Every report on a graded batch; label -> path. ``root`` (the course) locates the released starter code
    the similarity page leaves out; without it, the course around the current folder is used, if any."""
    paths = {"gradebook": write_csv(subs, workdir / "grades.csv")}
    if any(s.auto_max_score for s in subs):
        paths["nbgrader export"] = write_nbgrader_csv(db_url, workdir / "nbgrader_grades.csv", subs)
        rows = question_statistics(db_url, subs)
        paths["question statistics"] = write_question_statistics(rows, workdir / "question_statistics.csv")
        chart = plot_questions(rows, workdir / "question_failures.png")
        if chart:
            paths["question chart"] = chart
        paths["Canvas import"] = write_canvas_csv(subs, workdir / "canvas_grades.csv")
        paths["Moodle import"] = write_moodle_csv(subs, workdir / "moodle_grades.csv")
    histogram = plot_histogram(subs, workdir / "score_histogram.png")
    if histogram:
        paths["histogram"] = histogram
    if class_pages:
        paths.update(_class_pages(subs, workdir, root))
    paths["feedback"] = workdir / "feedback"
    return paths


def _class_pages(subs: Sequence[Submission], workdir: Path, root: Path | None) -> dict[str, Path]:
    """What the class got wrong, and who handed in alike work: pages for the instructor, which change no score."""
    from ..course import CourseNotFoundError, find_course_root
    from .class_report import write_misconception_reports
    from .similarity_report import write_similarity_report

    if root is None:
        try:
            root = find_course_root()
        except CourseNotFoundError:
            root = None
    paths = write_misconception_reports(subs, workdir)
    paths["similarity page"] = write_similarity_report(subs, workdir, root)
    return paths

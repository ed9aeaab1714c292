"""The one place that decides a submission's status and score.

The worker calls :func:`final_score` once, after nbgrader has scored the test
cells and before the feedback is rendered; it writes the result into its
private gradebook with :func:`record_scores`, so the feedback shows it, and
returns it. The coordinator records that same result in the class gradebook
with the same :func:`record_scores`: ``grades.csv``, nbgrader's export, the
feedback and the statistics can therefore never disagree.

The fairness rule for integrity lives here. Points are withheld only on
evidence: the runtime probes saw the grading environment changed, a test cell's
completion marker never came back, or the static scan found a construct with no
innocent use in homework (:class:`.model.Severity` ``WITHHOLD``). Everything
else the scan notices is listed for review and the points stand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .model import STATUS_PRECEDENCE, CellEvent, CellScore, EventKind, FailedTest, Finding, Severity, Status

WITHHELD_NOTE = "autograded points withheld (set to 0) for review"


@dataclass(frozen=True)
class Verdict:
    status: Status
    cells: list[CellScore]
    message: str


def decide_status(events: Iterable[CellEvent], findings: Iterable[Finding]) -> Status:
    found = {e.kind.status for e in events if e.kind.status}
    if any(f.severity is Severity.WITHHOLD for f in findings):
        found.add(Status.TAMPERED)
    return next((s for s in STATUS_PRECEDENCE if s in found), Status.GRADED)


def _event_notes(events: Sequence[CellEvent]) -> list[str]:
    notes = []
    for event in events:
        if event.kind in (EventKind.NOT_RUN, EventKind.OUTPUT_TRUNCATED):
            continue  # a consequence of another event, or visible in the notebook itself
        notes.append(str(event))
    skipped = [e.cell for e in events if e.kind is EventKind.NOT_RUN]
    if skipped:
        notes.append(f"{len(skipped)} cell(s) not run after that ({skipped[0]} ... {skipped[-1]})")
    return notes


def final_score(cells: Sequence[CellScore], events: Sequence[CellEvent] = (), findings: Sequence[Finding] = (), notes: Sequence[str] = ()) -> Verdict:
    """Status, final cell scores and the message for the gradebook, from what grading observed."""
    status = decide_status(events, findings)
    if status is Status.TAMPERED:
        cells = [replace(c, points=0) if c.autograded else c for c in cells]
    withheld = [f for f in findings if f.severity is Severity.WITHHOLD]
    review = [f for f in findings if f.severity is Severity.REVIEW]
    parts = [WITHHELD_NOTE] if status is Status.TAMPERED else []
    parts += [f"static scan: {f}" for f in withheld]
    parts += _event_notes(events)
    parts += [f"for review (points kept): {f}" for f in review]
    parts += list(notes)
    return Verdict(status, list(cells), "; ".join(dict.fromkeys(parts)))


def record_scores(db_url: str, assignment: str, notebook_id: str, student: str, cells: Sequence[CellScore]) -> None:
    """Write the final autograded points into a gradebook (the worker's private one, or the class's)."""
    from nbgrader.api import Gradebook

    from .nbgrader_setup import gradebook_warnings_silenced

    points = {c.grade_id: c.points for c in cells if c.autograded}
    with gradebook_warnings_silenced(), Gradebook(db_url) as gb:
        for grade in gb.find_submission_notebook(notebook_id, assignment, student).grades:
            if grade.name in points:
                grade.auto_score = points[grade.name]
        gb.db.commit()


def read_scores(
    db_url: str, assignment: str, notebook_id: str, student: str, order: Sequence[str], failures: dict[str, FailedTest]
) -> list[CellScore]:
    """The graded cells of one submission as nbgrader scored them, in notebook order."""
    from nbgrader.api import Gradebook

    from .nbgrader_setup import gradebook_warnings_silenced

    with gradebook_warnings_silenced(), Gradebook(db_url) as gb:
        grades = {g.name: g for g in gb.find_submission_notebook(notebook_id, assignment, student).grades}
        ordered = [name for name in order if name in grades] + sorted(set(grades) - set(order))
        none = FailedTest("")
        return [
            CellScore(
                name,
                _points(grades[name]),
                grades[name].max_score,
                grades[name].cell_type == "code",
                failures.get(name, none).message,
                failures.get(name, none).diagnosis,
            )
            for name in ordered
        ]


def with_hand_scores(db_url: str, assignment: str, notebook_id: str, student: str, cells: Sequence[CellScore]) -> list[CellScore]:
    """``cells`` with the written answers' points as the class gradebook holds them now.

    Hand scores are entered in the formgrader after grading, straight into the class gradebook; the
    reports of the next ``dlcourse grade`` must show them, also for a submission that is not
    regraded because it did not change. Autograded points are never taken from here.
    """
    if all(c.autograded for c in cells):
        return list(cells)
    from nbgrader.api import Gradebook, MissingEntry

    from .nbgrader_setup import expose_environment_scripts, gradebook_warnings_silenced

    expose_environment_scripts()  # opening a gradebook runs alembic
    with gradebook_warnings_silenced(), Gradebook(db_url) as gb:
        try:
            grades = {g.name: g for g in gb.find_submission_notebook(notebook_id, assignment, student).grades}
        except MissingEntry:
            return list(cells)
        return [replace(c, points=_points(grades[c.grade_id])) if not c.autograded and c.grade_id in grades else c for c in cells]


def _points(grade) -> float | None:
    """nbgrader's score, or ``None`` for a written answer that still waits for a person."""
    if grade.cell_type != "code" and grade.needs_manual_grade and grade.manual_score is None:
        return None
    return grade.score

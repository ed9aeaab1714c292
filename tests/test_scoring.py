"""The single scorer and the typed results it works on: pure logic, milliseconds each."""

from __future__ import annotations

import json

import pytest

from autograder.pipeline.kernel_glue import describe_exit, exit_signal
from autograder.pipeline.model import CellEvent, CellScore, EventKind, Finding, GradingResult, Severity, Status
from autograder.pipeline.scoring import WITHHELD_NOTE, decide_status, final_score

CELLS = [
    CellScore("test_a", 5, 5, True),
    CellScore("test_b", 0, 3, True, "AssertionError: wrong sign"),
    CellScore("written", None, 2, False),
]
PATCH = Finding("answer", 3, "changes np.allclose, an attribute of a module the grading relies on", "np.allclose = len")
EXEC = Finding("#7", 1, "uses exec", "exec('x = 1')", Severity.REVIEW)


def test_a_clean_run_keeps_nbgraders_scores():
    verdict = final_score(CELLS)
    assert verdict.status is Status.GRADED and verdict.cells == CELLS and verdict.message == ""


def test_a_withhold_finding_zeroes_every_autograded_point_and_says_why():
    verdict = final_score(CELLS, findings=[PATCH])
    assert verdict.status is Status.TAMPERED
    assert [c.points for c in verdict.cells] == [0, 0, None]  # written answers still await a person
    assert verdict.message.startswith(WITHHELD_NOTE) and "np.allclose" in verdict.message and "line 3" in verdict.message


def test_a_review_finding_keeps_the_points_and_is_listed():
    verdict = final_score(CELLS, findings=[EXEC])
    assert verdict.status is Status.GRADED and verdict.cells == CELLS
    assert "for review (points kept)" in verdict.message and "exec" in verdict.message


@pytest.mark.parametrize(
    "kind,status",
    [
        (EventKind.CELL_TIMED_OUT, Status.TIMED_OUT),
        (EventKind.NOTEBOOK_TIMED_OUT, Status.TIMED_OUT),
        (EventKind.CPU_LIMIT, Status.TIMED_OUT),
        (EventKind.KERNEL_DIED, Status.CRASHED),
        (EventKind.MEMORY_LIMIT, Status.OUT_OF_MEMORY),
        (EventKind.MARKER_MISSING, Status.TAMPERED),
        (EventKind.ENVIRONMENT_MODIFIED, Status.TAMPERED),
        (EventKind.OUTPUT_TRUNCATED, Status.GRADED),
    ],
)
def test_each_event_decides_its_status(kind, status):
    assert decide_status([CellEvent(kind, "test_a")], []) is status


def test_the_most_serious_status_wins():
    events = [CellEvent(EventKind.CELL_TIMED_OUT, "#4"), CellEvent(EventKind.MEMORY_LIMIT, "#5"), CellEvent(EventKind.KERNEL_DIED, "#6")]
    assert decide_status(events, []) is Status.OUT_OF_MEMORY
    assert decide_status(events, [PATCH]) is Status.TAMPERED


def test_runtime_tampering_withholds_points_but_a_timeout_does_not():
    tampered = final_score(CELLS, events=[CellEvent(EventKind.ENVIRONMENT_MODIFIED, "test_b", "numpy.allclose changed")])
    assert tampered.status is Status.TAMPERED and all(c.points == 0 for c in tampered.cells if c.autograded)
    timed_out = final_score(CELLS, events=[CellEvent(EventKind.CELL_TIMED_OUT, "#4", "interrupted at the time limit of 15 s")])
    assert timed_out.status is Status.TIMED_OUT and timed_out.cells == CELLS and "time limit" in timed_out.message


def test_cells_not_run_are_summarised_in_one_note():
    events = [CellEvent(EventKind.KERNEL_DIED, "#4", "exit status 3")] + [CellEvent(EventKind.NOT_RUN, f"test_{i}") for i in range(5)]
    message = final_score(CELLS, events=events).message
    assert "kernel died" in message and "5 cell(s) not run" in message and message.count("not run") == 1


def test_result_totals_come_from_the_cells():
    result = GradingResult(Status.GRADED, cells=CELLS)
    assert (result.score, result.max_score, result.auto_score, result.auto_max_score) == (5, 10, 5, 8)
    assert result.manual_pending and result.failed_tests == [("test_b", "AssertionError: wrong sign")]
    assert GradingResult().score is None and not GradingResult().manual_pending


def test_a_result_survives_the_json_of_the_rerun_state():
    result = GradingResult(
        Status.TAMPERED,
        "m",
        CELLS,
        [CellEvent(EventKind.KERNEL_DIED, "#3", "x")],
        [PATCH, EXEC],
        ["note"],
        autograded="{}",
        feedback_html="<html>",
        seconds=1.5,
        host="h",
    )
    back = GradingResult.from_dict(json.loads(json.dumps(result.to_dict(files=False))))
    assert back.status is Status.TAMPERED and back.cells == CELLS and back.findings == [PATCH, EXEC]
    assert back.events[0].kind is EventKind.KERNEL_DIED and back.autograded is None and back.feedback_html is None


def test_status_is_a_string_for_csv_and_comparisons():
    assert Status.OUT_OF_MEMORY == "out of memory" and f"{Status.TIMED_OUT}" == "timed out"


@pytest.mark.parametrize(
    "code,name,text",
    [
        (-9, "SIGKILL", "killed by SIGKILL"),
        (137, "SIGKILL", "killed by SIGKILL"),
        (-24, "SIGXCPU", "killed by SIGXCPU"),
        (3, None, "exit status 3"),
        (0, None, "exit status 0"),
    ],
)
def test_kernel_exit_codes_are_read_as_signals(code, name, text):
    assert exit_signal(code) == name and describe_exit(code) == text


def test_an_unknown_exit_is_none():
    assert describe_exit(None) is None


def _gradebook_with_a_written_answer(tmp_path):
    from nbgrader.api import Gradebook

    from autograder.pipeline.nbgrader_setup import expose_environment_scripts

    expose_environment_scripts()
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db) as gb:
        gb.add_assignment("a1")
        gb.add_notebook("nb", "a1")
        gb.add_grade_cell("test_f", "nb", "a1", max_score=5, cell_type="code")
        gb.add_grade_cell("written", "nb", "a1", max_score=4, cell_type="markdown")
        gb.add_student("ann")
        gb.add_submission("a1", "ann")
        gb.find_grade("written", "nb", "a1", "ann").needs_manual_grade = True
        gb.find_grade("test_f", "nb", "a1", "ann").auto_score = 5
        gb.db.commit()
    return db


def test_hand_scores_from_the_formgrader_reach_the_reports(tmp_path):
    """A written answer graded in the formgrader after grading: the next report shows it (not the stale None)."""
    from nbgrader.api import Gradebook

    from autograder.pipeline.scoring import with_hand_scores

    db = _gradebook_with_a_written_answer(tmp_path)
    cells = [CellScore("test_f", 0.0, 5, True), CellScore("written", None, 4, False)]
    assert with_hand_scores(db, "a1", "nb", "ann", cells) == cells  # not graded by hand yet: still pending
    with Gradebook(db) as gb:
        gb.find_grade("written", "nb", "a1", "ann").manual_score = 3
        gb.db.commit()
    updated = with_hand_scores(db, "a1", "nb", "ann", cells)
    # the hand score is taken; the autograded points stay the scorer's (0 here, e.g. withheld), not the gradebook's 5
    assert updated == [CellScore("test_f", 0.0, 5, True), CellScore("written", 3.0, 4, False)]
    assert with_hand_scores(db, "a1", "nb", "bob", cells) == cells  # no such submission in the gradebook

"""The gradebook files for Canvas and Moodle, checked against what their importers read (milliseconds, hand-built results).

Canvas: ``GradebookImporter`` (canvas-lms, app/models/gradebook_importer.rb) accepts a header whose
column 1 matches "Student", column 2 "ID" and whose last student column matches "Section"; with
"SIS User ID" and "SIS Login ID" in columns 3-4 there are 5 student columns; a row whose first cell
matches "Points Possible" sets the assignments' maxima; every later column is an assignment,
matched by title or "Title (id)". Moodle: ``gradeimport_csv_load_data`` (grade/import/csv) maps one
identifier column (user id, username, ID number or email) and grade/feedback columns, and aborts the
whole import at a row whose user it cannot find (so no row without a student).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from autograder.pipeline.intake import Submission
from autograder.pipeline.model import CellScore, GradingResult, Status
from autograder.pipeline.report import CANVAS_STUDENT_COLUMNS, write_canvas_csv, write_moodle_csv

A1, A2 = "01_logistic_regression", "02_backprop"


def _sub(student, assignment, cells, status=Status.GRADED, message="", path=None):
    sub = Submission(student, Path(path or f"/in/{student}/{assignment}.ipynb"), assignment, assignment)
    sub.result = GradingResult(status, message, cells)
    return sub


def _subs() -> list[Submission]:
    ann1 = _sub(
        "ann", A1, [CellScore("test_f", 5, 5, True), CellScore("test_g", 0, 5, True, "AssertionError: x"), CellScore("essay", None, 2, False)]
    )
    ann2 = _sub("ann", A2, [CellScore("test_h", 8, 8, True)])
    ben1 = _sub(
        "ben",
        A1,
        [CellScore("test_f", 0, 5, True), CellScore("test_g", 0, 5, True), CellScore("essay", None, 2, False)],
        Status.TAMPERED,
        "autograded points withheld (set to 0) for review; static scan: ...",
    )
    # from a Canvas submissions download: <name>_<user id>_<submission id>_<file name>
    cy1 = _sub(
        "cydoe", A1, [CellScore("test_f", 5, 5, True), CellScore("test_g", 5, 5, True)], path="/in/cydoe_late_4711_99123_01_logistic_regression.ipynb"
    )
    crashed = Submission("dan", Path("/in/dan.ipynb"), A1, A1)
    crashed.reject(Status.CRASHED, "nbgrader could not grade this notebook")
    invalid = Submission("eve", Path("/in/eve.ipynb"))
    invalid.reject(Status.INVALID, "eve.ipynb is empty")
    return [ann1, ann2, ben1, cy1, crashed, invalid]


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_canvas_file_has_the_header_canvas_accepts(tmp_path):
    rows = _rows(write_canvas_csv(_subs(), tmp_path / "canvas_grades.csv"))
    header = rows[0]
    # GradebookImporter#header?: Student, ID, then SIS User ID + SIS Login ID (5 student columns), the last one Section
    assert re.search("Student", header[0]) and re.search("ID", header[1])
    assert re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]) and re.search("Section", header[4])
    assert header == CANVAS_STUDENT_COLUMNS + [A1, A2]
    assert all(len(row) == len(header) for row in rows)
    assert rows[1] == ["Points Possible", "", "", "", "", "12", "8"]  # maxima, written answers included


def test_canvas_rows_carry_the_final_score_and_the_ids_canvas_matches(tmp_path):
    rows = _rows(write_canvas_csv(_subs(), tmp_path / "canvas_grades.csv"))
    students = {row[3]: row for row in rows[2:]}  # by SIS Login ID
    assert set(students) == {"ann", "ben", "cydoe"}  # nothing scored for dan (crashed) or eve (invalid): no row
    assert students["ann"] == ["ann", "", "", "ann", "", "5", "8"]
    assert students["ben"][5:] == ["0", ""]  # withheld: 0 for 01; no submission for 02: empty, not 0
    assert students["cydoe"][1] == "4711" and students["cydoe"][5] == "10"  # Canvas's user id from its download's file name


def test_moodle_file_has_one_identifier_column_and_grade_and_feedback_columns(tmp_path):
    rows = _rows(write_moodle_csv(_subs(), tmp_path / "moodle_grades.csv"))
    assert rows[0] == ["Username", A1, f"{A1} feedback", A2, f"{A2} feedback"]
    assert all(len(row) == len(rows[0]) for row in rows)
    assert all(row[0] for row in rows[1:])  # Moodle aborts the import at a row without a user: every row names one
    by_user = {row[0]: row for row in rows[1:]}
    assert set(by_user) == {"ann", "ben", "cydoe"}
    assert by_user["ann"][1] == "5" and "failed tests: test_g" in by_user["ann"][2] and "written answers" in by_user["ann"][2]
    assert by_user["ann"][3:] == ["8", "graded"]
    assert by_user["ben"][1] == "0" and "tampered" in by_user["ben"][2] and "withheld" in by_user["ben"][2]
    assert by_user["ben"][3:] == ["", ""]
    for row in rows[1:]:  # grade cells are numbers or empty
        assert all(cell == "" or re.fullmatch(r"-?\d+(\.\d+)?", cell) for cell in (row[1], row[3]))


def test_nothing_scored_gives_headers_only(tmp_path):
    invalid = Submission("eve", Path("/in/eve.ipynb"))
    invalid.reject(Status.INVALID, "empty")
    assert _rows(write_canvas_csv([invalid], tmp_path / "c.csv")) == [CANVAS_STUDENT_COLUMNS, ["Points Possible", "", "", "", ""]]
    assert _rows(write_moodle_csv([invalid], tmp_path / "m.csv")) == [["Username"]]

"""A small class with mistakes from the mutation suite, graded for real: the diagnoses reach the misconception report."""

from __future__ import annotations

import csv

import nbformat
import pytest

from autograder.pipeline.examples import answered_release
from autograder.pipeline.grade import GradingOptions, grade_batch
from autograder.pipeline.report import write_reports
from autograder.verdicts import CaseKind, load_suite

AID = "02_backprop"
# student -> the mutation suite's mistakes (function, name) planted in the answer key's notebook
CLASS = {
    "ann": [],
    "bob": [("affine", "bias_gradient_averaged")],
    "cem": [("affine", "bias_gradient_averaged"), ("sigmoid", "overflows")],
    "dia": [("affine", "dw_transposed")],
    "eve": [("sigmoid", "overflows")],
}
# what each planted mistake must be diagnosed as, on its function's test
EXPECTED = {("affine", "bias_gradient_averaged"): "batch-mean-twice", ("affine", "dw_transposed"): "transpose", ("sigmoid", "overflows"): "overflow"}


@pytest.mark.slow
@pytest.mark.kernel
def test_planted_mistakes_are_reported_under_their_codes(root, tmp_path):
    suite = load_suite(AID, root)
    mistakes = {(c.function, c.name): c for c in suite.cases if c.kind is CaseKind.MISTAKE}
    for student, planted in CLASS.items():
        nb = answered_release(root, AID)
        for key in planted:
            case = mistakes[key]
            cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == case.solution_cells[-1])
            cell.source += "\n\n" + case.code  # as the suite runs it: after the function's answer
        target = tmp_path / "submissions" / student / f"{AID}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
    nb = answered_release(root, AID, unanswered=["affine"])
    (tmp_path / "submissions" / "fay").mkdir()
    nbformat.write(nb, tmp_path / "submissions" / "fay" / f"{AID}.ipynb")

    subs = grade_batch(root, tmp_path / "submissions", tmp_path / "grading", options=GradingOptions(workers=2))
    assert all(s.status == "graded" for s in subs), [(s.student, s.status, s.message) for s in subs]
    paths = write_reports(subs, tmp_path / "grading", f"sqlite:///{tmp_path / 'grading' / 'gradebook.db'}", root)

    with paths["misconceptions"].open() as handle:
        rows = {(r["test"], r["diagnosis"]): r for r in csv.DictReader(handle)}
    tests = {key: mistakes[key].tests[0] for key in EXPECTED}
    want: dict[tuple[str, str], set[str]] = {}
    for student, planted in CLASS.items():
        for key in planted:
            want.setdefault((tests[key], EXPECTED[key]), set()).add(student)
    want.setdefault(("test_affine", "not-answered"), set()).add("fay")
    for (test, code), students in want.items():
        row = rows[(test, code)]
        assert set(row["students"].split("; ")) == students, (test, code, row)
        assert row["section"].startswith("#")
    assert "ann" not in {s for r in rows.values() for s in r["students"].split("; ")}
    page = paths["misconceptions page"].read_text()
    assert "batch mean taken twice" in page and "overflow" in page
    similarity = paths["similarity page"].read_text()
    assert "not evidence of misconduct" in similarity

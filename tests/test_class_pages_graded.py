"""A class of 7 with mistakes from the mutation suite, graded for real: every planted mistake is in the report under its code.

Six students cover every combination of the planted mistakes (three affine answers by two sigmoid answers, one of them
honest) and a seventh left the affine answer blank; two workers grade at once.
"""

from __future__ import annotations

import csv

import nbformat
import pytest

from autograder.pipeline.examples import answered_release
from autograder.pipeline.grade import GradingOptions, grade_batch
from autograder.pipeline.report import write_reports
from autograder.verdicts import CaseKind, load_suite

AID = "02_backprop"
# what each planted mistake (function, name in the mutation suite) must be diagnosed as, on its function's test
EXPECTED = {("affine", "bias_gradient_averaged"): "batch-mean-twice", ("affine", "dw_transposed"): "transpose", ("sigmoid", "overflows"): "overflow"}
AFFINE = [None, ("affine", "bias_gradient_averaged"), ("affine", "dw_transposed")]  # one affine_backward per notebook: the last definition wins
SIGMOID = [None, ("sigmoid", "overflows")]
STUDENTS = 7  # the six combinations, then the blank answer


def planted_mistakes(i: int) -> list[tuple[str, str]] | None:
    """Student i's planted mistakes (every combination in turn); ``None``: the affine answer left blank (the last student)."""
    if i == STUDENTS - 1:
        return None
    return [key for key in (AFFINE[i % 3], SIGMOID[(i // 3) % 2]) if key]


@pytest.mark.slow
@pytest.mark.kernel
def test_planted_mistakes_are_reported_under_their_codes(root, tmp_path):
    suite = load_suite(AID, root)
    mistakes = {(c.function, c.name): c for c in suite.cases if c.kind is CaseKind.MISTAKE}
    blank = set()
    for i in range(STUDENTS):
        student, planted = f"student{i:02d}", planted_mistakes(i)
        if planted is None:
            blank.add(student)
            nb = answered_release(root, AID, unanswered=["affine"])
        else:
            nb = answered_release(root, AID)
            for key in planted:
                case = mistakes[key]
                cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == case.solution_cells[-1])
                cell.source += "\n\n" + case.code  # as the suite runs it: after the function's answer
        target = tmp_path / "submissions" / student / f"{AID}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)

    subs = grade_batch(root, tmp_path / "submissions", tmp_path / "grading", options=GradingOptions(workers=2))
    assert all(s.status == "graded" for s in subs), [(s.student, s.status, s.message) for s in subs]
    paths = write_reports(subs, tmp_path / "grading", f"sqlite:///{tmp_path / 'grading' / 'gradebook.db'}", root)

    with paths["misconceptions"].open() as handle:
        rows = {(r["test"], r["diagnosis"]): r for r in csv.DictReader(handle)}
    tests = {key: mistakes[key].tests[0] for key in EXPECTED}
    want: dict[tuple[str, str], set[str]] = {("test_affine", "not-answered"): blank}
    for i in range(STUDENTS):
        for key in planted_mistakes(i) or []:
            want.setdefault((tests[key], EXPECTED[key]), set()).add(f"student{i:02d}")
    for (test, code), students in want.items():
        row = rows[(test, code)]
        assert set(row["students"].split("; ")) == students, (test, code, row)
        assert int(row["count"]) == len(students), row
        assert row["section"] and not row["section"].startswith("#"), row
    honest = {f"student{i:02d}" for i in range(STUDENTS) if planted_mistakes(i) == []}
    assert not honest & {s for r in rows.values() for s in r["students"].split("; ")}
    page = paths["misconceptions page"].read_text()
    assert "batch mean taken twice" in page and "overflow" in page
    similarity = paths["similarity page"].read_text()
    assert "not evidence of misconduct" in similarity

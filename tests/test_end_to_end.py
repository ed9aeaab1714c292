"""Every assignment's example class graded through the real pipeline (slow: notebooks really run).

For each assignment with ``autograder/examples/<id>.json``: the answer key
earns every autograded point, the untouched release earns 0 and still grades
cleanly, and each planted mistake fails exactly the expected tests with the
expected message.
"""

import csv

import pytest

from autograder.course import assignment_ids
from autograder.pipeline.examples import build_example_class, example_students
from autograder.pipeline.grade import grade_batch
from autograder.pipeline.report import write_reports

pytestmark = pytest.mark.slow

CASES = [(aid, ex.student) for aid in assignment_ids() for ex in example_students(aid)]


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    """Grade each assignment's example class once (lazily, so `-k <id>` grades only that one)."""
    cache = {}

    def grade(aid):
        if aid not in cache:
            work = tmp_path_factory.mktemp(aid)
            build_example_class(root, [aid], work / "submissions")
            subs = grade_batch(root, work / "submissions", work / "grading")
            paths = write_reports(subs, work / "grading", f"sqlite:///{work / 'grading' / 'gradebook.db'}")
            cache[aid] = ({s.student: s for s in subs}, paths)
        return cache[aid]

    return grade


def test_every_assignment_has_an_example_class():
    missing = [aid for aid in assignment_ids() if not example_students(aid)]
    assert not missing, f"no autograder/examples/<id>.json for {missing}"


@pytest.mark.parametrize("aid,student", CASES)
def test_example_student_gets_the_expected_grade(graded, aid, student):
    results, _ = graded(aid)
    example = next(ex for ex in example_students(aid) if ex.student == student)
    sub = results[student]
    assert sub.status == "graded", f"{student}: {sub.status}: {sub.message}"
    assert "read-only" not in (sub.message or ""), f"{student} handed in an untampered notebook: {sub.message}"
    failed = {grade_id: message for grade_id, message in sub.failed_tests}
    expected = set(example.expect_failed or [])
    assert set(failed) == expected, f"{student} ({example.note}): failed {sorted(failed)}, expected {sorted(expected)}"
    if example.based_on == "solution" and not expected:
        assert sub.auto_score == sub.auto_max_score > 0, f"the answer key lost points: {sub.failed_tests}"
        assert sub.manual_pending, "the answer key's written answers should wait for a human grader"
    if example.based_on == "release":
        assert sub.auto_score == 0 and sub.score == 0
    if expected and example.based_on == "solution":
        assert 0 < sub.auto_score < sub.auto_max_score
    for grade_id, fragment in example.expect_message.items():
        assert fragment in failed[grade_id], f"{grade_id}: message {failed[grade_id]!r} lacks {fragment!r}"
    assert sub.feedback is not None and sub.feedback.exists()
    html = sub.feedback.read_text()
    assert student in str(sub.feedback) and "Score:" in html


@pytest.mark.parametrize("aid", sorted({aid for aid, _ in CASES}))
def test_reports_hold_every_student(graded, aid):
    results, paths = graded(aid)
    with paths["gradebook"].open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["student"] for r in rows) == sorted(results)
    assert all(r["status"] == "graded" for r in rows)
    assert paths["histogram"].stat().st_size > 5000
    with paths["nbgrader export"].open() as handle:
        assert len(list(csv.DictReader(handle))) == len(results)

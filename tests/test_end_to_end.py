"""Every assignment's example class graded through the real pipeline (slow: notebooks really run).

For each assignment (its ``source_notebooks/<id>/example_class.json``): the answer key
earns every autograded point, the untouched release earns 0 and still grades
cleanly, and each planted mistake fails exactly the expected tests with the
expected message.
"""

import csv
import shutil
from pathlib import Path

import pytest
from selection import selected_params

from autograder.pipeline.examples import example_students
from autograder.pipeline.grade import GradingOptions, grade_batch
from autograder.registry import assignments
from autograder.training import RECORD_DIR

pytestmark = pytest.mark.slow

CASES = [(aid, ex.student) for aid in (a.id for a in assignments()) for ex in example_students(aid)]


@pytest.fixture(scope="module")
def graded(example_class):
    """Each assignment's example class, graded once per session (lazily, so `-k <id>` grades only that one)."""
    return lambda aid: example_class(aid)[:2]


def test_every_assignment_has_an_example_class():
    missing = [a.id for a in assignments() if not example_students(a.id)]
    assert not missing, f"source_notebooks/<id>/example_class.json names no student for {missing}"


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


# ---------------------------------------------------------------- grading the models the student trained

TRAINING_ASSIGNMENTS = [a.id for a in assignments() if a.trains]


def hand_in(sub, models: Path, inbox: Path, student: str) -> Path:
    """``sub``'s notebook and ``models`` as a student hands them in: <inbox>/<student>/<notebook> and trained_models/."""
    folder = inbox / student
    folder.mkdir(parents=True)
    shutil.copy(sub.path, folder / sub.path.name)
    shutil.copytree(models, folder / RECORD_DIR)
    return folder


@pytest.fixture(scope="module")
def graded_from_weights(request, root, example_class, tmp_path_factory):
    """Each answer key handed in with the weights its example class's grading trained, graded as one batch by two workers.

    One batch rather than one grading per test: by the time this module runs, the background grading of the example
    classes is over and a single grading would leave a core idle. -> (assignment -> the key graded from its weights,
    assignment -> the key as trained).
    """
    folder = tmp_path_factory.mktemp("from-weights")
    trained = {}
    for aid in selected_params(request, "aid", "test_the_answer_key_graded_from_its_weights_scores_as_when_trained"):
        results, _, workdir = example_class(aid)
        models = workdir / RECORD_DIR / "alice" / aid
        if sorted(models.glob("*.weights.h5")):  # the test says so when there are none
            trained[aid] = results["alice"]
            hand_in(results["alice"], models, folder / "submissions", f"alice-{aid}")
    if not trained:
        return {}, trained
    subs = grade_batch(root, folder / "submissions", folder / "grading", options=GradingOptions(audit_fraction=0, workers=2))
    return {sub.assignment: sub for sub in subs}, trained


@pytest.mark.parametrize("aid", TRAINING_ASSIGNMENTS)
def test_the_answer_key_graded_from_its_weights_scores_as_when_trained(example_class, graded_from_weights, aid):
    _, _, workdir = example_class(aid)
    models = workdir / RECORD_DIR / "alice" / aid
    assert sorted(models.glob("*.weights.h5")), f"grading the key of {aid} kept no weights in {models}"
    reused_by_assignment, trained_by_assignment = graded_from_weights
    reused, trained = reused_by_assignment[aid], trained_by_assignment[aid]
    assert trained.result.training and all(t.outcome == "trained" for t in trained.result.training)
    assert reused.status == "graded", reused.message
    assert [t.outcome for t in reused.result.training] == ["restored"] * len(trained.result.training), reused.result.training_summary
    assert reused.auto_score == trained.auto_score == trained.auto_max_score, reused.failed_tests
    print(f"{aid}: answer key graded with its weights in {reused.seconds:.1f} s (trained: {trained.seconds:.1f} s)")


@pytest.mark.parametrize("aid", ["01_logistic_regression"])  # a parameter, so that the session knows which example class it reads
def test_edited_code_is_trained_again_and_an_honest_submission_passes_its_audit(root, example_class, tmp_path, aid):
    results, _, workdir = example_class(aid)
    key = results["alice"]
    models = workdir / RECORD_DIR / "alice" / aid
    inbox = tmp_path / "submissions"
    hand_in(key, models, inbox, "honest")
    edited = hand_in(key, models, inbox, "edited")
    notebook = edited / key.path.name
    text = notebook.read_text()
    assert text.count("epochs, batch_size = 10, 64") == 1
    notebook.write_text(text.replace("epochs, batch_size = 10, 64", "epochs, batch_size = 10, 64  # changed after training"))
    subs = {
        s.student: s for s in grade_batch(root, inbox, tmp_path / "grading", options=GradingOptions(audit_fraction=0, audit_students=("honest",)))
    }
    [note] = subs["edited"].result.training
    assert note.outcome == "trained" and "training code" in note.reason
    assert "training code" in subs["edited"].feedback.read_text(), "the feedback says why it trained"
    assert subs["edited"].auto_score == subs["edited"].auto_max_score
    [audit] = subs["honest"].result.training
    assert audit.outcome == "audited" and audit.audit in ("bit-equal", "within tolerance"), audit
    assert subs["honest"].result.audit and "for review" not in subs["honest"].result.audit
    assert subs["honest"].auto_score == subs["honest"].auto_max_score
    with (tmp_path / "grading" / "audit.json").open() as handle:
        assert "honest/01_logistic_regression" in handle.read()

"""The release/answer-key pipeline and intake, without executing notebooks."""

import json
import shutil
import zipfile

import nbformat
import pytest

from autograder import authoring
from autograder.pipeline import intake
from autograder.pipeline.leaks import LeakError, find_leaks, verify_release
from autograder.pipeline.release import release_assignment, solve_assignment
from autograder.registry import assignments

ASSIGNMENTS = [a.id for a in assignments()]


def sources(nb):
    return [(cell.cell_type, cell.source) for cell in nb.cells]


@pytest.fixture(scope="module")
def regenerated(root, tmp_path_factory):
    """A scratch copy of the course with releases and answer keys generated afresh."""
    scratch = tmp_path_factory.mktemp("course")
    shutil.copy(root / "nbgrader_config.py", scratch)
    shutil.copytree(root / "source_notebooks", scratch / "source_notebooks")
    for aid in ASSIGNMENTS:
        release_assignment(scratch, aid)
        solve_assignment(scratch, aid)
    return scratch


@pytest.mark.parametrize("aid", ASSIGNMENTS)
@pytest.mark.parametrize("folder", ["assignments", "solutions"])
def test_committed_release_and_answer_key_are_in_sync(root, regenerated, aid, folder):
    for fresh in sorted((regenerated / folder / aid).glob("*.ipynb")):
        committed = root / folder / aid / fresh.name
        assert committed.exists(), f"{committed} is missing: run `dlcourse release` / `dlcourse solve` and commit"
        assert sources(nbformat.read(committed, 4)) == sources(nbformat.read(fresh, 4)), (
            f"{committed} is out of date with source_notebooks/: run `dlcourse release {aid}` and `dlcourse solve {aid}`"
        )


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_release_leaks_nothing_and_keeps_the_stubs(root, aid):
    verify_release(root / "source_notebooks" / aid, root / "assignments" / aid)
    for path in (root / "assignments" / aid).glob("*.ipynb"):
        text = path.read_text()
        assert "raise NotImplementedError()" in text and "YOUR ANSWER HERE" in text


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_points_add_up_to_a_round_total(root, aid):
    for path in (root / "source_notebooks" / aid).glob("*.ipynb"):
        points = authoring.total_points(nbformat.read(path, 4))
        assert points > 0 and points % 10 == 0, f"{path.name}: {points} points"


def _toy_source(tmp_path):
    nb = authoring.notebook(
        [
            authoring.solution("answer", "def f(x):\n    ### BEGIN SOLUTION\n    return secret_formula(x) * 42\n    ### END SOLUTION"),
            authoring.tests("test_f", 10, "assert f(1) == 42\n### BEGIN HIDDEN TESTS\nassert hidden_check_of_f(f) == 1234\n### END HIDDEN TESTS"),
        ]
    )
    path = tmp_path / "toy.ipynb"
    nbformat.write(nb, path)
    return nb, path


def test_leak_check_catches_solution_lines_markers_and_outputs(tmp_path):
    nb, source = _toy_source(tmp_path)
    leaky = tmp_path / "release" / "toy.ipynb"
    leaky.parent.mkdir()
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="42\n")]
    nbformat.write(nb, leaky)
    leaks = find_leaks(source, leaky)
    assert any("BEGIN SOLUTION" in leak for leak in leaks)
    assert any("return secret_formula(x) * 42" in leak for leak in leaks)
    assert any("assert hidden_check_of_f(f) == 1234" in leak for leak in leaks)
    assert any("has outputs" in leak for leak in leaks)
    with pytest.raises(LeakError):
        verify_release(tmp_path, leaky.parent)


# ---------------------------------------------------------------- intake


@pytest.fixture
def index(root):
    from autograder.pipeline.grade import source_notebook_index

    return source_notebook_index(root)


def intake_one(path, index):
    sub = intake.Submission("s", path)
    intake.read_notebook(sub)
    if sub.status == "pending":
        intake.identify_assignment(sub, index)
    return sub


def test_intake_rejects_non_notebooks_with_a_clear_message(tmp_path, index):
    (tmp_path / "a.ipynb").write_text("")
    (tmp_path / "b.ipynb").write_text("{not json")
    (tmp_path / "c.ipynb").write_text(json.dumps({"cells": "nope"}))
    (tmp_path / "d.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    messages = {p: intake_one(tmp_path / p, index) for p in ("a.ipynb", "b.ipynb", "c.ipynb", "d.ipynb")}
    assert all(sub.status == "invalid" for sub in messages.values())
    assert "empty" in messages["a.ipynb"].message
    assert "not JSON" in messages["b.ipynb"].message
    assert "not a valid Jupyter notebook" in messages["c.ipynb"].message
    assert "none of the graded cells" in messages["d.ipynb"].message


def test_intake_identifies_assignment_and_catches_a_mislabelled_file(root, tmp_path, index):
    aid = ASSIGNMENTS[0]
    release = next((root / "assignments" / aid).glob("*.ipynb"))
    good = intake_one(release, index)
    assert (good.status, good.assignment, good.notebook_id) == ("pending", aid, release.stem)
    if len(ASSIGNMENTS) > 1:
        wrong = tmp_path / f"{ASSIGNMENTS[1]}.ipynb"
        shutil.copy(release, wrong)
        sub = intake_one(wrong, index)
        assert sub.status == "invalid" and "wrong assignment" in sub.message


def test_intake_collects_folders_zips_and_lms_batches(root, tmp_path):
    aid = ASSIGNMENTS[0]
    release = next((root / "assignments" / aid).glob("*.ipynb"))
    subs = tmp_path / "subs"
    (subs / "ann").mkdir(parents=True)
    shutil.copy(release, subs / "ann" / f"{aid}.ipynb")
    (subs / "ann" / ".ipynb_checkpoints").mkdir()
    shutil.copy(release, subs / "ann" / ".ipynb_checkpoints" / "old.ipynb")
    with zipfile.ZipFile(subs / "ben.zip", "w") as bundle:
        bundle.write(release, f"work/{aid}.ipynb")
        bundle.writestr("../../escape.ipynb", "{}")
    shutil.copy(release, subs / f"cho_late_1234_5678_{aid}.ipynb")
    found = intake.collect(subs, tmp_path / "scratch")
    assert sorted(s.student for s in found) == ["ann", "ben", "cho"]
    assert not (tmp_path / "escape.ipynb").exists()
    batch = tmp_path / "batch.zip"
    with zipfile.ZipFile(batch, "w") as bundle:
        bundle.write(release, f"dan_{aid}.ipynb")
    assert [s.student for s in intake.collect(batch, tmp_path / "scratch2")] == ["dan"]
    with pytest.raises(FileNotFoundError):
        intake.collect(tmp_path / "nope", tmp_path)


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_example_class_hands_in_untampered_notebooks(root, tmp_path, aid):
    """The answer key a student would hand in is the release with its answers filled in: the release's test cells."""
    from autograder.pipeline import integrity
    from autograder.pipeline.examples import build_example_class

    source = nbformat.read(next((root / "source_notebooks" / aid).glob("*.ipynb")), 4)
    for example in build_example_class(root, [aid], tmp_path):
        submitted = nbformat.read(tmp_path / example.student / f"{aid}.ipynb", 4)
        assert integrity.test_cell_changes(submitted, source) == [], example.student
        assert "BEGIN HIDDEN TESTS" not in nbformat.writes(submitted), example.student
        if example.based_on == "solution":
            for cell in submitted.cells:
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("solution"):
                    stub = "raise NotImplementedError()" in cell.source
                    assert stub == (meta["grade_id"] in example.unanswered), f"{example.student}/{meta['grade_id']}: stub {stub}"


def test_an_example_cannot_leave_an_unknown_cell_unanswered(root, tmp_path):
    from autograder.pipeline.examples import ExampleStudent, build_submission

    aid = ASSIGNMENTS[0]
    dan = ExampleStudent("dan", aid, "solution", "typo in unanswered", unanswered=["no_such_cell"])
    with pytest.raises(ValueError, match="no answer cell with grade_id 'no_such_cell'"):
        build_submission(root, dan, tmp_path)


def test_thread_environment_caps_every_math_library():
    from autograder.pipeline.sandbox import thread_environment

    env = thread_environment(2)
    assert {env[k] for k in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")} == {
        "2"
    }
    assert thread_environment(0)["OMP_NUM_THREADS"] == "1"

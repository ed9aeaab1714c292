"""An assignment is one folder: the registry reads it, every command picks it up, a missing part is named.

The kernel test builds a tiny assignment 07 in a temporary course, as one folder and nothing else, and
runs the commands an instructor would: release, solve, validate, grade, verdicts, ``bench --quick`` and
the Gradescope export.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml
from typer.testing import CliRunner

from autograder import authoring
from autograder.cli import app
from autograder.registry import INSTRUCTOR_FILES, AssignmentFolderError, assignments, load_assignment

TINY = "07_tiny"
TINY_SPEC = """\
title = "A tiny assignment"
points = 4
datasets = []
light = true

[gradescope]
timeout_minutes = 7
memory_mb = 1536
"""
TINY_EXAMPLES = {
    "students": [
        {"student": "alice", "based_on": "solution", "note": "the answer key", "expect_failed": []},
        {
            "student": "bob",
            "based_on": "solution",
            "note": "triples instead of doubling",
            "edits": [{"grade_id": "answer_double", "old": "2.0 * np.asarray(x)", "new": "3.0 * np.asarray(x)"}],
            "expect_failed": ["test_double"],
        },
    ]
}
TINY_MUTATIONS = {
    "assignment": TINY,
    "setup": ["setup"],
    "functions": {
        "double": {
            "solution_cells": ["answer_double"],
            "tests": ["test_double"],
            "correct": {"multiply": "def double(x):\n    return np.multiply(x, 2.0)\n"},
            "mistakes": {"identity": "def double(x):\n    return np.asarray(x, dtype=float)\n"},
        }
    },
}


def tiny_notebook():
    return authoring.notebook(
        [
            authoring.md("# Assignment 07 — A tiny assignment"),
            authoring.locked_code("setup", "import numpy as np\nfrom autograder.checks import check_close"),
            authoring.solution("answer_double", "def double(x):\n    ### BEGIN SOLUTION\n    return 2.0 * np.asarray(x)\n    ### END SOLUTION"),
            authoring.tests(
                "test_double",
                4,
                'check_close(double([1.0, 2.0]), [2.0, 4.0], name="double of 1 and 2")\n'
                "### BEGIN HIDDEN TESTS\n"
                'check_close(double(np.arange(-3.0, 3.0)), 2.0 * np.arange(-3.0, 3.0), name="double on negatives", quiet=True)\n'
                "### END HIDDEN TESTS",
            ),
        ]
    )


TINY_DRAWS = """from autograder.hidden_draws import Excused

CELLS = {"test_double": Excused("no random input: the hidden check doubles a fixed range")}
"""


def write_tiny_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    nbformat.write(tiny_notebook(), folder / f"{folder.name}.ipynb")
    (folder / "assignment.toml").write_text(TINY_SPEC)
    (folder / "example_class.json").write_text(json.dumps(TINY_EXAMPLES, indent=1))
    (folder / "hidden_draws.py").write_text(TINY_DRAWS)
    (folder / "mutations.yaml").write_text(yaml.safe_dump({**TINY_MUTATIONS, "assignment": folder.name}, sort_keys=False))
    return folder


@pytest.fixture
def tiny_course(tmp_path, root, monkeypatch):
    """A course root holding assignment 07 only (and the course's nbgrader settings, data manifest and lock file)."""
    course = tmp_path / "course"
    (course / "datasets").mkdir(parents=True)
    shutil.copy(root / "nbgrader_config.py", course)
    shutil.copy(root / "datasets" / "manifest.json", course / "datasets")
    shutil.copy(root / "requirements.lock", course)  # the Gradescope export installs from it
    write_tiny_folder(course / "source_notebooks" / TINY)
    monkeypatch.setenv("DLCOURSE_ROOT", str(course))
    monkeypatch.chdir(course)
    return course


def test_every_assignment_of_the_course_is_a_complete_folder(root):
    found = assignments(root)
    assert [a.id for a in found] == sorted(p.name for p in (root / "source_notebooks").iterdir() if p.is_dir())
    for a in found:
        assert a.points > 0 and a.title, a.id
        assert all(d in ("fashion_mnist", "mnist", "words") for d in a.datasets)
        assert a.gradescope.timeout_minutes <= 40, f"{a.id}: Gradescope allows 40 minutes at most"


@pytest.mark.parametrize("part", [f"{TINY}.ipynb", *INSTRUCTOR_FILES])
def test_a_folder_missing_a_part_is_refused_with_its_name(tiny_course, part):
    folder = tiny_course / "source_notebooks" / TINY
    assert load_assignment(folder).points == 4
    (folder / part).unlink()
    if part.endswith(".ipynb"):  # a folder without a notebook is no assignment at all: keep one of another name
        nbformat.write(tiny_notebook(), folder / "renamed.ipynb")
    with pytest.raises(AssignmentFolderError, match=part.replace(".", r"\.")):
        load_assignment(folder)
    result = CliRunner().invoke(app, ["release"])
    assert result.exit_code != 0 and part in result.output, result.output


@pytest.mark.parametrize(
    "change, complaint",
    [
        (("points = 4", "points = 5"), "add up to 4"),
        (("light = true", 'light = "yes"'), "'light' must be a bool"),
        (("datasets = []", 'datasets = ["cifar10"]'), "unknown data set"),
        (("[gradescope]", 'colour = "blue"\n[gradescope]'), "unknown key"),
        (("[gradescope]", '[[targets]]\nmodel = "big CNN"\nmin_accuracy = 0.9\n[gradescope]'), "'big CNN' match no check_accuracy"),
        (("timeout_minutes = 7", "timeout = 7"), "unexpected keyword argument 'timeout'"),
    ],
)
def test_a_spec_that_disagrees_with_its_notebook_is_refused(tiny_course, change, complaint):
    spec = tiny_course / "source_notebooks" / TINY / "assignment.toml"
    spec.write_text(spec.read_text().replace(*change))
    with pytest.raises(AssignmentFolderError, match=complaint):
        load_assignment(spec.parent)


@pytest.mark.kernel
def test_a_new_assignment_folder_is_picked_up_by_every_command(tiny_course, tmp_path):
    runner = CliRunner()

    def ok(*args):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, f"dlcourse {' '.join(map(str, args))}:\n{result.output}"
        return result.output

    assert f"released {TINY}" in ok("release")
    assert sorted(p.name for p in (tiny_course / "assignments" / TINY).iterdir()) == [f"{TINY}.ipynb"]  # no instructor file
    ok("solve")
    assert sorted(p.name for p in (tiny_course / "solutions" / TINY).iterdir()) == [f"{TINY}.ipynb"]

    key = tiny_course / "solutions" / TINY / f"{TINY}.ipynb"
    ok("validate", key)
    blank = runner.invoke(app, ["validate", str(tiny_course / "assignments" / TINY / f"{TINY}.ipynb")])
    assert blank.exit_code == 1 and "check_close(double([1.0, 2.0])" in blank.output

    from autograder.pipeline.examples import build_example_class

    build_example_class(tiny_course, [TINY], tmp_path / "subs")
    ok("grade", tmp_path / "subs", "--out", tmp_path / "graded", "--workers", "1", "--audit-fraction", "0")
    with open(tmp_path / "graded" / "grades.csv") as handle:
        scores = {row["student"]: float(row["score"]) for row in csv.DictReader(handle) if row["assignment"] == TINY}
    assert scores == {"alice": 4.0, "bob": 0.0}

    verdicts = ok("verdicts", TINY, "--out", tmp_path / "verdicts.md")
    assert "1 correct alternatives, 1 mistakes: 0 false failures, 0 surviving mistakes" in verdicts

    ok("bench", "--quick", TINY, "--out", tmp_path / "bench")
    [run] = json.loads((tmp_path / "bench" / "results_quick.json").read_text())["runs"]
    assert run["assignment"] == TINY and run["error"] is None

    ok("export", "gradescope", TINY, "--out", tmp_path / "ag.zip")
    with zipfile.ZipFile(tmp_path / "ag.zip") as bundle:
        settings = json.loads(bundle.read("gradescope.json"))
        names = bundle.namelist()
    assert (settings["timeout_minutes"], settings["sandbox"]["memory_mb"]) == (7, 1536)  # from the folder's assignment.toml
    assert [n for n in names if n.startswith("course/source_notebooks/")] == [f"course/source_notebooks/{TINY}/{TINY}.ipynb"]
    assert not any("datasets/fashion_mnist" in n for n in names)  # 07 loads no data set

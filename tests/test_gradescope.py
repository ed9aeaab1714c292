"""`dlcourse export gradescope`: the zip's layout, results.json's format, and run_autograder in a simulated /autograder/.

The slow tests unpack the exported zip into a temporary folder laid out as
Gradescope lays out ``/autograder`` (``source/``, ``submission/``, ``results/``,
``run_autograder``) and run ``run_autograder`` there with ``AUTOGRADER_ROOT``
pointing at it and ``AUTOGRADER_PYTHON`` at this environment's Python (setup.sh,
which needs root and the network, is not run). ``run_autograder`` puts the zip's
own copy of the ``autograder`` package first on ``PYTHONPATH``, so the packaged
code is what grades. The answer keys of 03-06 are not graded here: CI grades them
in the example-class tests through the same code.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import nbformat
import pytest
from selection import selected_params
from typer.testing import CliRunner

from autograder.cli import app
from autograder.pipeline import gradescope
from autograder.pipeline.examples import answered_release, build_submission, example_students
from autograder.pipeline.model import CellEvent, CellScore, EventKind, Finding, GradingResult, Severity, Status
from autograder.pipeline.sandbox import SandboxSettings
from autograder.registry import INSTRUCTOR_FILES, assignments, get_assignment

ASSIGNMENTS = [a.id for a in assignments()]
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
# Gradescope's documented results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/, "Output format"):
# every key it lists, and nothing else; the total score is required at the top level or on every test.
RESULTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "name": {"type": "string"},
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
        "leaderboard": {"type": "array"},
    },
    "anyOf": [{"required": ["score"]}, {"required": ["tests"], "properties": {"tests": {"items": {"required": ["score"]}}}}],
}
# what this exporter promises on top of the format: a total, and every test named and scored out of its maximum
OUR_SCHEMA = {
    "type": "object",
    "required": ["score", "tests", "output"],
    "properties": {"tests": {"items": {"required": ["name", "score", "max_score", "output", "visibility"]}}},
}


def check_format(results: dict) -> None:
    jsonschema.validate(results, RESULTS_SCHEMA)
    jsonschema.validate(results, OUR_SCHEMA)
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


# ---------------------------------------------------------------- fast: the zip and the mapping


def test_export_writes_gradescopes_layout(root, tmp_path):
    out = tmp_path / "ag.zip"
    result = CliRunner().invoke(
        app,
        ["export", "gradescope", "01_logistic_regression", "--out", str(out), "--hidden-visibility", "hidden", "--timeout-minutes", "20"]
        + ["--audit-fraction", "0.1"],
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as bundle:
        names = set(bundle.namelist())
        for script in ("setup.sh", "run_autograder"):  # at the root of the archive, not in a folder, and executable
            assert script in names
            assert (bundle.getinfo(script).external_attr >> 16) & stat.S_IXUSR
            assert bundle.read(script).startswith(b"#!/usr/bin/env bash")
        assert {
            "requirements.txt",
            "course/nbgrader_config.py",
            "course/autograder/pipeline/gradescope.py",
            "course/datasets/manifest.json",
        } <= names
        assert "course/source_notebooks/01_logistic_regression/01_logistic_regression.ipynb" in names
        assert not any("02_backprop" in n or "solutions/" in n or "__pycache__" in n for n in names)
        folder_files = [n for n in names if n.startswith("course/source_notebooks/")]
        assert not any(n.endswith(INSTRUCTOR_FILES) for n in folder_files), "the example class and mutation cases quote answer-key lines"
        if (root / "datasets" / "fashion_mnist").is_dir():  # 01's assignment.toml: it loads Fashion-MNIST
            assert any(n.startswith("course/datasets/fashion_mnist/train-images") for n in names)
        settings = json.loads(bundle.read("gradescope.json"))
        notebook_s = 20 * 60 - gradescope.TIMEOUT_MARGIN_S  # stops before Gradescope's timeout, so results.json is written
        assert settings == {
            "assignment": "01_logistic_regression",
            "hidden_visibility": "hidden",
            "timeout_minutes": 20,
            "audit_fraction": 0.1,
            # the assignment.toml's [gradescope] memory, not given on the command line; the rest are SandboxSettings' defaults
            "sandbox": {**SandboxSettings().to_dict(), "memory_mb": 2048, "notebook_timeout": notebook_s, "cell_timeout": notebook_s},
        }
        assert gradescope.GradescopeSettings.from_json(bundle.read("gradescope.json").decode()).sandbox.memory_mb == 2048
        assert b"--require-hashes -r /autograder/source/requirements.txt" in bundle.read("setup.sh") and b"python3.11" in bundle.read("setup.sh")
    assert gradescope.bundled_datasets(root, get_assignment("02_backprop", root)) == []  # 02 loads no data set: none travels


def test_setup_installs_the_locked_closure_of_what_grading_needs(root):
    """requirements.txt: lock entries (hashes kept) for the core dependencies and TensorFlow, closed under their requirements."""
    import importlib.metadata as md
    import re

    from packaging.requirements import Requirement

    text = gradescope.grading_requirements((root / "requirements.lock").read_text())
    names = {gradescope._norm(m) for m in re.findall(r"^([A-Za-z0-9][\w.\-\[\]]*)==", text, re.M)}
    assert {"tensorflow-cpu", "keras", "nbgrader", "jupyterlab", "numpy", "typer", "pyyaml"} <= names
    assert not names & {"torch", "jax", "jaxlib", "dask", "distributed", "selenium", "pytest", "ruff"}
    assert text.count("--hash=sha256:") >= len(names)
    unmet = set()
    for name in names:  # every requirement of every kept package (as installed here) is kept too
        for spec in md.distribution(name).requires or []:
            req = Requirement(spec)
            if not (req.marker and not req.marker.evaluate({"extra": ""})) and gradescope._norm(req.name) not in names:
                unmet.add(f"{name} needs {req.name}")
    assert not unmet, sorted(unmet)


def test_export_rejects_bad_options(tmp_path):
    runner = CliRunner()
    wrong_target = runner.invoke(app, ["export", "moodle", "01_logistic_regression"])
    assert wrong_target.exit_code != 0 and "'moodle' is not one of 'gradescope'" in wrong_target.output
    wrong_visibility = runner.invoke(app, ["export", "gradescope", "01_logistic_regression", "--hidden-visibility", "soon"])
    assert wrong_visibility.exit_code != 0 and "'soon' is not one of 'after_published'" in wrong_visibility.output
    assert "Unknown assignment" in runner.invoke(app, ["export", "gradescope", "99_nothing"]).output


def _source():
    from nbformat.v4 import new_code_cell, new_notebook

    def cell(grade_id, source):
        return new_code_cell(source, metadata={"nbgrader": {"grade": True, "grade_id": grade_id, "points": 5, "solution": False}})

    return new_notebook(cells=[cell("test_f", "check(f)"), cell("test_g", "check(g)\n### BEGIN HIDDEN TESTS\nsecret(g)\n### END HIDDEN TESTS\n")])


def test_results_follow_the_final_score_and_hide_hidden_tests():
    result = GradingResult(
        Status.GRADED,
        cells=[
            CellScore("test_f", 5, 5, True),
            CellScore("test_g", 0, 5, True, "AssertionError: g(2) should be 4 but is 5: square, do not add"),
            CellScore("essay", None, 2, False),
        ],
        seconds=12.3,
    )
    data = gradescope.results_json(result, _source(), "after_due_date")
    check_format(data)
    assert data["score"] == 5 and data["execution_time"] == 12
    f, g = data["tests"]
    assert (f["name"], f["score"], f["max_score"], f["visibility"], f["output"]) == ("test_f", 5, 5, "visible", "Passed.")
    assert (g["score"], g["visibility"]) == (0, "after_due_date") and "square, do not add" in g["output"]
    assert "essay" in data["output"] and "graded by hand" in data["output"]  # written answers: not a test, said at the top


def test_withheld_points_timeouts_and_findings_show_in_the_output():
    cells = [CellScore("test_f", 0, 5, True), CellScore("test_g", 0, 5, True)]
    finding = Finding("answer_f", 3, "replaces a test helper", "np.allclose = lambda *a: True", Severity.WITHHOLD)
    tampered = GradingResult(Status.TAMPERED, "autograded points withheld (set to 0) for review; static scan: ...", cells, findings=[finding])
    data = gradescope.results_json(tampered, _source())
    check_format(data)
    assert data["score"] == 0 and "withheld" in data["output"] and "status: tampered" in data["output"]
    assert all("Points withheld for review" in t["output"] for t in data["tests"])
    timed_out = GradingResult(
        Status.TIMED_OUT,
        "test_g: cell timed out (after 510 s)",
        [CellScore("test_f", 5, 5, True), CellScore("test_g", 0, 5, True)],
        events=[CellEvent(EventKind.CELL_TIMED_OUT, "test_g", "after 510 s")],
    )
    data = gradescope.results_json(timed_out, _source())
    check_format(data)
    assert data["score"] == 5 and "ran out of time" in data["output"]
    assert "cell timed out" in data["tests"][1]["output"]
    blank = gradescope.results_json(GradingResult(Status.GRADED, cells=[CellScore("test_f", 0, 5, True, "NotImplementedError: ")]))
    assert "Replace `raise NotImplementedError()`" in blank["tests"][0]["output"]


# ---------------------------------------------------------------- slow: run_autograder in a simulated /autograder


@pytest.fixture(scope="module")
def zips(root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gradescope")
    return {aid: gradescope.build_zip(root, aid, folder / f"{aid}.zip") for aid in ASSIGNMENTS}


def run_autograder(bundle: Path, notebook, where: Path, models: Path | None = None, cores: int | None = None) -> tuple[dict, float]:
    """Lay ``where`` out as Gradescope's /autograder, run run_autograder on ``notebook``; results.json and wall seconds.

    ``models``: a trained_models/ folder handed in beside the notebook; ``cores``: pin the run to that many cores (taskset).
    """
    for sub in ("source", "submission", "results"):
        (where / sub).mkdir(parents=True)
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(where / "source")
    shutil.copy(where / "source" / "run_autograder", where / "run_autograder")  # what Gradescope's image build does
    (where / "run_autograder").chmod(0o755)
    nbformat.write(notebook, where / "submission" / "notebook.ipynb")
    if models is not None:
        shutil.copytree(models, where / "submission" / "trained_models")
    env = {k: v for k, v in os.environ.items() if k not in ("DLCOURSE_ROOT", "PYTHONPATH")}
    env.update(AUTOGRADER_ROOT=str(where), AUTOGRADER_PYTHON=sys.executable)
    pin = ["taskset", "-c", ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:cores])] if cores else []
    start = time.perf_counter()
    run = subprocess.run([*pin, str(where / "run_autograder")], cwd=where, env=env, capture_output=True, text=True, timeout=1200)
    seconds = time.perf_counter() - start
    (where / "results" / "stdout").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads((where / "results" / "results.json").read_text())
    log = Path(os.environ.get("DLCOURSE_GRADESCOPE_LOG", "/dev/null"))
    with log.open("a") as handle:  # wall times, for the README
        handle.write(f"{bundle.stem} {where.name}: {seconds:.1f} s, score {results['score']:g}\n")
    check_format(results)
    return results, seconds


# What each slow test below hands in, by its name: run_autograder runs for all of them at once (see ``autograder_runs``).
HANDED_IN = {
    "test_answer_key_gets_full_marks": "answer key",
    "test_blank_release_gets_zero_and_trains_nothing": "blank release",
    "test_planted_mistakes_fail_the_expected_tests": "carol",
}


def handed_in(root: Path, what: str, aid: str, folder: Path):
    """The notebook a test hands in: the answer key, the untouched release, or the example class's carol."""
    if what == "answer key":
        return answered_release(root, aid)
    if what == "blank release":
        return nbformat.read(root / "assignments" / aid / f"{aid}.ipynb", as_version=4)
    [carol] = [s for s in example_students(aid) if s.student == "carol"]
    return nbformat.read(build_submission(root, carol, folder), as_version=4)


@pytest.fixture(scope="module")
def autograder_runs(request, root, zips, tmp_path_factory):
    """run_autograder for every slow test of :data:`HANDED_IN` this session runs, two at a time; (what, aid) -> its future.

    Each run is one kernel on one core, and this module runs after the example classes' background grading is done:
    one at a time, the other core would sit idle.
    """
    wanted = [(what, aid) for test, what in HANDED_IN.items() for aid in selected_params(request, "aid", test)]

    def run(what: str, aid: str) -> tuple[dict, float]:
        folder = tmp_path_factory.mktemp(f"{what.replace(' ', '-')}-{aid}")
        return run_autograder(zips[aid], handed_in(root, what, aid, folder / "built"), folder / "autograder")

    with ThreadPoolExecutor(max_workers=2) as pool:
        return {key: pool.submit(run, *key) for key in wanted}


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.parametrize("aid", ["01_logistic_regression", "02_backprop"])
def test_answer_key_gets_full_marks(autograder_runs, aid):
    results, _ = autograder_runs["answer key", aid].result()
    assert results["tests"] and all(t["score"] == t["max_score"] for t in results["tests"]), [
        t for t in results["tests"] if t["score"] < t["max_score"]
    ]
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0
    assert "status:" not in results["output"]  # graded cleanly: no timeout, no withheld points
    hidden = {t["name"] for t in results["tests"] if t["visibility"] == "after_published"}
    assert hidden and all(t["visibility"] in ("visible", "after_published") for t in results["tests"])


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.skipif(not shutil.which("taskset"), reason="needs taskset (util-linux) to pin the run to one core")
@pytest.mark.parametrize("aid", ["04_cnn"])  # a parameter, so that the session knows which example class it reads
def test_cnn_answer_key_with_its_weights_grades_on_one_core_within_gradescopes_default(root, zips, example_class, tmp_path, aid):
    _, _, workdir = example_class(aid)  # the example class's grading trained the key and kept its weights
    models = workdir / "trained_models" / "alice" / aid
    results, seconds = run_autograder(zips[aid], answered_release(root, aid), tmp_path / "with_weights", models=models, cores=1)
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0, [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert seconds < 10 * 60, f"{seconds:.0f} s on one core: over Gradescope's default timeout"


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_blank_release_gets_zero_and_trains_nothing(autograder_runs, aid):
    results, seconds = autograder_runs["blank release", aid].result()  # run beside one other: one kernel on each core
    assert results["score"] == 0 and all(t["score"] == 0 for t in results["tests"])
    assert sum(t["max_score"] for t in results["tests"]) > 0
    assert any("NotImplementedError" in t["output"] for t in results["tests"])
    assert "status:" not in results["output"], results["output"]  # graded, not timed out: its training cells failed fast
    # the whole run, TensorFlow start-up included, in less time than the fastest training cell of 04/05 takes here
    assert seconds < 240, f"{aid}: {seconds:.0f} s for a blank notebook: does a training cell run without the student's code?"


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.parametrize("aid", ["01_logistic_regression"])
def test_planted_mistakes_fail_the_expected_tests(autograder_runs, aid):
    [carol] = [s for s in example_students(aid) if s.student == "carol"]
    results, _ = autograder_runs["carol", aid].result()
    failed = {t["name"] for t in results["tests"] if t["score"] < t["max_score"]}
    assert failed == set(carol.expect_failed)
    for name, fragment in carol.expect_message.items():
        assert fragment in next(t["output"] for t in results["tests"] if t["name"] == name)
    assert results["score"] == sum(t["max_score"] for t in results["tests"] if t["name"] not in failed)


def test_no_notebook_in_the_submission_is_said_plainly(root, tmp_path):
    where = tmp_path / "autograder"
    (where / "submission").mkdir(parents=True)
    (where / "submission" / "answers.py").write_text("print('hi')\n")
    with zipfile.ZipFile(gradescope.build_zip(root, "01_logistic_regression", tmp_path / "ag.zip")) as archive:
        archive.extractall(where / "source")
    assert gradescope.main(["--root", str(where)]) == 0
    results = json.loads((where / "results" / "results.json").read_text())
    check_format(results)
    assert results["score"] == 0 and "No notebook" in results["output"] and "01_logistic_regression.ipynb" in results["output"]

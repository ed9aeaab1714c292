"""The grading core's single definitions: sandbox settings, nbgrader's cell kinds and delimiters, shared helpers."""

from __future__ import annotations

import dataclasses
import json
import pickle

import nbformat
import pytest
import typer
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder.cli import app
from autograder.pipeline import gradescope, leaks, nbgrader_cells, static_scan, workers
from autograder.pipeline.gradescope import GradescopeSettings, GradescopeSettingsError
from autograder.pipeline.sandbox import KernelSandbox, SandboxSettings, SandboxSettingsError

CUSTOM_CONFIG = """\
c = get_config()  # noqa: F821
c.ClearHiddenTests.begin_test_delimeter = "BEGIN SECRET CHECKS"
c.ClearHiddenTests.end_test_delimeter = "END SECRET CHECKS"
c.ClearSolutions.begin_solution_delimeter = "BEGIN ANSWER"
c.ClearSolutions.end_solution_delimeter = "END ANSWER"
"""


def _defaults(command: str) -> dict:
    """The option defaults of a `dlcourse` command, by parameter name."""
    group = typer.main.get_command(app)
    return {p.name: p.default for p in group.commands[command].params}


# ---------------------------------------------------------------- sandbox settings: one definition


def test_cli_option_defaults_are_the_settings_defaults():
    grade = _defaults("grade")
    settings = SandboxSettings()
    assert grade["sandbox"] == settings.mode
    for name in ("memory_mb", "cpu_seconds", "cell_timeout", "notebook_timeout", "threads"):
        assert grade[name] == getattr(settings, name), name
    export = _defaults("export")
    assert export["memory_mb"] is None and export["timeout_minutes"] is None  # the assignment.toml's [gradescope]
    assert export["audit_fraction"] == GradescopeSettings.audit_fraction
    assert export["hidden_visibility"] == GradescopeSettings.hidden_visibility


def test_sandbox_settings_are_frozen_picklable_and_refuse_unknown_keys():
    settings = SandboxSettings(memory_mb=2048, threads=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.memory_mb = 1
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert SandboxSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(SandboxSettingsError, match="unknown sandbox setting.*memory_gb.*memory_mb"):
        SandboxSettings.from_dict({**settings.to_dict(), "memory_gb": 4})
    with pytest.raises(SandboxSettingsError, match="'docker' does not exist: use one of auto, bwrap, limits"):
        SandboxSettings(mode="docker")


def test_the_worker_configures_nbgrader_with_the_typed_settings(root, tmp_path):
    from autograder.pipeline.model import GradingTask
    from autograder.pipeline.preprocessors import SandboxExecute

    source = (root / "source_notebooks" / "01_logistic_regression" / "01_logistic_regression.ipynb").read_text()
    settings = SandboxSettings(mode="limits", max_output_chars=5000, figure_dpi=0)
    task = GradingTask("ann", "01_logistic_regression", "01_logistic_regression", source, source, b"", str(root), settings)
    assert pickle.loads(pickle.dumps(task)).sandbox == settings  # it travels to worker processes as it is
    config = workers._config(task, root, tmp_path / "course", tmp_path / "kernel", nbgrader_cells.delimiters(root))
    assert config.SandboxedKernelManager.sandbox == KernelSandbox(str(tmp_path / "kernel"), settings, str(root))
    assert SandboxExecute(config=config).settings == settings
    assert SandboxExecute().settings == SandboxSettings()  # unconfigured: the dataclass's defaults, not a second copy


def test_gradescope_settings_round_trip_and_refuse_what_they_do_not_know():
    settings = GradescopeSettings.for_export("01_logistic_regression", 20, 2048, hidden_visibility="hidden", audit_fraction=0.25)
    assert settings.sandbox == SandboxSettings(memory_mb=2048, notebook_timeout=1110, cell_timeout=1110)
    assert GradescopeSettings.from_json(settings.to_json()) == settings
    old_format = {"assignment": "01_logistic_regression", "timeout_minutes": 10, "memory_mb": 4096}  # before the sandbox's settings
    with pytest.raises(GradescopeSettingsError, match="unknown setting.*memory_mb.*export the autograder again"):
        GradescopeSettings.from_json(json.dumps(old_format))
    typo = {"assignment": "01_logistic_regression", "timeout_minutes": 10, "sandbox": {"memory_mbs": 1}}
    with pytest.raises(GradescopeSettingsError, match="unknown sandbox setting.*memory_mbs"):
        GradescopeSettings.from_json(json.dumps(typo))
    with pytest.raises(GradescopeSettingsError, match="hidden visibility must be one of"):
        GradescopeSettings("01_logistic_regression", 10, hidden_visibility="soon")
    with pytest.raises(GradescopeSettingsError, match="between 1 and 40 minutes"):
        GradescopeSettings("01_logistic_regression", 60)


def test_run_autograder_reports_a_settings_file_it_cannot_read(tmp_path):
    where = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):  # as Gradescope lays out /autograder
        (where / folder).mkdir(parents=True)
    (where / "source" / gradescope.SETTINGS_FILE).write_text(
        json.dumps({"assignment": "01_logistic_regression", "timeout_minutes": 10, "memory_mb": 4096})
    )
    assert gradescope.main(["--root", str(where)]) == 1
    results = json.loads((where / "results" / "results.json").read_text())
    assert results["score"] == 0 and "unknown setting(s) memory_mb" in results["output"]


# ---------------------------------------------------------------- nbgrader's cell kinds and delimiters


def test_the_course_uses_nbgraders_default_delimiters(root):
    marks = nbgrader_cells.delimiters(root)
    assert marks.hidden_tests == ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    assert marks.markers == ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME", "END MARK SCHEME")
    assert nbgrader_cells.delimiters(root / "no-course-here") == marks  # nbgrader's defaults where no config sets them


def test_delimiters_set_in_the_course_config_are_honoured(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(CUSTOM_CONFIG)
    marks = nbgrader_cells.delimiters(tmp_path)
    assert marks.hidden_tests == ("BEGIN SECRET CHECKS", "END SECRET CHECKS")
    assert (marks.begin_solution, marks.end_solution) == ("BEGIN ANSWER", "END ANSWER")
    assert (marks.begin_mark_scheme, marks.end_mark_scheme) == ("BEGIN MARK SCHEME", "END MARK SCHEME")  # not set: nbgrader's
    source = "check(f)\n    ### BEGIN SECRET CHECKS\n    secret(f)\n    ### END SECRET CHECKS\ndone()"
    assert nbgrader_cells.has_hidden_tests(source, marks) and not nbgrader_cells.has_hidden_tests(source)
    assert nbgrader_cells.strip_hidden(source, marks) == "check(f)\ndone()"
    assert nbgrader_cells.redact_hidden(source, marks) == "check(f)\n    # (hidden tests: not shown)\ndone()"
    assert nbgrader_cells.strip_hidden(source) == source  # the default delimiters are not the course's

    secret = "def f(x):\n    ### BEGIN ANSWER\n    return secret_formula(x) * 42\n    ### END ANSWER"
    source_nb = new_notebook(cells=[new_code_cell(secret)])
    assert leaks.secret_lines(source_nb, marks) == {"return secret_formula(x) * 42"}
    assert leaks.secret_lines(source_nb) == set()
    (tmp_path / "s.ipynb").write_text(nbformat.writes(source_nb))
    (tmp_path / "r.ipynb").write_text(nbformat.writes(source_nb))
    assert any("marker 'BEGIN ANSWER'" in leak for leak in leaks.find_leaks(tmp_path / "s.ipynb", tmp_path / "r.ipynb", marks))


def test_the_worker_redacts_the_courses_hidden_tests(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(CUSTOM_CONFIG)
    marks = nbgrader_cells.delimiters(tmp_path)
    meta = {"nbgrader": {"grade": True, "grade_id": "test_f", "points": 1, "solution": False, "locked": True}}
    cell = new_code_cell("check(f)\n### BEGIN SECRET CHECKS\nsecret(f)\n### END SECRET CHECKS", metadata=meta)
    cell.outputs = [new_output("error", ename="AssertionError", evalue="no", traceback=["  secret(f)", "AssertionError: no"])]
    redacted = workers._redacted(new_notebook(cells=[cell]), marks)
    assert "secret" not in redacted.cells[0].source and redacted.cells[0].outputs[0].traceback == ["AssertionError: no"]


def test_cell_kinds_are_nbgraders():
    def cell(**meta):
        return new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "c", **meta}})

    assert static_scan.is_student_cell(new_code_cell("x = 1"))
    assert static_scan.is_student_cell(cell(solution=True))
    assert static_scan.is_student_cell(cell(solution=True, locked=True))  # nbgrader never locks a solution cell: it is scanned
    assert not static_scan.is_student_cell(cell(grade=True, points=1))
    assert not static_scan.is_student_cell(cell(locked=True))
    assert nbgrader_cells.grade_id(cell()) == "c" and nbgrader_cells.grade_id(new_code_cell("x")) is None


# ---------------------------------------------------------------- one helper each


def test_magic_lines_are_blanked_so_line_numbers_match_the_cell():
    from autograder import verdicts

    assert verdicts.python_source is static_scan.python_source
    assert static_scan.python_source("%matplotlib inline\n!ls\nx = 1") == "\n\nx = 1"
    source_nb = new_notebook(cells=[new_code_cell("import numpy as np", metadata={"nbgrader": {"grade_id": "s", "locked": True}})])
    student = new_notebook(cells=[*source_nb.cells, new_code_cell("%matplotlib inline\n\nnp.allclose = lambda *a, **k: True")])
    [finding] = static_scan.scan(student, source_nb)
    assert finding.line == 3


def test_colour_codes_are_stripped_from_failure_messages():
    meta = {"nbgrader": {"grade": True, "grade_id": "test_f", "points": 1, "solution": False, "locked": True}}
    cell = new_code_cell("check(f)", metadata=meta)
    cell.outputs = [new_output("error", ename="AssertionError", evalue="\x1b[31mf(1) is 3, expected 2\x1b[0m", traceback=[])]
    failed = workers.failure_messages(new_notebook(cells=[cell]))
    assert failed["test_f"].message == "AssertionError: f(1) is 3, expected 2"

"""One submission, graded in isolation: the task that workers run (locally or on Dask).

:func:`grade_task` takes a :class:`.model.GradingTask` and returns a
:class:`.model.GradingResult` (plain, picklable data), so the same function
runs in a ``concurrent.futures`` process pool and on Dask distributed workers
on other machines (which need the same checkout and virtual environment).

It builds a private nbgrader course folder in a fresh temporary directory with
a private copy of a gradebook in which only the assignment is registered, and
runs one chain of steps there: :func:`inspect_submission` (read-only cells,
static scan, before anything runs); :func:`autograde` (nbgrader's full Autograde,
kernel sandboxed by :mod:`.sandbox`, test cells guarded by :mod:`.integrity`);
:func:`score` (the final score, decided once by :func:`.scoring.final_score` and
written into the private gradebook); :func:`render_feedback` (from that
gradebook). The coordinator records the same result in the class gradebook, so
the feedback a student reads and every report agree.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from pathlib import Path

import nbformat

from ..environment import temporary_environment
from ..training import RECORD_DIR
from .handed_in_models import read_folder
from .kernel_glue import strip_ansi
from .model import FailedTest, GradingResult, GradingTask, Status, TrainingNote
from .nbgrader_cells import Delimiters, delimiters, grade_id, has_hidden_tests, is_grade, is_test_cell, redact_hidden
from .nbgrader_setup import gradebook_warnings_silenced


def first_line(text: str, limit: int = 300) -> str:
    text = strip_ansi(text).strip()
    return (text.splitlines() or [""])[0][:limit]


def _course_root(task: GradingTask) -> Path:
    from ..course import find_course_root

    root = Path(task.course_root)
    return root if (root / "nbgrader_config.py").exists() else find_course_root()


def _config(task: GradingTask, root: Path, course: Path, kernel_dir: Path, marks: Delimiters):
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from .nbgrader_setup import course_config, db_url
    from .preprocessors import SandboxExecute
    from .sandbox import KernelSandbox
    from .static_scan import protected_imports

    imports, _ = protected_imports(nbformat.reads(task.source, as_version=4), marks)
    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    return course_config(
        root,
        CourseDirectory={
            "root": str(course),
            "source_directory": "source",
            "release_directory": "release",
            "db_url": db_url(course),
        },
        Autograde={"autograde_preprocessors": [SandboxExecute if pp is Execute else pp for pp in defaults]},
        SandboxExecute={"settings": task.sandbox, "guard_imports": imports, "integrity": task.integrity, "interrupt_on_timeout": True},
        SandboxedKernelManager={"sandbox": KernelSandbox(str(kernel_dir), task.sandbox, str(root))},
    )


def failure_messages(graded) -> dict[str, FailedTest]:
    """Per test cell that failed: the first line of what it raised (or wrote to stderr, which nbgrader scores 0),
    and the mistake the check named in it (:func:`autograder.checks.diagnoses.read_diagnosis`).

    Only the message shown to people comes from the output; which status a
    submission gets comes from :mod:`.scoring`.
    """
    from ..checks.diagnoses import read_diagnosis

    failed = {}
    for cell in graded.cells:
        if not is_test_cell(cell):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                diagnosis = read_diagnosis(output.ename, strip_ansi(output.evalue))
                failed[grade_id(cell) or "?"] = FailedTest(first_line(f"{output.ename}: {output.evalue}"), diagnosis or "")
                break
            if output.output_type == "stream" and output.name == "stderr":
                failed[grade_id(cell) or "?"] = FailedTest("wrote to stderr (nbgrader gives such a cell 0): " + first_line(output.text))
                break
    return failed


def _redacted(graded, marks: Delimiters):
    """A copy for feedback: hidden-test source replaced by a note, tracebacks through it cut to their last line."""
    copy = nbformat.from_dict(graded)
    for cell in copy.cells:
        if is_grade(cell) and has_hidden_tests(cell.source, marks):
            cell.source = redact_hidden(cell.source, marks)
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
    return copy


def _private_course(tmp: Path, task: GradingTask, submitted) -> Path:
    """A one-student nbgrader course folder: the source notebook, the submission and an empty gradebook."""
    course = tmp / "course"
    (course / "source" / task.assignment).mkdir(parents=True)
    (course / "submitted" / task.student / task.assignment).mkdir(parents=True)
    (course / "gradebook.db").write_bytes(task.gradebook)
    (course / "source" / task.assignment / f"{task.notebook_id}.ipynb").write_text(task.source)
    nbformat.write(submitted, course / "submitted" / task.student / task.assignment / f"{task.notebook_id}.ipynb")
    return course


TRAINING_LOG = "training.jsonl"
MAX_TRAINING_LOG_BYTES = 1024 * 1024


def _hand_models_to_kernel(task: GradingTask, kernel_dir: Path) -> dict[str, str]:
    """Put the handed-in model files where the kernel's ``train_or_restore`` looks; the kernel's training settings."""
    from ..training import FOLDER_VARIABLE, LOG_VARIABLE, MODE_VARIABLE

    folder = kernel_dir / "work" / RECORD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in task.trained_models.items():
        (folder / Path(name).name).write_bytes(data)
    return {MODE_VARIABLE: task.training_mode, LOG_VARIABLE: str(kernel_dir / TRAINING_LOG), FOLDER_VARIABLE: str(folder)}


def read_training_log(kernel_dir: Path) -> list[TrainingNote]:
    """What ``train_or_restore`` reported from the kernel, one line per model (unreadable lines are skipped)."""
    path = kernel_dir / TRAINING_LOG
    if not path.is_file():
        return []
    notes = []
    with path.open("rb") as handle:
        text = handle.read(MAX_TRAINING_LOG_BYTES).decode("utf-8", "replace")
    for line in text.splitlines():
        try:
            notes.append(TrainingNote.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue
    return notes


def warm_up() -> None:
    """Import what :func:`grade_task` needs (nbgrader above all), so that a worker started early is ready."""
    import nbgrader.apps  # noqa: F401
    import nbgrader.converters  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401

    from . import integrity, preprocessors, scoring, static_scan  # noqa: F401


def grade_task(task: GradingTask) -> GradingResult:
    """Grade one submission in a private course folder: inspect, autograde, score once, then render the feedback."""
    from .nbgrader_setup import make_api

    start = time.perf_counter()
    result = GradingResult(host=socket.gethostname())
    root = _course_root(task)
    marks = delimiters(root)
    submitted, notes, findings = inspect_submission(task, marks)
    with tempfile.TemporaryDirectory(prefix="dlcourse-grade-") as tmp:
        course = _private_course(Path(tmp), task, submitted)
        kernel_dir = Path(tmp) / "kernel"
        api = make_api(_config(task, root, course, kernel_dir, marks))
        graded = autograde(api, task, course, kernel_dir, result)
        if graded is not None:
            score(task, course, kernel_dir, graded, notes, findings, result)
            render_feedback(api, task, course, graded, marks, result)
    result.seconds = time.perf_counter() - start
    return result


def _course_file(course: Path, step: str, task: GradingTask, suffix: str) -> Path:
    """Where nbgrader's ``step`` (autograded, feedback) puts this submission's notebook in the private course."""
    return course / step / task.student / task.assignment / f"{task.notebook_id}{suffix}"


def inspect_submission(task: GradingTask, marks: Delimiters):
    """Before anything runs: the submission (duplicate graded cells dropped), what was done to its read-only cells, the static scan."""
    from . import integrity
    from .static_scan import scan

    submitted = nbformat.reads(task.submission, as_version=4)
    source_nb = nbformat.reads(task.source, as_version=4)
    notes = integrity.test_cell_changes(submitted, source_nb, marks)
    findings = scan(submitted, source_nb, marks) if task.static_scan else []
    integrity.drop_duplicate_cells(submitted)
    return submitted, notes, findings


def autograde(api, task: GradingTask, course: Path, kernel_dir: Path, result: GradingResult):
    """nbgrader's Autograde in the sandbox; the autograded notebook, or ``None`` with ``result`` saying why it could not be made."""
    from .nbgrader_setup import grading_environment, result_error

    training_env = _hand_models_to_kernel(task, kernel_dir)
    with temporary_environment({**grading_environment(), **training_env}), gradebook_warnings_silenced():
        outcome = api.autograde(task.assignment, task.student, force=True)
    graded_path = _course_file(course, "autograded", task, ".ipynb")
    if os.environ.get("DLCOURSE_GRADING_DEBUG"):
        print(outcome.get("log"), outcome.get("error"))
    if not outcome["success"] or not graded_path.exists():
        result.status, result.message = Status.CRASHED, "nbgrader could not grade this notebook:\n" + result_error(outcome)
        return None
    return nbformat.read(graded_path, as_version=4)


def score(task: GradingTask, course: Path, kernel_dir: Path, graded, notes: list[str], findings, result: GradingResult) -> None:
    """Decide the final score once (:func:`.scoring.final_score`) and write it into the private gradebook, for the feedback."""
    from .nbgrader_setup import db_url
    from .preprocessors import read_events
    from .scoring import final_score, read_scores, record_scores

    result.training = read_training_log(kernel_dir)
    if task.keep_trained_models:
        result.trained_files = read_folder(kernel_dir / "work" / RECORD_DIR).files
    notes = notes + [
        f"for review: the submitted weights do not come from this code ({t.name}: {t.audit_detail})" for t in result.training if t.flagged
    ]
    events = read_events(graded)
    order = [grade_id(c) for c in graded.cells if is_grade(c)]
    cells = read_scores(db_url(course), task.assignment, task.notebook_id, task.student, order, failure_messages(graded))
    verdict = final_score(cells, events, findings, notes)
    record_scores(db_url(course), task.assignment, task.notebook_id, task.student, verdict.cells)
    result.status, result.message, result.cells = verdict.status, verdict.message, verdict.cells
    result.events, result.findings, result.notes = events, findings, notes
    result.autograded = nbformat.writes(graded)


def render_feedback(api, task: GradingTask, course: Path, graded, marks: Delimiters, result: GradingResult) -> None:
    """nbgrader's feedback from the private gradebook, hidden tests redacted unless the instructor shows them."""
    from .nbgrader_setup import result_error

    nbformat.write(graded if task.show_hidden_tests else _redacted(graded, marks), _course_file(course, "autograded", task, ".ipynb"))
    feedback = api.generate_feedback(task.assignment, task.student, force=True)
    html = _course_file(course, "feedback", task, ".html")
    if feedback["success"] and html.exists():
        result.feedback_html = html.read_text()
    else:
        result.message += ("; " if result.message else "") + "feedback could not be generated: " + result_error(feedback)

"""One submission, graded in isolation: the task that workers run (locally or on Dask).

:func:`grade_task` takes a :class:`.model.GradingTask` and returns a
:class:`.model.GradingResult` (plain, picklable data), so the same function
runs in a ``concurrent.futures`` process pool and on Dask distributed workers
on other machines (which need the same checkout and virtual environment).

It builds a private nbgrader course folder in a fresh temporary directory with
a private copy of a gradebook in which only the assignment is registered, and
then, in this order: runs nbgrader's full Autograde there (kernel sandboxed by
:mod:`.sandbox`, test cells guarded by :mod:`.integrity`); decides the final
score once (:func:`.scoring.final_score`) and writes it into the private
gradebook; renders the feedback from that gradebook. The coordinator records
the same result in the class gradebook, so the feedback a student reads and
every report agree.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import time
from pathlib import Path

import nbformat

from ..environment import temporary_environment
from ..training import RECORD_DIR
from .handed_in_models import read_folder
from .model import FailedTest, GradingResult, GradingTask, Status, TrainingNote
from .nbgrader_setup import gradebook_warnings_silenced


def strip_ansi(text: str) -> str:
    """Kernel tracebacks carry terminal colour codes; CSV files and Markdown tables must not."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def first_line(text: str, limit: int = 300) -> str:
    text = strip_ansi(text).strip()
    return (text.splitlines() or [""])[0][:limit]


def _course_root(task: GradingTask) -> Path:
    from ..course import find_course_root

    root = Path(task.course_root)
    return root if (root / "nbgrader_config.py").exists() else find_course_root()


def _config(task: GradingTask, root: Path, course: Path, kernel_dir: Path):
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from .nbgrader_setup import course_config, db_url
    from .preprocessors import SandboxExecute
    from .static_scan import protected_imports

    settings = task.settings
    source_nb = nbformat.reads(task.source, as_version=4)
    imports, _ = protected_imports(source_nb)
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
        SandboxExecute={
            "timeout": settings["cell_timeout"],
            "notebook_timeout": settings["notebook_timeout"],
            "max_output_chars": settings["max_output_chars"],
            "figure_dpi": settings["figure_dpi"],
            "max_figure_kb": settings["max_figure_kb"],
            "max_notebook_figures_kb": settings["max_notebook_figures_kb"],
            "guard_imports": imports,
            "integrity": task.integrity,
            "interrupt_on_timeout": True,
        },
        SandboxedKernelManager={"sandbox": {"workdir": str(kernel_dir), "settings": settings, "course_root": str(root)}},
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
        meta = cell.metadata.get("nbgrader", {})
        if not (meta.get("grade") and cell.cell_type == "code"):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                diagnosis = read_diagnosis(output.ename, strip_ansi(output.evalue))
                failed[meta.get("grade_id") or "?"] = FailedTest(first_line(f"{output.ename}: {output.evalue}"), diagnosis or "")
                break
            if output.output_type == "stream" and output.name == "stderr":
                failed[meta.get("grade_id") or "?"] = FailedTest("wrote to stderr (nbgrader gives such a cell 0): " + first_line(output.text))
                break
    return failed


def _redacted(graded):
    """A copy for feedback: hidden-test source replaced by a note, tracebacks through it cut to their last line."""
    from . import integrity

    copy = nbformat.from_dict(graded)
    for cell in copy.cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and integrity.HIDDEN_BEGIN in cell.source:
            cell.source = integrity.redact_hidden(cell.source)
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
    """Grade one submission in a private course folder: autograde, score once, then render the feedback."""
    from . import integrity
    from .nbgrader_setup import db_url, grading_environment, make_api, result_error
    from .preprocessors import read_events
    from .scoring import final_score, read_scores, record_scores
    from .static_scan import scan

    start = time.perf_counter()
    result = GradingResult(host=socket.gethostname())
    root = _course_root(task)
    submitted = nbformat.reads(task.submission, as_version=4)
    source_nb = nbformat.reads(task.source, as_version=4)
    notes = integrity.test_cell_changes(submitted, source_nb)
    findings = scan(submitted, source_nb) if task.static_scan else []
    integrity.drop_duplicate_cells(submitted)
    with tempfile.TemporaryDirectory(prefix="dlcourse-grade-") as tmp:
        course = _private_course(Path(tmp), task, submitted)
        private_db = db_url(course)
        kernel_dir = Path(tmp) / "kernel"
        api = make_api(_config(task, root, course, kernel_dir))
        training_env = _hand_models_to_kernel(task, kernel_dir)
        with temporary_environment({**grading_environment(), **training_env}), gradebook_warnings_silenced():
            outcome = api.autograde(task.assignment, task.student, force=True)
        graded_path = course / "autograded" / task.student / task.assignment / f"{task.notebook_id}.ipynb"
        if os.environ.get("DLCOURSE_GRADING_DEBUG"):
            print(outcome.get("log"), outcome.get("error"))
        if not outcome["success"] or not graded_path.exists():
            result.status, result.message = Status.CRASHED, "nbgrader could not grade this notebook:\n" + result_error(outcome)
            result.seconds = time.perf_counter() - start
            return result
        graded = nbformat.read(graded_path, as_version=4)
        result.training = read_training_log(kernel_dir)
        if task.keep_trained_models:
            result.trained_files = read_folder(kernel_dir / "work" / RECORD_DIR).files
        notes += [f"for review: the submitted weights do not come from this code ({t.name}: {t.audit_detail})" for t in result.training if t.flagged]
        events = read_events(graded)
        order = [c.metadata["nbgrader"]["grade_id"] for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade")]
        cells = read_scores(private_db, task.assignment, task.notebook_id, task.student, order, failure_messages(graded))
        verdict = final_score(cells, events, findings, notes)
        record_scores(private_db, task.assignment, task.notebook_id, task.student, verdict.cells)
        result.status, result.message, result.cells = verdict.status, verdict.message, verdict.cells
        result.events, result.findings, result.notes = events, findings, notes
        result.autograded = nbformat.writes(graded)
        nbformat.write(graded if task.show_hidden_tests else _redacted(graded), graded_path)
        feedback = api.generate_feedback(task.assignment, task.student, force=True)
        html = course / "feedback" / task.student / task.assignment / f"{task.notebook_id}.html"
        if feedback["success"] and html.exists():
            result.feedback_html = html.read_text()
        else:
            result.message += ("; " if result.message else "") + "feedback could not be generated: " + result_error(feedback)
    result.seconds = time.perf_counter() - start
    return result

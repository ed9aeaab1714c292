"""One submission, graded in isolation: the task that workers run (locally or on Dask).

:func:`grade_task` takes and returns plain data, so the same function runs in a
``concurrent.futures`` process pool and on Dask distributed workers on other
machines (which need the same checkout and virtual environment). It builds a
private nbgrader course folder in a fresh temporary directory with a private
copy of a gradebook in which only the assignment is registered, runs
nbgrader's full Autograde there (kernel sandboxed by :mod:`.sandbox`, test
cells guarded by :mod:`.integrity`), generates the feedback, and returns the
status, scores, failing tests, the autograded notebook and the feedback HTML.
Only the coordinator writes the class gradebook.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from pathlib import Path

import nbformat

from ..environment import temporary_environment
from .nbgrader_setup import gradebook_warnings_silenced

# statuses, most serious first: the submission gets the first that applies
STATUSES = ("invalid", "tampered", "out of memory", "crashed", "timed out", "graded")


def strip_ansi(text: str) -> str:
    """Kernel tracebacks carry terminal colour codes; CSV files and Markdown tables must not."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def first_line(text: str, limit: int = 300) -> str:
    text = strip_ansi(text).strip()
    return (text.splitlines() or [""])[0][:limit]


def _course_root(task: dict) -> Path:
    from ..course import find_course_root

    root = Path(task["course_root"])
    return root if (root / "nbgrader_config.py").exists() else find_course_root()


def _config(task: dict, root: Path, course: Path, kernel_dir: Path):
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from .integrity import protected_imports
    from .nbgrader_setup import course_config
    from .preprocessors import SandboxExecute

    settings = task["settings"]
    source_nb = nbformat.reads(task["source"], as_version=4)
    imports, _ = protected_imports(source_nb)
    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    return course_config(
        root,
        CourseDirectory={
            "root": str(course),
            "source_directory": "source",
            "release_directory": "release",
            "db_url": f"sqlite:///{course / 'gradebook.db'}",
        },
        Autograde={"autograde_preprocessors": [SandboxExecute if pp is Execute else pp for pp in defaults]},
        SandboxExecute={
            "timeout": settings["cell_timeout"],
            "notebook_timeout": settings["notebook_timeout"],
            "max_output_chars": settings["max_output_chars"],
            "guard_imports": imports,
            "integrity": task.get("integrity", True),
            "interrupt_on_timeout": True,
        },
        SandboxedKernelManager={"sandbox": {"workdir": str(kernel_dir), "settings": settings, "course_root": str(root)}},
    )


def _scores(db_url: str, aid: str, student: str) -> dict:
    from nbgrader.api import Gradebook

    with gradebook_warnings_silenced(), Gradebook(db_url) as gb:
        record = gb.find_submission(aid, student)
        grades = [g for nb in record.notebooks for g in nb.grades]
        auto = [g for g in grades if g.cell_type == "code"]  # written answers are graded by hand
        return {
            "score": record.score, "max_score": record.max_score,
            "auto_score": sum(g.auto_score or 0 for g in auto), "auto_max_score": sum(g.max_score for g in auto),
            "manual_pending": any(g.needs_manual_grade for g in grades),
        }


def classify(graded) -> tuple[str, list[str], list[tuple[str, str]]]:
    """Status, messages and failing tests read from an autograded notebook's outputs."""
    found: set[str] = set()
    notes: list[str] = []
    failed: list[tuple[str, str]] = []
    for cell in graded.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id") or "?"
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                ename, evalue = output.ename, str(output.evalue)
                if ename == "IntegrityError":
                    found.add("tampered")
                    notes.append(f"{grade_id}: {evalue}")
                elif ename == "MemoryError" or (ename == "KernelDied" and "not run" not in evalue and re.search(r"memory|SIGKILL|SIGSEGV|SIGABRT", evalue)):
                    found.add("out of memory" if ename == "MemoryError" or "memory" in evalue else "crashed")
                    notes.append(f"{grade_id}: {ename}: {first_line(evalue, 150)}")
                elif ename == "KernelDied" and "not run" not in evalue:
                    found.add("timed out" if "SIGXCPU" in evalue else "crashed")
                    notes.append(f"{grade_id}: {first_line(evalue, 150)}" + (" (CPU-time limit)" if "SIGXCPU" in evalue else ""))
                elif ename in ("CellTimeoutError", "NotebookTimeout") and "not run" not in evalue:
                    found.add("timed out")
                    notes.append(f"{grade_id}: {ename}: a cell ran past the time limit and was interrupted")
        if meta.get("grade") and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    failed.append((grade_id, first_line(f"{output.ename}: {output.evalue}")))
                    break
                if output.output_type == "stream" and output.name == "stderr":
                    failed.append((grade_id, "wrote to stderr (nbgrader gives such a cell 0): " + first_line(output.text)))
                    break
    status = next((s for s in STATUSES if s in found), "graded")
    return status, list(dict.fromkeys(notes)), failed


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


def grade_task(task: dict) -> dict:
    """Grade one submission in a private course folder; return plain data (see module docstring)."""
    from . import integrity
    from .nbgrader_setup import grading_environment, make_api, result_error

    start = time.perf_counter()
    student, aid, nb_id = task["student"], task["assignment"], task["notebook_id"]
    result = {"student": student, "assignment": aid, "host": socket.gethostname(), "autograded": None, "feedback_html": None}
    root = _course_root(task)
    submitted = nbformat.reads(task["submission"], as_version=4)
    source_nb = nbformat.reads(task["source"], as_version=4)
    notes = integrity.test_cell_changes(submitted, source_nb)
    findings = integrity.scan(submitted, source_nb) if task.get("static_scan", True) else []
    integrity.drop_duplicate_cells(submitted)
    with tempfile.TemporaryDirectory(prefix="dlcourse-grade-") as tmp:
        course, kernel_dir = Path(tmp) / "course", Path(tmp) / "kernel"
        (course / "source" / aid).mkdir(parents=True)
        (course / "submitted" / student / aid).mkdir(parents=True)
        (course / "gradebook.db").write_bytes(task["gradebook"])
        (course / "source" / aid / f"{nb_id}.ipynb").write_text(task["source"])
        nbformat.write(submitted, course / "submitted" / student / aid / f"{nb_id}.ipynb")
        api = make_api(_config(task, root, course, kernel_dir))
        with temporary_environment(grading_environment()), gradebook_warnings_silenced():
            outcome = api.autograde(aid, student, force=True)
        graded_path = course / "autograded" / student / aid / f"{nb_id}.ipynb"
        if os.environ.get("DLCOURSE_GRADING_DEBUG"):
            print(outcome.get("log"), outcome.get("error"))
        if not outcome["success"] or not graded_path.exists():
            result.update(status="crashed", message="nbgrader could not grade this notebook:\n" + result_error(outcome))
            result["seconds"] = time.perf_counter() - start
            return result
        graded = nbformat.read(graded_path, as_version=4)
        status, problems, failed = classify(graded)
        result.update(_scores(f"sqlite:///{course / 'gradebook.db'}", aid, student))
        if findings:
            status = "tampered"
            problems = [f"static scan: {f}" for f in findings] + problems
        result.update(status=status, failed_tests=failed, autograded=nbformat.writes(graded), static_findings=findings)
        if status == "tampered":
            problems.insert(0, "autograded points withheld (set to 0) for review")
        result["message"] = "; ".join(problems + notes)
        if not task.get("show_hidden_tests", False):
            nbformat.write(_redacted(graded), graded_path)
        fb = api.generate_feedback(aid, student, force=True)
        html = course / "feedback" / student / aid / f"{nb_id}.html"
        if fb["success"] and html.exists():
            result["feedback_html"] = html.read_text()
        else:
            result["message"] += ("; " if result["message"] else "") + "feedback could not be generated: " + result_error(fb)
    result["seconds"] = time.perf_counter() - start
    return result

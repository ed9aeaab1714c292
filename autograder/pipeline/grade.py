"""Grading a batch of submissions: a chain of small steps over each :class:`Submission`.

``read`` -> ``identify`` -> ``import`` -> ``autograde`` (nbgrader) -> ``scores``
-> ``feedback``. A step that finds a problem sets the submission's status and
message; later steps skip it, and the batch always goes on.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import nbformat

from . import intake
from .intake import Submission
from .nbgrader_setup import course_config, grading_environment, make_api, result_error
from .preprocessors import with_progress
from .release import PipelineError


@dataclass
class GradingContext:
    root: Path
    workdir: Path
    api: object
    source_notebooks: dict[tuple[str, str], set[str]]

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.workdir / 'gradebook.db'}"


Step = Callable[[Submission, GradingContext], None]


def step_read(sub: Submission, ctx: GradingContext) -> None:
    intake.read_notebook(sub)


def step_identify(sub: Submission, ctx: GradingContext) -> None:
    intake.identify_assignment(sub, ctx.source_notebooks)


def step_import(sub: Submission, ctx: GradingContext) -> None:
    target = ctx.workdir / "submitted" / sub.student / sub.assignment
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    nbformat.write(sub.nb, target / f"{sub.notebook_id}.ipynb")


def step_autograde(sub: Submission, ctx: GradingContext) -> None:
    result = ctx.api.autograde(sub.assignment, sub.student, force=True)
    if not result["success"]:
        sub.reject("crashed", "nbgrader could not grade this notebook:\n" + result_error(result))


def _autograded_notebook(sub: Submission, ctx: GradingContext) -> Path:
    return ctx.workdir / "autograded" / sub.student / sub.assignment / f"{sub.notebook_id}.ipynb"


def _first_line(text: str, limit: int = 300) -> str:
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", text).strip()
    return (text.splitlines() or [""])[0][:limit]


def step_scores(sub: Submission, ctx: GradingContext) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(ctx.db_url) as gb:
        record = gb.find_submission(sub.assignment, sub.student)
        grades = [grade for nb in record.notebooks for grade in nb.grades]
        sub.score, sub.max_score = record.score, record.max_score
        auto = [g for g in grades if g.cell_type == "code"]  # written answers are graded by hand
        sub.auto_score = sum(g.auto_score or 0 for g in auto)
        sub.auto_max_score = sum(g.max_score for g in auto)
        sub.manual_pending = any(g.needs_manual_grade for g in grades)
    graded = nbformat.read(_autograded_notebook(sub, ctx), as_version=4)
    timed_out = False
    for cell in graded.cells:
        meta = cell.metadata.get("nbgrader", {})
        for output in cell.get("outputs", []):
            if output.output_type == "error" and output.ename == "CellTimeoutError":
                timed_out = True
            if not meta.get("grade") or cell.cell_type != "code":
                continue
            if output.output_type == "error":
                sub.failed_tests.append((meta["grade_id"], _first_line(f"{output.ename}: {output.evalue}")))
                break
            if output.output_type == "stream" and output.name == "stderr":
                sub.failed_tests.append((meta["grade_id"], "wrote to stderr (nbgrader gives such a cell 0): " + _first_line(output.text)))
                break
    sub.status = "timed out" if timed_out else "graded"
    if timed_out:
        sub.message = "a cell ran past the time limit and was interrupted; the cells after it were graded as they ran"


def step_feedback(sub: Submission, ctx: GradingContext) -> None:
    result = ctx.api.generate_feedback(sub.assignment, sub.student, force=True)
    html = ctx.workdir / "feedback" / sub.student / sub.assignment / f"{sub.notebook_id}.html"
    if result["success"] and html.exists():
        sub.feedback = html
    else:
        sub.message = (sub.message + "; " if sub.message else "") + "feedback could not be generated: " + result_error(result)


REJECTED = frozenset({"invalid", "crashed"})
STEPS: tuple[Step, ...] = (step_read, step_identify, step_import, step_autograde, step_scores, step_feedback)


def run_steps(sub: Submission, ctx: GradingContext, steps: Iterable[Step] = STEPS) -> Submission:
    for step in steps:
        if sub.status in REJECTED:
            break
        try:
            step(sub, ctx)
        except Exception as exc:  # one bad notebook must never stop the batch
            sub.reject("crashed", f"{step.__name__.removeprefix('step_')} failed: {type(exc).__name__}: {exc}")
    return sub


def source_notebook_index(root: Path) -> dict[tuple[str, str], set[str]]:
    from ..course import assignment_ids

    index = {}
    for aid in assignment_ids(root):
        for path in sorted((root / "source_notebooks" / aid).glob("*.ipynb")):
            index[(aid, path.stem)] = intake.grade_ids(nbformat.read(path, as_version=4))
    return index


@contextmanager
def _environment(values: dict[str, str]):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def make_context(root: Path, workdir: Path) -> GradingContext:
    from nbgrader.converters import Autograde

    workdir.mkdir(parents=True, exist_ok=True)
    config = course_config(
        root,
        CourseDirectory={
            "root": str(workdir),
            "source_directory": str(root / "source_notebooks"),
            "release_directory": str(workdir / "release"),
            "db_url": f"sqlite:///{workdir / 'gradebook.db'}",
        },
        Autograde={"autograde_preprocessors": with_progress(Autograde, "autograde_preprocessors")},
    )
    return GradingContext(root, workdir, make_api(config), source_notebook_index(root))


def grade_batch(root: Path, submissions_dir: Path, workdir: Path, on_done: Callable[[Submission], None] | None = None) -> list[Submission]:
    """Grade every notebook under ``submissions_dir``; results and files go to ``workdir``."""
    ctx = make_context(root, workdir)
    with tempfile.TemporaryDirectory(prefix="dlcourse-intake-") as scratch:
        subs = intake.collect(submissions_dir, Path(scratch))
        if not subs:
            raise PipelineError(f"No notebooks found under {submissions_dir}. Expected <student>/<assignment>.ipynb, <student>.zip or an LMS zip.")
        for sub in subs:  # read and identify first, so we know which assignments to register
            run_steps(sub, ctx, (step_read, step_identify))
        for aid in sorted({s.assignment for s in subs if s.assignment}):
            result = ctx.api.generate_assignment(aid, force=True)
            if not result["success"]:
                raise PipelineError(f"nbgrader could not register {aid} in the gradebook:\n{result_error(result)}")
        seen: dict[tuple[str, str], Submission] = {}
        with _environment(grading_environment()):
            for sub in subs:
                if sub.status == "pending":
                    key = (sub.student, sub.assignment)
                    if key in seen:
                        sub.reject("invalid", f"duplicate: {sub.student} also submitted {seen[key].path.name} for {sub.assignment}; only that one was graded")
                    else:
                        seen[key] = sub
                        run_steps(sub, ctx, STEPS[2:])
                if on_done:
                    on_done(sub)
    return subs

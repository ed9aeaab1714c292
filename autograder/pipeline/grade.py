"""Grading a batch of submissions: a chain of small steps over each :class:`.intake.Submission`.

:data:`INTAKE` runs in the coordinator, one submission at a time: ``read`` ->
``identify`` -> ``deduplicate`` -> ``unchanged?`` (content hash). What is
still pending is then dispatched to workers (:func:`.workers.grade_task`, in
its own process, here or on a Dask cluster: :mod:`.executors`), which grade, score and render the
feedback; ``record`` stores each result as it arrives. Only the coordinator
writes the class gradebook (nbgrader's SQLite gradebook is not safe for
concurrent writers), the autograded notebooks and the feedback; it never
rescores. A step that finds a problem sets the submission's status and
message; later steps skip it, and the batch always goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..training import RECORD_DIR, Mode
from . import handed_in_models, intake
from .audit import DEFAULT_AUDIT_FRACTION, choose_audits
from .executors import Executor, interruptible, open_executor
from .intake import Submission
from .model import GradingResult, GradingTask, Status
from .nbgrader_setup import course_config, db_url, gradebook_warnings_silenced, make_api, result_error, write_formgrader_config
from .preprocessors import with_progress
from .sandbox import SandboxSettings, describe
from .scoring import with_hand_scores
from .workers import first_line, grade_task


class GradingSetupError(RuntimeError):
    """A batch that cannot start: no notebooks where they were looked for, or an assignment nbgrader cannot register."""


GRADER_VERSION = "4"  # part of the content hash: bump when grading changes so results are recomputed
STATE_FILE = "grading_state.json"


@dataclass
class GradingOptions:
    workers: int | None = None  # None: one per core
    scheduler: str | None = None  # Dask scheduler address, e.g. tcp://10.0.0.5:8786
    force: bool = False
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    integrity: bool = True
    static_scan: bool = True
    show_hidden_tests: bool = False
    audit_fraction: float = DEFAULT_AUDIT_FRACTION  # share of the submissions with weights trained again (at least one per assignment)
    audit_seed: int | None = None  # None: drawn, printed and kept in grading_state.json for reruns
    audit_students: tuple[str, ...] = ()  # always audited
    keep_trained_models: bool = False  # write the weights grading trained to <workdir>/trained_models/<student>/<assignment>/


@dataclass
class GradingContext:
    root: Path
    workdir: Path
    api: object
    source_notebooks: dict[tuple[str, str], set[str]]
    options: GradingOptions = field(default_factory=GradingOptions)
    templates: dict[str, bytes] = field(default_factory=dict)  # assignment -> empty gradebook for the workers
    state: dict = field(default_factory=dict)  # "<student>/<assignment>" -> {"hash", "result"} of earlier runs
    seen: dict[tuple[str, str], Submission] = field(default_factory=dict)  # (student, assignment) -> first one

    @property
    def db_url(self) -> str:
        return db_url(self.workdir)

    def source_path(self, sub: Submission) -> Path:
        return self.root / "source_notebooks" / sub.assignment / f"{sub.notebook_id}.ipynb"

    def output_path(self, kind: str, sub: Submission, suffix: str) -> Path:
        return self.workdir / kind / sub.student / sub.assignment / f"{sub.notebook_id}{suffix}"


Step = Callable[[Submission, GradingContext], None]


# ---------------------------------------------------------------- intake steps


def step_read(sub: Submission, ctx: GradingContext) -> None:
    intake.read_notebook(sub)


def step_identify(sub: Submission, ctx: GradingContext) -> None:
    intake.identify_assignment(sub, ctx.source_notebooks)


def step_deduplicate(sub: Submission, ctx: GradingContext) -> None:
    """Two notebooks for one assignment from one student: grade the first, say so for the other."""
    first = ctx.seen.setdefault((sub.student, sub.assignment), sub)
    if first is not sub:
        sub.reject(Status.INVALID, f"duplicate: {sub.student} also submitted {first.path.name} for {sub.assignment}; only that one was graded")


def content_hash(sub: Submission, ctx: GradingContext) -> str:
    settings = [ctx.options.sandbox.to_dict(), ctx.options.integrity, ctx.options.static_scan, ctx.options.show_hidden_tests, training_mode(sub, ctx)]
    digest = hashlib.sha256()
    for part in (sub.path.read_bytes(), ctx.source_path(sub).read_bytes(), GRADER_VERSION.encode(), json.dumps(settings, sort_keys=True).encode()):
        digest.update(hashlib.sha256(part).digest())
    for name, data in sorted(handed_in_models.read_folder(sub.trained_models).files.items()):
        digest.update(hashlib.sha256(name.encode() + b"\0" + data).digest())
    return digest.hexdigest()


def training_mode(sub: Submission, ctx: GradingContext) -> str:
    """How the kernel treats the handed-in weights: reuse them, train again to audit them, or always train."""
    if ctx.options.audit_fraction >= 1 or sub.audit:
        return Mode.AUDIT
    return Mode.REUSE


def step_unchanged(sub: Submission, ctx: GradingContext) -> None:
    """Skip a submission graded before from the same bytes (unless ``--force``): reuse its recorded result."""
    sub.content_hash = content_hash(sub, ctx)
    before = ctx.state.get(f"{sub.student}/{sub.assignment}")
    if ctx.options.force or not before or before.get("hash") != sub.content_hash:
        return
    sub.result = GradingResult.from_dict(before["result"])
    feedback = ctx.output_path("feedback", sub, ".html")
    sub.feedback = feedback if feedback.exists() else None
    sub.skipped = True


INTAKE: tuple[Step, ...] = (step_read, step_identify, step_deduplicate)
# After the audit sample is drawn (an audited submission is graded differently, so its hash differs).
RECHECK: tuple[Step, ...] = (step_unchanged,)


def run_steps(sub: Submission, ctx: GradingContext, steps: Iterable[Step] = INTAKE) -> Submission:
    for step in steps:
        if sub.status is not Status.PENDING or sub.skipped:
            break
        try:
            step(sub, ctx)
        except Exception as exc:  # one bad notebook must never stop the batch
            sub.reject(Status.CRASHED, f"{step.__name__.removeprefix('step_')} failed: {type(exc).__name__}: {exc}")
    return sub


# ---------------------------------------------------------------- dispatch and record


def make_task(sub: Submission, ctx: GradingContext) -> GradingTask:
    handed_in = handed_in_models.read_folder(sub.trained_models)
    return GradingTask(
        student=sub.student,
        assignment=sub.assignment,
        notebook_id=sub.notebook_id,
        submission=nbformat.writes(sub.nb),
        source=ctx.source_path(sub).read_text(),
        gradebook=ctx.templates[sub.assignment],
        course_root=str(ctx.root),
        sandbox=ctx.options.sandbox,
        integrity=ctx.options.integrity,
        static_scan=ctx.options.static_scan,
        show_hidden_tests=ctx.options.show_hidden_tests,
        trained_models=handed_in.files,
        training_mode=training_mode(sub, ctx),
        keep_trained_models=ctx.options.keep_trained_models,
    )


def _write_class_gradebook(sub: Submission, graded, ctx: GradingContext) -> None:
    """nbgrader's SaveAutoGrades creates the rows and comments; the scores are the worker's final ones."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import SaveAutoGrades

    from .scoring import record_scores

    with gradebook_warnings_silenced():
        with Gradebook(ctx.db_url) as gb:
            gb.update_or_create_student(sub.student)
            gb.update_or_create_submission(sub.assignment, sub.student)
        resources = {"nbgrader": {"db_url": ctx.db_url, "assignment": sub.assignment, "notebook": sub.notebook_id, "student": sub.student}}
        SaveAutoGrades().preprocess(graded, resources)
    record_scores(ctx.db_url, sub.assignment, sub.notebook_id, sub.student, sub.result.cells)


def step_record(sub: Submission, ctx: GradingContext, result: GradingResult) -> None:
    """Store a worker's result as it is: class gradebook, autograded notebook, feedback, rerun state."""
    sub.result = result
    if result.autograded:
        target = ctx.output_path("autograded", sub, ".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(result.autograded)
        _write_class_gradebook(sub, nbformat.reads(result.autograded, as_version=4), ctx)
    if result.trained_files:
        folder = ctx.workdir / RECORD_DIR / sub.student / sub.assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in result.trained_files.items():
            (folder / Path(name).name).write_bytes(data)
    if result.feedback_html:
        html = ctx.output_path("feedback", sub, ".html")
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(result.feedback_html)
        sub.feedback = html
    if sub.content_hash:
        ctx.state[f"{sub.student}/{sub.assignment}"] = {"hash": sub.content_hash, "result": result.to_dict(files=False)}
        _save_state(ctx)


def step_hand_scores(sub: Submission, ctx: GradingContext) -> None:
    """The written answers' points from the class gradebook, where the formgrader puts them, for every report."""
    if sub.result.cells and sub.assignment:
        sub.result.cells = with_hand_scores(ctx.db_url, sub.assignment, sub.notebook_id, sub.student, sub.result.cells)


def _save_state(ctx: GradingContext) -> None:
    path = ctx.workdir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(ctx.state, indent=1))
    os.replace(tmp, path)


def dispatch(subs: list[Submission], ctx: GradingContext, executor: Executor, on_done: Callable[[Submission], None] | None = None) -> None:
    """Grade ``subs`` on ``executor``; record each result as it arrives (one writer)."""
    futures = {}
    for sub in subs:
        try:
            futures[executor.submit(grade_task, make_task(sub, ctx))] = sub
        except Exception as exc:
            sub.reject(Status.CRASHED, f"could not start grading: {type(exc).__name__}: {exc}")
            on_done and on_done(sub)
    for future in executor.as_completed(list(futures)):
        sub = futures[future]
        try:
            step_record(sub, ctx, future.result())
        except Exception as exc:  # a worker that died, or a result we could not record
            sub.reject(Status.CRASHED, f"grading failed: {type(exc).__name__}: {first_line(str(exc))}")
        if on_done:
            on_done(sub)


# ---------------------------------------------------------------- set-up


def source_notebook_index(root: Path) -> dict[tuple[str, str], set[str]]:
    from ..course import assignment_ids

    index = {}
    for aid in assignment_ids(root):
        for path in sorted((root / "source_notebooks" / aid).glob("*.ipynb")):
            index[(aid, path.stem)] = intake.grade_ids(nbformat.read(path, as_version=4))
    return index


def make_context(root: Path, workdir: Path, options: GradingOptions | None = None) -> GradingContext:
    from nbgrader.converters import Autograde

    workdir.mkdir(parents=True, exist_ok=True)
    config = course_config(
        root,
        CourseDirectory={
            "root": str(workdir),
            "source_directory": str(root / "source_notebooks"),
            "release_directory": str(workdir / "release"),
            "db_url": db_url(workdir),
        },
        Autograde={"autograde_preprocessors": with_progress(Autograde, "autograde_preprocessors")},
    )
    state_path = workdir / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    return GradingContext(root, workdir, make_api(config), source_notebook_index(root), options or GradingOptions(), state=state)


def register_assignments(ctx: GradingContext, assignments: set[str]) -> None:
    """Register each assignment in the class gradebook, and build the empty gradebook the workers copy."""
    with tempfile.TemporaryDirectory(prefix="dlcourse-template-") as scratch:
        template = make_context(ctx.root, Path(scratch), ctx.options)
        for aid in sorted(assignments):
            for api, where in ((ctx.api, "the class gradebook"), (template.api, "a worker gradebook")):
                result = api.generate_assignment(aid, force=True)
                if not result["success"]:
                    raise GradingSetupError(
                        f"nbgrader could not register {aid} in {where}; `dlcourse release {aid}` shows what nbgrader finds wrong "
                        f"with its source notebook:\n{result_error(result)}"
                    )
        for aid in assignments:
            ctx.templates[aid] = (Path(scratch) / "gradebook.db").read_bytes()


# ---------------------------------------------------------------- the batch


def grade_batch(
    root: Path,
    submissions_dir: Path,
    workdir: Path,
    on_done: Callable[[Submission], None] | None = None,
    options: GradingOptions | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[Submission]:
    """Grade every notebook under ``submissions_dir``; results and files go to ``workdir``."""
    options = options or GradingOptions()
    describe(options.sandbox)  # fails early when bwrap is required and missing
    with tempfile.TemporaryDirectory(prefix="dlcourse-intake-") as scratch:
        subs = intake.collect(submissions_dir, Path(scratch))
        if not subs:
            raise GradingSetupError(
                f"No notebooks found under {submissions_dir}: put them there as <student>/<assignment>.ipynb or <student>.zip, "
                "or pass the LMS's zip of all submissions"
            )
        if on_start:
            on_start(len(subs))
        # The workers start first: their start-up (a process, nbgrader's imports) overlaps intake and registration.
        with interruptible(), open_executor(len(subs), options.workers, options.scheduler) as executor:
            ctx = make_context(root, workdir, options)
            write_formgrader_config(workdir, root)
            for sub in subs:
                run_steps(sub, ctx, INTAKE)
            seed = options.audit_seed if options.audit_seed is not None else ctx.state.get("audit_seed")
            plan = choose_audits(subs, options.audit_fraction, seed, options.audit_students)
            ctx.state["audit_seed"] = plan.seed
            plan.write(workdir)
            for sub in subs:
                run_steps(sub, ctx, RECHECK)
            todo = [s for s in subs if s.status is Status.PENDING and not s.skipped]
            for sub in subs:
                if sub not in todo and on_done:
                    on_done(sub)
            if todo:
                with gradebook_warnings_silenced():
                    register_assignments(ctx, {s.assignment for s in todo})
                    dispatch(todo, ctx, executor, on_done)
    for sub in subs:
        step_hand_scores(sub, ctx)
    return subs

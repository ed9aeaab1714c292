"""``dlcourse``: the course kit's command line.

Every command prints what it did and where the results are, and exits
non-zero with a message (not a traceback) when something needs fixing.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path

import typer

from .bench import RESULTS
from .course import CourseNotFoundError, find_course_root
from .pipeline.audit import DEFAULT_AUDIT_FRACTION
from .pipeline.gradescope import GradescopeSettings, Visibility
from .pipeline.sandbox import SandboxSettings

app = typer.Typer(
    help="Deep-learning course kit: data, releases, answer keys and autograding.\n\nExample: dlcourse demo",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _root() -> Path:
    try:
        return find_course_root()
    except CourseNotFoundError as exc:
        _fail(str(exc))


def _assignment_ids(root: Path) -> list[str]:
    """The registry's assignments (one folder each), or a clear exit when a folder is incomplete."""
    from .registry import AssignmentFolderError, assignments

    try:
        return [a.id for a in assignments(root)]
    except AssignmentFolderError as exc:
        _fail(str(exc))


def _select(root: Path, requested: list[str] | None) -> list[str]:
    known = _assignment_ids(root)
    if not requested:
        return known
    unknown = [a for a in requested if a not in known]
    if unknown:
        _fail(f"Unknown assignment(s) {', '.join(unknown)}. Known: {', '.join(known)}")
    return list(requested)


@app.command()
def data(
    name: list[str] | None = typer.Option(None, "--name", "-n", help="Data set(s) to check (default: all in datasets/manifest.json)."),
    copy: bool = typer.Option(True, help="Copy verified files into datasets/<name>/ so later loads need nothing else."),
) -> None:
    """Find, verify (SHA-256) and cache the course's data sets.

    Example: dlcourse data --name fashion_mnist
    """
    from .data.loaders import DataNotFoundError, copy_to_course_cache, locate
    from .data.manifest import load_manifest

    root = _root()
    specs = load_manifest(root)
    names = name or list(specs)
    missing = []
    for dataset in names:
        try:
            found = locate(dataset)
        except DataNotFoundError as exc:
            if name or specs[dataset].required:
                missing.append(dataset)
                typer.secho(f"✗ {dataset}: {exc}", fg=typer.colors.RED, err=True)
            else:
                typer.secho(
                    f"! {dataset} is optional ({specs[dataset].used_by}) and was not found; "
                    f"`dlcourse data --name {dataset}` lists where it looked and how to add it.",
                    fg=typer.colors.YELLOW,
                    err=True,
                )
            continue
        where = copy_to_course_cache(found, root) if copy else found.directory
        shapes = ", ".join(
            f"{k} {len(v.splitlines())} lines" if isinstance(v, str) else f"{k.split('-')[0]}-{k.split('-')[1]} {v.shape}"
            for k, v in found.arrays.items()
        )
        typer.echo(f"✓ {dataset}: verified in {found.directory}" + (f", cached in {where}" if where != found.directory else "") + f" [{shapes}]")
    if missing:
        _fail(f"{len(missing)} data set(s) missing: {', '.join(missing)}")


@app.command()
def release(assignments: list[str] | None = typer.Argument(None, help="Assignment ids (default: all).")) -> None:
    """Generate the student release in assignments/ and prove it leaks no solution or hidden test.

    Example: dlcourse release 01_logistic_regression
    """
    from .pipeline.leaks import LeakError
    from .pipeline.release import PipelineError, release_assignment

    root = _root()
    for aid in _select(root, assignments):
        try:
            out = release_assignment(root, aid)
        except (PipelineError, LeakError) as exc:
            _fail(str(exc))
        typer.echo(f"✓ released {aid} -> {out.relative_to(root)} (no solutions, no hidden tests)")


@app.command()
def solve(
    assignments: list[str] | None = typer.Argument(None, help="Assignment ids (default: all)."),
    execute: bool = typer.Option(False, help="Also run the answer key so it holds outputs and plots (minutes per assignment)."),
) -> None:
    """Generate the reference answer keys in solutions/.

    Example: dlcourse solve --execute 01_logistic_regression
    """
    from .pipeline.release import PipelineError, solve_assignment

    root = _root()
    for aid in _select(root, assignments):
        try:
            out = solve_assignment(root, aid, execute=execute)
        except PipelineError as exc:
            _fail(str(exc))
        typer.echo(f"✓ answer key for {aid} -> {out.relative_to(root)}")


def _grade_and_report(root: Path, submissions: Path, out: Path, options=None) -> list:
    from collections import Counter

    from tqdm.auto import tqdm

    from .pipeline.audit import PLAN_FILE, AuditPlan
    from .pipeline.grade import grade_batch
    from .pipeline.nbgrader_setup import db_url
    from .pipeline.release import PipelineError
    from .pipeline.report import summary_table, write_reports
    from .pipeline.sandbox import describe

    start = time.perf_counter()
    if options is not None:
        try:
            typer.echo(f"Isolation: {describe(options.sandbox)}")
        except RuntimeError as exc:
            _fail(str(exc))
    with tqdm(desc="grading", unit="submission", dynamic_ncols=True) as bar:

        def done(sub):
            bar.update(1)
            bar.set_postfix_str(f"{sub.student}/{sub.assignment}: {sub.status}{' (unchanged)' if sub.skipped else ''}")

        try:
            subs = grade_batch(root, submissions, out, on_done=done, options=options, on_start=lambda n: setattr(bar, "total", n))
        except (PipelineError, FileNotFoundError, ValueError, RuntimeError) as exc:
            _fail(str(exc))
        except KeyboardInterrupt as exc:
            bar.close()
            _fail(
                f"Grading interrupted ({exc or 'Ctrl-C'}); every submission graded so far is kept in {out}: run the same command again to grade the rest."
            )
    paths = write_reports(subs, out, db_url(out), root)
    typer.echo("\n" + summary_table(subs) + "\n")
    plan = out / PLAN_FILE
    if plan.exists():
        typer.echo(str(AuditPlan(**json.loads(plan.read_text()))))
        flagged = [s for s in subs if s.result.audit.startswith("for review")]
        for sub in flagged:
            typer.echo(f"  {sub.student}/{sub.assignment}: {sub.result.audit}")
    elapsed = time.perf_counter() - start
    counts = Counter(s.status for s in subs)
    skipped = sum(1 for s in subs if s.skipped)
    typer.echo(
        f"Graded {len(subs) - skipped} submission(s) in {elapsed:.0f} s ({skipped} unchanged since the last run, reused): "
        + ", ".join(f"{n} {status}" for status, n in counts.most_common())
    )
    for label, path in paths.items():
        typer.echo(f"  {label}: {path}")
    return subs


@app.command()
def grade(
    submissions: Path = typer.Argument(..., help="Folder of <student>/<assignment>.ipynb (or <student>.zip), or an LMS zip."),
    out: Path = typer.Option(Path("build/grading"), "--out", "-o", help="Work folder: gradebook, autograded notebooks, feedback, reports."),
    workers: int | None = typer.Option(
        None, "--workers", "-j", help="Submissions graded at once, each in its own process and kernel (default: one per core)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address (tcp://host:8786): grade on its workers instead of local processes."
    ),
    force: bool = typer.Option(False, "--force", help="Regrade every submission, even those unchanged since the last run."),
    sandbox: str = typer.Option(
        SandboxSettings.mode, "--sandbox", help="auto (bubblewrap if it works here), bwrap (required) or limits (resource limits only)."
    ),
    memory_mb: int = typer.Option(SandboxSettings.memory_mb, "--memory-mb", help="Memory limit per submission's kernel (RLIMIT_DATA)."),
    cpu_seconds: int = typer.Option(SandboxSettings.cpu_seconds, "--cpu-seconds", help="CPU-time limit per submission's kernel."),
    cell_timeout: int = typer.Option(SandboxSettings.cell_timeout, "--cell-timeout", help="Seconds per cell."),
    threads: int = typer.Option(
        SandboxSettings.threads,
        "--threads",
        help="Cap each kernel's TensorFlow/OpenMP/BLAS threads (0: every core; try cores / workers for large batches).",
    ),
    notebook_timeout: int = typer.Option(SandboxSettings.notebook_timeout, "--notebook-timeout", help="Seconds per notebook."),
    show_hidden_tests: bool = typer.Option(
        False, "--show-hidden-tests", help="Show hidden tests' source in the students' feedback (hidden by default)."
    ),
    audit_fraction: float = typer.Option(
        DEFAULT_AUDIT_FRACTION,
        "--audit-fraction",
        min=0.0,
        max=1.0,
        help="Share of the submissions with trained weights that are trained again and compared (at least one per assignment); 1 re-trains every submission.",
    ),
    audit_seed: int | None = typer.Option(None, "--audit-seed", help="Seed of the audit draw (default: drawn once, printed, kept for reruns)."),
    audit_student: list[str] = typer.Option([], "--audit", help="A student to audit whatever the draw (repeatable)."),
) -> None:
    """Autograde a batch of submissions in parallel, sandboxed; write the gradebook CSV, feedback, statistics and charts.

    Models handed in beside a notebook (its trained_models/ folder) are graded as trained, not trained again;
    a sample of them is re-trained to check that the weights come from the code (--audit-fraction).

    Example: dlcourse grade ~/Downloads/submissions.zip --out build/grading --workers 4 --audit alice
    """
    from .pipeline.grade import GradingOptions
    from .pipeline.sandbox import SandboxSettings

    if sandbox not in ("auto", "bwrap", "limits"):
        _fail("--sandbox must be auto, bwrap or limits")
    settings = SandboxSettings(
        mode=sandbox, memory_mb=memory_mb, cpu_seconds=cpu_seconds, cell_timeout=cell_timeout, notebook_timeout=notebook_timeout, threads=threads
    )
    options = GradingOptions(
        workers=workers,
        scheduler=scheduler,
        force=force,
        sandbox=settings,
        show_hidden_tests=show_hidden_tests,
        audit_fraction=audit_fraction,
        audit_seed=audit_seed,
        audit_students=tuple(audit_student),
    )
    root = _root()
    _grade_and_report(root, submissions.expanduser().resolve(), out.resolve(), options)


class ExportTarget(StrEnum):
    gradescope = "gradescope"  # an autograder zip for Gradescope's programming assignments


@app.command()
def export(
    target: ExportTarget = typer.Argument(..., help="Where to: gradescope (an autograder zip for Gradescope's programming assignments)."),
    assignment: str = typer.Argument(..., help="The assignment id, e.g. 01_logistic_regression."),
    out: Path | None = typer.Option(None, "--out", "-o", help="The zip to write (default: build/gradescope/<id>_autograder.zip)."),
    hidden_visibility: Visibility = typer.Option(
        Visibility(GradescopeSettings.hidden_visibility),
        "--hidden-visibility",
        help="When students see the results of test cells with hidden tests.",
    ),
    timeout_minutes: int | None = typer.Option(
        None,
        "--timeout-minutes",
        help="The timeout set in Gradescope's autograder settings (at most 40; default: the assignment.toml's [gradescope]).",
    ),
    memory_mb: int | None = typer.Option(
        None, "--memory-mb", help="Memory limit of the kernel, below the container's in Gradescope (default: the assignment.toml's [gradescope])."
    ),
    audit_fraction: float = typer.Option(
        GradescopeSettings.audit_fraction,
        "--audit-fraction",
        min=0.0,
        max=1.0,
        help="Chance that a submission with trained models is trained again to audit them.",
    ),
) -> None:
    """Export an assignment's autograder for Gradescope: setup.sh, run_autograder and the course files, in one zip.

    Example: dlcourse export gradescope 01_logistic_regression --out build/01_autograder.zip
    """
    from .pipeline.gradescope import build_zip

    if timeout_minutes is not None and not 1 <= timeout_minutes <= 40:
        _fail("--timeout-minutes must be between 1 and 40 (Gradescope's maximum)")
    root = _root()
    [aid] = _select(root, [assignment])
    path = (out or root / "build" / "gradescope" / f"{aid}_autograder.zip").resolve()
    try:
        build_zip(
            root,
            aid,
            path,
            hidden_visibility=hidden_visibility.value,
            timeout_minutes=timeout_minutes,
            memory_mb=memory_mb,
            audit_fraction=audit_fraction,
        )
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(f"✓ Gradescope autograder for {aid} -> {path} ({path.stat().st_size / 1e6:.1f} MB)")
    typer.echo(
        "  Upload it on the assignment's Configure Autograder page (Ubuntu 22.04 base image); students submit the zip of\n"
        "  `dlcourse handin` (their .ipynb and trained_models/), or the .ipynb alone (then the models are trained here).\n"
        f"  Set the autograder timeout to {timeout_minutes} min and enough memory in Gradescope's settings (see the README)."
    )


@app.command()
def validate(notebook: Path = typer.Argument(..., exists=True, dir_okay=False, help="Your completed notebook.")) -> None:
    """Run your notebook top to bottom and report every failing test (exit code 1 if any fails).

    The student kit's `dlcourse-validate` does the same without the course checkout.

    Example: dlcourse validate assignments/01_logistic_regression/01_logistic_regression.ipynb
    """
    from nbgrader.validator import Validator

    from .pipeline.nbgrader_setup import course_config
    from .pipeline.preprocessors import with_progress
    from .validate import find_problems, problem_lines, trained_models_lines, verdict

    config = course_config(_root())
    config.Validator.preprocessors = with_progress(Validator, "preprocessors")
    problems = find_problems(notebook, config)
    for problem in problems:
        heading, *rest = problem_lines(problem)
        typer.secho(heading, fg=typer.colors.RED)
        typer.echo("\n".join(rest))
    typer.echo("\n".join(trained_models_lines(notebook)))
    if problems:
        _fail(verdict(notebook, problems))
    typer.secho(verdict(notebook, problems), fg=typer.colors.GREEN)


@app.command()
def handin(
    notebook: Path = typer.Argument(..., exists=True, dir_okay=False, help="Your completed notebook."),
    out: Path | None = typer.Option(None, "--out", "-o", help="The zip to write (default: <notebook>.zip beside it)."),
) -> None:
    """Pack your notebook and the models it trained (its trained_models/ folder) into one zip to hand in.

    The student kit's `dlcourse-handin` does the same without the course checkout.

    Example: dlcourse handin assignments/04_cnn/04_cnn.ipynb
    """
    from .handin import HandinError, pack, summary
    from .validate import trained_models_lines

    try:
        target, files = pack(notebook, out)
    except HandinError as exc:
        _fail(str(exc))
    typer.echo("\n".join(trained_models_lines(notebook)))
    typer.secho(summary(target, notebook, files), fg=typer.colors.GREEN)


@app.command()
def bundle(
    assignments: list[str] | None = typer.Argument(None, help="Assignment ids (default: all)."),
    out: Path = typer.Option(Path("build/student_bundle"), "--out", "-o", help="The folder to write (replaced when it holds an earlier bundle)."),
) -> None:
    """Write the student bundle: the released notebooks, the student kit as a wheel, and a README saying what to run.

    It takes the notebooks in assignments/ as they are (run `dlcourse release` first), checks them again
    for leaks, and scans the whole bundle for solution lines, hidden tests, the example class's edits
    and answer keys before it is left in place.

    Example: dlcourse bundle --out build/student_bundle
    """
    from .pipeline.kit_wheel import KitWheelError
    from .pipeline.student_bundle import BundleError, write_bundle

    root = _root()
    ids = _select(root, assignments)
    target = out if out.is_absolute() else root / out
    try:
        written = write_bundle(root, target, ids)
    except (BundleError, KitWheelError) as exc:
        _fail(str(exc))
    typer.echo(f"✓ student bundle -> {written.folder}: {len(written.notebooks)} notebook(s), {written.wheel.name}, README.md")
    typer.echo(f"  What students run: {written.folder / 'README.md'} (no solutions, hidden tests, example class or answer keys)")


@app.command()
def demo(out: Path = typer.Option(Path("build/demo"), "--out", "-o", help="Where the example class and its grading go.")) -> None:
    """The whole pipeline on the bundled example class: data, release, answer keys, grading, reports.

    Example: dlcourse demo --out /tmp/demo
    """
    from .pipeline.examples import build_example_class

    root = _root()
    out = out.resolve()
    ids = _assignment_ids(root)
    typer.echo("== 1/4 data ==")
    data(name=None, copy=True)
    typer.echo(f"== 2/4 student releases and answer keys for {len(ids)} assignment(s) ==")
    release(ids)
    solve(ids, execute=False)
    typer.echo("== 3/4 the example class ==")
    submissions = out / "submissions"
    examples = build_example_class(root, ids, submissions)
    for ex in examples:
        typer.echo(f"  {ex.student:<8} {ex.assignment}: {ex.note}")
    typer.echo("== 4/4 grading (each notebook runs top to bottom; training cells take a while) ==")
    _grade_and_report(root, submissions, out / "grading")


@app.command()
def bench(
    assignments: list[str] | None = typer.Argument(None, help="Assignment ids (default: all)."),
    seeds: list[int] = typer.Option([0], "--seed", "-s", help="Seeds to run each notebook with (repeat the option)."),
    mnist: bool = typer.Option(True, help="Also run the same notebooks on MNIST when it is available."),
    grading: bool = typer.Option(True, help="Also time grading one submission of each assignment."),
    quick: bool = typer.Option(False, help="CI-sized: the first assignment only (unless named), one seed, no MNIST, no grading timing."),
    out: Path = typer.Option(RESULTS, "--out", "-o", help="Folder for results.json/.md and the plot."),
) -> None:
    """Run each answer key end to end and record accuracy, training time and wall times against published figures.

    Example: dlcourse bench --seed 0 --seed 1 --seed 2
    """
    from datetime import date

    from tqdm.auto import tqdm

    from .bench import report
    from .bench.runner import run_notebook, time_grading
    from .data.loaders import DataNotFoundError, locate
    from .runtime import device_report

    root = _root()
    ids = _assignment_ids(root)[:1] if quick and not assignments else _select(root, assignments)
    if quick:
        seeds, mnist, grading = seeds[:1], False, False
    datasets = ["fashion_mnist"]
    if mnist:
        try:
            locate("mnist")
            datasets.append("mnist")
        except DataNotFoundError:
            typer.secho("MNIST is not available here: running on Fashion-MNIST only.", fg=typer.colors.YELLOW)
    device = device_report()
    machine = {
        "device": device.device,
        "cpu": device.cpu,
        "cores": device.cores,
        "gpus": device.gpus,
        "tensorflow": device.tensorflow,
        "keras": device.keras,
        "date": date.today().isoformat(),
    }
    notebooks = {aid: next((root / "solutions" / aid).glob("*.ipynb")) for aid in ids}
    # MNIST runs swap the data set under the notebook; one that never loads Fashion-MNIST would only repeat itself
    plan = [
        (aid, dataset, seed)
        for aid in ids
        for dataset in datasets
        for seed in seeds
        if dataset == "fashion_mnist" or "load_fashion_mnist" in notebooks[aid].read_text()
    ]
    runs = []
    for aid, dataset, seed in tqdm(plan, desc="answer keys", unit="notebook"):
        notebook = notebooks[aid]
        runs.append(run_notebook(notebook, aid, seed=seed, dataset=dataset))
        if runs[-1].error:
            typer.secho(f"{aid} ({dataset}, seed {seed}) stopped with an error: {runs[-1].error}", fg=typer.colors.RED)
    timings = {aid: time_grading(root, aid) for aid in tqdm(ids, desc="grading", unit="assignment")} if grading else {}
    paths = report.write(out, machine, runs, timings, quick)
    typer.echo(paths["markdown"].read_text())
    for label, path in paths.items():
        typer.echo(f"  {label}: {path}")
    if any(run.error for run in runs):
        _fail("Some notebooks failed; see the table above.")


@app.command("bench-grading")
def bench_grading(
    assignment: str = typer.Argument("01_logistic_regression", help="The assignment whose example class is cycled."),
    submissions: int = typer.Option(16, "--submissions", "-n", help="How many submissions to generate (few leave a core idle at the end)."),
    workers: list[int] = typer.Option([1, 2], "--workers", "-w", help="Worker counts to time (repeat the option)."),
    nbgrader: bool = typer.Option(True, help="Also time plain sequential `nbgrader autograde`."),
    out: Path = typer.Option(RESULTS, "--out", "-o", help="Folder for grading_throughput.json/.md."),
) -> None:
    """Grade one generated batch with 1 and N workers and with plain nbgrader; record submissions per minute.

    Example: dlcourse bench-grading 01_logistic_regression -n 16 -w 1 -w 2
    """
    import json
    from datetime import date

    from .bench.throughput import markdown, measure
    from .runtime import device_report

    root = _root()
    [aid] = _select(root, [assignment])
    device = device_report()
    machine = {"cpu": device.cpu, "cores": device.cores, "date": date.today().isoformat()}
    record = measure(root, aid, submissions, workers, nbgrader, on_progress=lambda label: typer.echo(f"grading {submissions} submissions: {label} …"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "grading_throughput.json").write_text(json.dumps({"machine": machine, **record}, indent=1) + "\n")
    text = markdown(machine, record)
    (out / "grading_throughput.md").write_text(text)
    typer.echo(text)
    typer.echo(f"  json: {out / 'grading_throughput.json'}\n  markdown: {out / 'grading_throughput.md'}")
    if not record["scores_agree"]:
        _fail("The worker counts gave different scores; see the table above.")


@app.command()
def verdicts(
    assignments: list[str] | None = typer.Argument(None, help="Assignment ids (default: all; each folder holds its mutations.yaml)."),
    out: Path = typer.Option(RESULTS / "verdicts.md", "--out", "-o", help="Where the table goes."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print every case, not only the unexpected ones."),
) -> None:
    """Run the mutation suite (correct alternatives and planted mistakes) against the test cells; write the table.

    Example: dlcourse verdicts 02_backprop --out build/verdicts_02.md
    """
    from datetime import date

    from .runtime import device_report
    from .verdicts import MutationSuiteError, format_result, markdown, run_suite, suite_ids, summarize

    root = _root()
    ids = _select(root, assignments) if assignments else suite_ids(root)
    summaries = []
    for aid in ids:
        typer.echo(f"== {aid} ==")
        try:
            results = run_suite(aid, root=root)
        except MutationSuiteError as exc:
            _fail(str(exc))
        for r in results:
            if verbose or not r.ok:
                typer.echo(format_result(r))
        summaries.append(summarize(aid, results))
        s = summaries[-1]
        typer.echo(
            f"{s.functions} functions, {s.alternatives} correct alternatives, {s.mistakes} mistakes: "
            f"{len(s.false_failures)} false failures, {len(s.surviving_mistakes)} surviving mistakes"
        )
    device = device_report()
    machine = {"cpu": device.cpu, "cores": device.cores, "tensorflow": device.tensorflow, "date": date.today().isoformat()}
    out = out if out.is_absolute() else root / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(summaries, machine))
    typer.echo(f"  markdown: {out}")
    if any(s.false_failures or s.surviving_mistakes for s in summaries):
        _fail("Some test cells give the wrong verdict; see the cases above.")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

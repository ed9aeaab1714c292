"""Gradescope: export one assignment as a Gradescope autograder, and grade a submission inside it.

:func:`build_zip` writes the zip Gradescope's "Configure Autograder" page takes
(format: https://gradescope-autograders.readthedocs.io/en/latest/specs/). At its root:

* ``setup.sh``: run once, as root, when Gradescope builds the image (Ubuntu 22.04
  by default): installs Python 3.11 and bubblewrap with apt, then the project's
  pinned requirements that grading needs (``requirements.txt``: the part of ``requirements.lock``
  :func:`grading_requirements` selects, hashes checked) into ``/autograder/venv``.
* ``run_autograder``: run for every submission, with the student's files in
  ``/autograder/submission``; it runs :func:`main` (this module), which writes
  ``/autograder/results/results.json``.
* ``course/``: what grading needs from the course: ``nbgrader_config.py``, the
  assignment's source notebook (solutions and hidden tests: the zip is for
  instructors only), the ``autograder`` package, the data manifest and the
  Fashion-MNIST files, so grading never downloads anything.
* ``gradescope.json``: the export's settings, a :class:`GradescopeSettings` (visibility,
  audit chance, and the :class:`.sandbox.SandboxSettings` grading uses, limits included).

:func:`main` grades with :func:`.grade.grade_batch`, the same code as ``dlcourse
grade`` (intake checks, nbgrader's Autograde in the sandbox, integrity guards,
:func:`.scoring.final_score`), on a one-student batch, and turns the one
:class:`.model.GradingResult` into Gradescope's format with :func:`results_json`:
one test per autograded test cell (``name``, ``score``, ``max_score``,
``output``: the check's message, ``visibility``), the total ``score`` equal to the
result's score, and the status (timed out, tampered, ...) and integrity findings
in the ``output`` texts. Test cells holding hidden tests get the chosen hidden
visibility (``after_published`` by default), the others are ``visible``.

``AUTOGRADER_ROOT`` (default ``/autograder``) and ``AUTOGRADER_PYTHON`` (default
``$AUTOGRADER_ROOT/venv/bin/python``) let the same ``run_autograder`` run in a
folder laid out like ``/autograder`` (the tests do this).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path

from ..training import RECORD_DIR
from .handed_in_models import MAX_FILE_BYTES, is_model_file
from .model import GradingResult, Status
from .sandbox import SandboxSettings


class Visibility(StrEnum):
    """Gradescope's visibility settings for a test result."""

    after_published = "after_published"
    hidden = "hidden"
    visible = "visible"
    after_due_date = "after_due_date"


VISIBILITIES = tuple(v.value for v in Visibility)
SETTINGS_FILE = "gradescope.json"
COURSE_DIR = "course"
# run_autograder stops the notebook this long before Gradescope's own timeout, so results.json is always written
TIMEOUT_MARGIN_S = 90


class GradescopeSettingsError(ValueError):
    """An export option out of range, or a gradescope.json this version cannot read; the message says what to change."""


@dataclass(frozen=True)
class GradescopeSettings:
    """What ``dlcourse export gradescope`` decides and ``run_autograder`` reads back (``gradescope.json``).

    Its defaults are the export's defaults; the sandbox's come from :class:`.sandbox.SandboxSettings`, except the
    memory limit and the timeouts, which :meth:`for_export` sets from the assignment's Gradescope resources.
    """

    assignment: str
    timeout_minutes: int  # the timeout set in the assignment's Gradescope settings (at most 40; the export's default: assignment.toml)
    hidden_visibility: str = Visibility.after_published.value  # when students see the results of test cells with hidden tests
    audit_fraction: float = 0.0  # chance that a submission with trained models is trained again to audit them
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)

    def __post_init__(self):
        if self.hidden_visibility not in VISIBILITIES:
            raise GradescopeSettingsError(f"hidden visibility must be one of {', '.join(VISIBILITIES)}, not {self.hidden_visibility!r}")
        if not 1 <= self.timeout_minutes <= 40:
            raise GradescopeSettingsError(f"the timeout must be between 1 and 40 minutes (Gradescope's maximum), not {self.timeout_minutes}")

    @classmethod
    def for_export(cls, assignment: str, timeout_minutes: int, memory_mb: int, **options) -> GradescopeSettings:
        """Settings whose notebook stops :data:`TIMEOUT_MARGIN_S` before Gradescope's timeout, so a results.json is always written."""
        seconds = max(60, timeout_minutes * 60 - TIMEOUT_MARGIN_S)
        sandbox = SandboxSettings(memory_mb=memory_mb, notebook_timeout=seconds, cell_timeout=seconds)
        return cls(assignment, timeout_minutes, sandbox=sandbox, **options)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> GradescopeSettings:
        """Read ``gradescope.json``; a key this version does not know is refused rather than silently ignored."""
        data = json.loads(text)
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise GradescopeSettingsError(
                f"{SETTINGS_FILE}: unknown setting(s) {', '.join(unknown)}: export the autograder again with this version's "
                "`dlcourse export gradescope` and upload the new zip"
            )
        try:
            sandbox = SandboxSettings.from_dict(data.pop("sandbox", {}), where=f"{SETTINGS_FILE}, 'sandbox'")
        except ValueError as exc:
            raise GradescopeSettingsError(f"{exc}: export the autograder again and upload the new zip") from exc
        return cls(**data, sandbox=sandbox)


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04 base image).
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
if ! apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev; then
    apt-get install -y --no-install-recommends software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev
fi
# bubblewrap: the kernel's filesystem/network sandbox where the container allows namespaces
# (grading falls back to resource limits only where it does not; run_autograder's log says which)
apt-get install -y --no-install-recommends bubblewrap || true
python3.11 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
# requirements.txt: the part of the project's requirements.lock that grading needs (exact versions, hashes)
/autograder/venv/bin/python -m pip install --require-hashes -r /autograder/source/requirements.txt
# check the environment now rather than on the first submission
cd /autograder/source/course
PYTHONPATH=/autograder/source/course DLCOURSE_ROOT=/autograder/source/course DLCOURSE_OFFLINE=1 \\
    /autograder/venv/bin/python -c "import autograder.pipeline.gradescope, nbgrader, tensorflow, keras; print('ok')"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission (files in $AUTOGRADER_ROOT/submission);
# it writes $AUTOGRADER_ROOT/results/results.json with the same grading as `dlcourse grade`.
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PY="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
COURSE="$ROOT/source/course"
export DLCOURSE_ROOT="$COURSE" PYTHONPATH="$COURSE" DLCOURSE_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1
cd "$COURSE"
exec "$PY" -m autograder.pipeline.gradescope --root "$ROOT"
"""


# ---------------------------------------------------------------- export

# What grading needs from pyproject.toml: the core dependencies and the CPU TensorFlow (not jax, torch,
# dask or the dev tools, which the lock also pins: torch alone brings gigabytes of CUDA libraries).
GRADING_ROOTS = "keras numpy nbgrader nbclient nbconvert nbformat jupyter-client traitlets ipykernel sqlalchemy matplotlib jupyterlab typer tqdm pyyaml tensorflow-cpu"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0].strip()).lower()


def grading_requirements(lock_text: str, roots: str = GRADING_ROOTS) -> str:
    """The part of ``requirements.lock`` (uv's format: hashes and ``# via`` lines) that grading needs.

    A package is kept when it is a root or something kept needs it (its ``# via`` lines), so the
    result is closed under the lock's own dependency records and keeps their hashes.
    """
    blocks: dict[str, list[str]] = {}
    parents: dict[str, set[str]] = {}
    current = None
    in_via = False
    for line in lock_text.splitlines():
        start = re.match(r"^([A-Za-z0-9][A-Za-z0-9_.\-\[\]]*)==", line)
        if start:
            current, in_via = _norm(start.group(1)), False
            blocks[current], parents[current] = [line], set()
            continue
        if current is None:
            continue
        stripped = line.strip()
        if stripped.startswith("# via"):
            in_via = True
            rest = stripped.removeprefix("# via").strip()
            if rest:
                parents[current].add(rest)
        elif in_via and stripped.startswith("#   "):
            parents[current].add(stripped.removeprefix("#").strip())
        elif not stripped.startswith("#"):
            blocks[current].append(line)
    keep = {_norm(r) for r in roots.split()}
    missing = keep - set(blocks)
    if missing:
        raise ValueError(f"requirements.lock has no {', '.join(sorted(missing))}: run `make lock`")
    changed = True
    while changed:
        changed = False
        for name, via in parents.items():
            if name not in keep and any(_norm(p) in keep for p in via if "(" not in p):
                keep.add(name)
                changed = True
    header = "# The packages of requirements.lock that grading needs (written by `dlcourse export gradescope`).\n"
    return header + "\n".join("\n".join(blocks[name]) for name in blocks if name in keep) + "\n"


def _add_tree(bundle: zipfile.ZipFile, folder: Path, arcname: str, skip: tuple[str, ...] = ()) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc" and not set(skip) & set(path.relative_to(folder).parts):
            bundle.write(path, f"{arcname}/{path.relative_to(folder).as_posix()}")


def _add_script(bundle: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.external_attr = 0o100755 << 16  # executable, as Gradescope expects of run_autograder
    info.compress_type = zipfile.ZIP_DEFLATED
    bundle.writestr(info, text)


def bundled_datasets(root: Path, spec) -> list[str]:
    """The data sets the assignment loads that the course requires and `dlcourse data` has cached (MNIST is optional)."""
    from ..data.manifest import load_manifest

    manifest = load_manifest(root)
    return [name for name in spec.datasets if name in manifest and manifest[name].required and (root / "datasets" / name).is_dir()]


def build_zip(
    root: Path,
    assignment: str,
    out: Path,
    hidden_visibility: str = GradescopeSettings.hidden_visibility,
    timeout_minutes: int | None = None,
    memory_mb: int | None = None,
    audit_fraction: float = GradescopeSettings.audit_fraction,
) -> Path:
    """Write Gradescope's autograder zip for ``assignment`` to ``out``; returns ``out``.

    ``timeout_minutes`` is the timeout set in the assignment's Gradescope settings
    (at most 40): grading stops the notebook :data:`TIMEOUT_MARGIN_S`
    earlier so a results.json is always written. ``memory_mb`` caps the kernel's
    memory; keep it below the container's memory set in Gradescope. Both default to the
    ``[gradescope]`` table of the assignment's ``assignment.toml``. ``audit_fraction`` is the
    chance that a submission handed in with its trained models is trained again to audit them.
    """
    from ..registry import get_assignment  # the instructor's side only: the zip carries the notebook, not its folder

    spec = get_assignment(assignment, root)
    settings = GradescopeSettings.for_export(
        assignment,
        timeout_minutes or spec.gradescope.timeout_minutes,
        memory_mb or spec.gradescope.memory_mb,
        hidden_visibility=hidden_visibility,
        audit_fraction=audit_fraction,
    )
    lock = root / "requirements.lock"
    if not lock.exists():
        raise FileNotFoundError(f"{lock} is missing: run `make lock`")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        _add_script(bundle, "setup.sh", SETUP_SH)
        _add_script(bundle, "run_autograder", RUN_AUTOGRADER)
        bundle.writestr("requirements.txt", grading_requirements(lock.read_text()))
        bundle.writestr(SETTINGS_FILE, settings.to_json())
        bundle.write(root / "nbgrader_config.py", f"{COURSE_DIR}/nbgrader_config.py")
        # the notebook alone: the folder's other files (example class, mutations) quote answer-key lines
        bundle.write(spec.notebook, f"{COURSE_DIR}/source_notebooks/{assignment}/{spec.notebook.name}")
        _add_tree(bundle, root / "autograder", f"{COURSE_DIR}/autograder")
        bundle.write(root / "datasets" / "manifest.json", f"{COURSE_DIR}/datasets/manifest.json")
        for name in bundled_datasets(root, spec):
            _add_tree(bundle, root / "datasets" / name, f"{COURSE_DIR}/datasets/{name}")
    return out


# ---------------------------------------------------------------- results.json


def _hidden_cells(source_nb) -> set[str]:
    from .nbgrader_cells import delimiters, grade_id, has_hidden_tests, is_test_cell

    marks = delimiters()
    return {grade_id(c) for c in source_nb.cells if is_test_cell(c) and has_hidden_tests(c.source, marks)}


def _status_line(result: GradingResult) -> str:
    if result.status is Status.GRADED:
        return ""
    what = {
        Status.TIMED_OUT: "Grading ran out of time",
        Status.CRASHED: "Your notebook could not be graded to the end (its kernel stopped or grading failed)",
        Status.OUT_OF_MEMORY: "Your notebook ran out of memory",
        Status.TAMPERED: "Autograded points are withheld until your instructor has looked at your notebook",
        Status.INVALID: "This submission could not be graded",
    }.get(result.status, f"Status: {result.status}")
    return f"{what} (status: {result.status})."


def _friendly(failure: str) -> str:
    if failure.startswith("NotImplementedError"):
        return "Not answered yet: a function this test needs still raises NotImplementedError. Replace `raise NotImplementedError()` with your code."
    return failure


def results_json(result: GradingResult, source_nb=None, hidden_visibility: str = GradescopeSettings.hidden_visibility) -> dict:
    """Gradescope's results.json for one graded submission.

    The total is ``result.auto_score``: the autograded points of :func:`.scoring.final_score`'s cells
    (written answers have no points until a person grades them), so it is the sum of the tests' scores.
    """
    hidden = _hidden_cells(source_nb) if source_nb is not None else set()
    by_cell: dict[str, list[str]] = {}
    for event in result.events:
        by_cell.setdefault(event.cell, []).append(str(event))
    for finding in result.findings:
        by_cell.setdefault(finding.cell, []).append(f"flagged for review: {finding}")
    withheld = result.status is Status.TAMPERED
    tests = []
    for cell in result.cells:
        if not cell.autograded:
            continue
        passed = cell.points is not None and cell.points >= cell.max_points and not cell.failure
        lines = [_friendly(cell.failure)] if cell.failure else (["Passed."] if passed else [])
        if withheld:
            lines.append("Points withheld for review (see the note at the top).")
        lines += by_cell.get(cell.grade_id, [])
        tests.append(
            {
                "name": cell.grade_id,
                "score": float(cell.points or 0),
                "max_score": float(cell.max_points),
                "output": "\n".join(lines),
                "visibility": hidden_visibility if cell.grade_id in hidden else "visible",
            }
        )
    notes = [line for line in (_status_line(result), result.message) if line]
    manual = [c for c in result.cells if not c.autograded]
    if manual:
        points = sum(c.max_points for c in manual)
        notes.append(
            f"Written answers ({', '.join(c.grade_id for c in manual)}: {points:g} point(s)) are graded by hand by your instructor; "
            "they are not part of this score."
        )
    data = {
        "score": float(result.auto_score or 0),
        "output": "\n".join(notes),
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if result.seconds is not None:
        data["execution_time"] = round(result.seconds)
    return data


# ---------------------------------------------------------------- run_autograder


def _submission_models(folder: Path) -> list[Path]:
    """The trained models handed in: in trained_models/ (the zip of `dlcourse handin`, unpacked) or uploaded loose."""
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*"), key=lambda p: (RECORD_DIR not in p.parts, str(p))):
        if path.is_file() and not path.is_symlink() and is_model_file(path.name) and path.stat().st_size <= MAX_FILE_BYTES:
            found.setdefault(path.name, path)
    return list(found.values())


def grade_submission(autograder_root: Path) -> dict:
    """Grade ``<root>/submission`` with the same pipeline as ``dlcourse grade``; write and return results.json."""
    import nbformat

    from .grade import GradingOptions, grade_batch
    from .intake import notebooks_under
    from .sandbox import describe

    source = autograder_root / "source"
    settings = GradescopeSettings.from_json((source / SETTINGS_FILE).read_text())
    course = source / COURSE_DIR
    aid = settings.assignment
    [source_path, *_] = sorted((course / "source_notebooks" / aid).glob("*.ipynb"))
    results_dir = autograder_root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    print(f"Grading {aid}. Isolation: {describe(settings.sandbox)}", flush=True)

    found = notebooks_under(autograder_root / "submission")
    if not found:
        result = GradingResult(
            Status.INVALID, f"No notebook (.ipynb) was found in your submission: upload your {source_path.name} (the .ipynb file itself)."
        )
        return _write(results_dir, results_json(result))
    work = autograder_root / "work"
    shutil.rmtree(work, ignore_errors=True)
    inbox = work / "submissions" / "student"
    inbox.mkdir(parents=True)
    # intake grades the first notebook (by name) of an assignment and reports the others as duplicates:
    # the one named like the assignment's notebook comes first
    found.sort(key=lambda p: p.name != source_path.name)
    for i, path in enumerate(found):
        shutil.copy(path, inbox / f"{i:03d}_{path.name}")
    models = _submission_models(autograder_root / "submission")
    if models:
        (inbox / RECORD_DIR).mkdir()
        for path in models:
            shutil.copy(path, inbox / RECORD_DIR / path.name)
    # One submission per run: "at least one per assignment" would audit every one, so it is a coin toss here.
    audited = ("student",) if random.random() < settings.audit_fraction else ()
    options = GradingOptions(workers=1, sandbox=settings.sandbox, audit_fraction=0.0, audit_students=audited)
    subs = grade_batch(course, work / "submissions", work / "grading", options=options)
    graded = [s for s in subs if s.assignment == aid and s.status is not Status.INVALID]
    sub = graded[0] if graded else subs[0]
    result = sub.result
    others = [s for s in subs if s is not sub]
    if others:  # say what became of the other files (duplicates, other assignments)
        result.message = "; ".join([result.message] * bool(result.message) + [f"{s.path.name}: {s.message}" for s in others])
    data = results_json(result, nbformat.read(source_path, as_version=4), settings.hidden_visibility)
    print(f"{sub.path.name}: {result.status}, score {data['score']:g} / {sum(t['max_score'] for t in data['tests']):g}", flush=True)
    return _write(results_dir, data)


def _write(results_dir: Path, data: dict) -> dict:
    tmp = results_dir / "results.json.tmp"
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, results_dir / "results.json")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade the submission in a Gradescope /autograder folder; write results/results.json.")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")))
    args = parser.parse_args(argv)
    try:
        grade_submission(args.root)
    except Exception as exc:  # never leave Gradescope without a results.json
        import traceback

        traceback.print_exc()
        result = GradingResult(Status.CRASHED, f"The autograder itself failed ({type(exc).__name__}: {exc}); your instructor has been shown the log.")
        _write(args.root / "results", results_json(result))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

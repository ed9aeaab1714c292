"""Intake: find the notebooks in a submissions folder or LMS zip, and read them safely.

Accepted layouts (mixable):

* ``<student>/<assignment>.ipynb``  (what ``dlcourse demo`` writes)
* ``<student>/<assignment>/<notebook>.ipynb``  (nbgrader's ``submitted/`` layout)
* ``<student>.zip`` holding the notebook anywhere inside
* an LMS batch download (a folder or a ``.zip``) of files named
  ``<student>_<anything>_<assignment>.ipynb``  (Canvas, Moodle)

Beside a notebook, a ``trained_models/`` folder (what ``dlcourse handin``
packs) holds the weights the student trained: see :mod:`.handed_in_models`.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import handed_in_models
from .model import GradingResult, Status
from .nbgrader_cells import grade_id

_STUDENT_ID = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Submission:
    """One notebook handed in: where it came from, what intake learnt about it, and its :class:`.model.GradingResult`.

    The result is the only place a status or a score lives; the properties
    below read it, so reports never see two versions.
    """

    student: str
    path: Path
    assignment: str | None = None
    notebook_id: str | None = None
    nb: object = field(default=None, repr=False)
    content_hash: str | None = None
    skipped: bool = False  # unchanged since the last run: the recorded result is reused
    feedback: Path | None = None
    result: GradingResult = field(default_factory=GradingResult)
    audit: bool = False  # chosen to be trained again, and its submitted weights compared

    @property
    def trained_models(self) -> Path | None:
        """The ``trained_models/`` folder handed in beside the notebook, if any."""
        return handed_in_models.folder_beside(self.path)

    def reject(self, status: Status, message: str) -> None:
        self.result = GradingResult(status=status, message=message)

    @property
    def status(self) -> Status:
        return self.result.status

    @property
    def message(self) -> str:
        return self.result.message

    @property
    def score(self) -> float | None:
        return self.result.score

    @property
    def max_score(self) -> float | None:
        return self.result.max_score

    @property
    def auto_score(self) -> float | None:
        return self.result.auto_score

    @property
    def auto_max_score(self) -> float | None:
        return self.result.auto_max_score

    @property
    def manual_pending(self) -> bool:
        return self.result.manual_pending

    @property
    def failed_tests(self) -> list[tuple[str, str]]:
        return self.result.failed_tests

    @property
    def seconds(self) -> float | None:
        return self.result.seconds


def clean_student_id(raw: str) -> str:
    return _STUDENT_ID.sub("-", raw).strip("-.") or "unknown"


def notebooks_under(folder: Path) -> list[Path]:
    """Every notebook a student handed in under ``folder``: Jupyter's checkpoints and hidden files left out."""
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("."))


def _extract(archive: Path, scratch: Path) -> Path:
    target = scratch / archive.stem
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            name = Path(member.filename)
            if member.is_dir() or name.is_absolute() or ".." in name.parts or "__MACOSX" in name.parts:
                continue  # never let an archive write outside its folder
            if name.suffix == ".ipynb":
                out = target / name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(bundle.read(member))
            else:
                handed_in_models.extract_from_zip(bundle, member, target)
    return target


def collect(submissions: Path, scratch: Path) -> list[Submission]:
    """Every notebook in ``submissions`` (a folder or a zip) as a pending :class:`Submission`."""
    if not submissions.exists():
        raise FileNotFoundError(f"{submissions} does not exist: pass the folder (or .zip) holding the students' notebooks")
    if submissions.is_file():
        if submissions.suffix != ".zip":
            raise ValueError(f"{submissions} is a file but not a .zip: pass a folder of submissions or an LMS zip")
        submissions = _extract(submissions, scratch)
    found: list[Submission] = []
    for entry in sorted(submissions.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found += [Submission(clean_student_id(entry.name), nb) for nb in notebooks_under(entry)]
        elif entry.suffix == ".zip":
            found += [Submission(clean_student_id(entry.stem), nb) for nb in notebooks_under(_extract(entry, scratch))]
        elif entry.suffix == ".ipynb":
            # LMS naming: the student's name or login comes first.
            found.append(Submission(clean_student_id(entry.stem.split("_")[0]), entry))
    return found


def read_notebook(sub: Submission) -> None:
    """Parse, upgrade to nbformat 4 and validate; reject anything else as ``invalid``."""
    try:
        raw = sub.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return sub.reject(Status.INVALID, f"cannot read {sub.path.name}: {exc}")
    if not raw.strip():
        return sub.reject(Status.INVALID, f"{sub.path.name} is empty: the student submitted a blank file")
    try:
        json.loads(raw)
    except json.JSONDecodeError as exc:
        return sub.reject(
            Status.INVALID, f"{sub.path.name} is not a notebook (not JSON: {exc.msg} at line {exc.lineno}); ask for a re-upload of the .ipynb"
        )
    try:
        nb = nbformat.reads(raw, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several validation/reader types
        return sub.reject(Status.INVALID, f"{sub.path.name} is not a valid Jupyter notebook: {str(exc).splitlines()[0]}")
    sub.nb = nb


def grade_ids(nb) -> set[str]:
    return {grade_id(cell) for cell in nb.cells if grade_id(cell)}


def identify_assignment(sub: Submission, source_notebooks: dict[tuple[str, str], set[str]]) -> None:
    """Match the notebook to ``(assignment, notebook)`` by its cells' grade ids, checking the file name agrees."""
    ids = grade_ids(sub.nb)
    best, overlap = None, 0
    for key, expected in source_notebooks.items():
        shared = len(ids & expected)
        if shared > overlap:
            best, overlap = key, shared
    if best is None:
        return sub.reject(Status.INVALID, f"{sub.path.name} holds none of the graded cells of any assignment: wrong file?")
    assignment, notebook_id = best
    named = {a for a, n in source_notebooks if a in sub.path.stem or n in sub.path.stem or a in sub.path.parent.name}
    if named and assignment not in named:
        return sub.reject(
            Status.INVALID,
            f"{sub.path.name} is named for {', '.join(sorted(named))} but contains the notebook of {assignment}: wrong assignment submitted",
        )
    sub.assignment, sub.notebook_id = assignment, notebook_id

"""The course's assignments, each one folder of ``source_notebooks/``: what every command and test reads.

An assignment is its folder, as a PrairieLearn question is. Adding one is adding a folder with:

* ``<id>.ipynb``: the instructor notebook (nbgrader format: solutions and hidden tests);
* ``assignment.toml``: title, points, data sets, how heavy grading is, Gradescope resources,
  bench targets, the published figures the answer key is compared with, the ``benchmarks/`` file behind
  each figure the notebook's prose states, and why each threshold on a trained model holds;
* ``example_class.json``: the example class (see :mod:`autograder.pipeline.examples`);
* ``mutations.yaml``: correct alternatives and plausible mistakes of every graded function
  (see :mod:`autograder.verdicts`);
* ``hidden_draws.py``: how often the tests run each hidden test cell on new draws of its inputs, or why
  not (see :mod:`autograder.hidden_draws`).

No other file lists assignment ids: commands and tests iterate :func:`assignments`. A folder missing a
part, or whose ``assignment.toml`` disagrees with its notebook, raises :class:`AssignmentFolderError`
naming what is wrong. None of these files but the notebook reaches students: ``nbgrader_config.py``
tells nbgrader to leave :data:`NOT_RELEASED` out of the release.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .course import assignment_ids, find_course_root
from .pipeline.nbgrader_cells import grade_id

SPEC_FILE = "assignment.toml"
EXAMPLE_CLASS_FILE = "example_class.json"
MUTATIONS_FILE = "mutations.yaml"
HIDDEN_DRAWS_FILE = "hidden_draws.py"
INSTRUCTOR_FILES = (SPEC_FILE, EXAMPLE_CLASS_FILE, MUTATIONS_FILE, HIDDEN_DRAWS_FILE)
NOT_RELEASED = INSTRUCTOR_FILES  # nbgrader copies a source folder's other files into the release unless told not to
KNOWN_DATASETS = ("fashion_mnist", "mnist", "words")


class AssignmentFolderError(ValueError):
    """An assignment folder lacks a part or describes itself inconsistently; the message names the file to fix."""


@dataclass(frozen=True)
class BenchTarget:
    """What ``dlcourse bench`` requires of one answer-key model (medians over seeds, on Fashion-MNIST)."""

    model: str  # a fragment of the name the notebook's check_accuracy gives the model
    min_accuracy: float
    max_train_s: float | None = None  # training-cell seconds before scaling by the day's yardstick


@dataclass(frozen=True)
class PublishedRow:
    """A published test accuracy the answer key's model is compared with."""

    label: str
    accuracy: float
    model: str  # a fragment of the check_accuracy name of the model compared with the row


@dataclass(frozen=True)
class GradescopeResources:
    """What to set in the assignment's Gradescope settings; ``dlcourse export gradescope`` uses them as defaults."""

    timeout_minutes: int = 10
    memory_mb: int = 2048


@dataclass(frozen=True)
class Assignment:
    id: str
    folder: Path
    title: str
    points: int
    datasets: tuple[str, ...]
    light: bool  # grading one submission leaves a core idle, so two workers on one machine gain
    gradescope: GradescopeResources
    targets: tuple[BenchTarget, ...]
    published: dict[str, tuple[PublishedRow, ...]]  # data set -> rows
    # the figures the notebook's prose states, by the benchmarks/ file (relative to the course root) that holds them
    figures: dict[str, tuple[str, ...]]
    not_measurements: dict[str, str]  # a figure as written -> why it is no measurement (a hyperparameter, arithmetic)
    margins: dict[str, str]  # grade_id -> why its threshold on a trained model holds: the answer key over seeds

    @property
    def notebook(self) -> Path:
        return self.folder / f"{self.id}.ipynb"

    @property
    def example_class(self) -> Path:
        return self.folder / EXAMPLE_CLASS_FILE

    @property
    def mutations(self) -> Path:
        return self.folder / MUTATIONS_FILE

    @property
    def hidden_draws(self) -> Path:
        return self.folder / HIDDEN_DRAWS_FILE

    @property
    def trains(self) -> bool:
        """Whether the notebook trains a graded model (through ``train_or_restore``)."""
        return "train_or_restore(" in self.notebook.read_text()


def _parts(folder: Path) -> list[Path]:
    return [folder / f"{folder.name}.ipynb", *(folder / name for name in INSTRUCTOR_FILES)]


def notebook_points(path: Path) -> int:
    """The points of a notebook's graded cells and tasks, as nbgrader counts them."""
    import nbformat

    from .pipeline.nbgrader_cells import is_grade, is_task

    cells = nbformat.read(path, as_version=4).cells
    return int(sum(c.metadata["nbgrader"].get("points", 0) for c in cells if is_grade(c) or is_task(c)))


def checked_models(path: Path) -> list[str]:
    """The names the notebook gives its models in ``check_accuracy(..., name="...")`` calls."""
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    return [name for c in cells if c.cell_type == "code" for name in re.findall(r'check_accuracy\([^)]*name="([^"]+)"', c.source)]


def _check_against_notebook(assignment: Assignment, where: Path) -> None:
    counted = notebook_points(assignment.notebook)
    if counted != assignment.points:
        raise AssignmentFolderError(f"{where}: points = {assignment.points}, but {assignment.notebook.name}'s graded cells add up to {counted}")
    import nbformat

    grade_ids = {grade_id(c) for c in nbformat.read(assignment.notebook, as_version=4).cells}
    stray = sorted(set(assignment.margins) - grade_ids)
    if stray:
        raise AssignmentFolderError(f"{where}: [margins] names cells the notebook does not have: {', '.join(stray)}")
    # a target or published row whose model no check names would silently vanish from the bench's tables
    names = checked_models(assignment.notebook)
    fragments = [t.model for t in assignment.targets] + [r.model for rows in assignment.published.values() for r in rows]
    unknown = sorted({f for f in fragments if not any(f in name for name in names)})
    if unknown:
        raise AssignmentFolderError(f"{where}: model(s) {', '.join(map(repr, unknown))} match no check_accuracy name in the notebook {names}")


def _field(spec: dict, key: str, kind: type, where: Path):
    if key not in spec:
        raise AssignmentFolderError(f"{where}: missing key {key!r}")
    value = spec[key]
    if not isinstance(value, kind):
        raise AssignmentFolderError(f"{where}: {key!r} must be a {kind.__name__}, not {value!r}")
    return value


def load_assignment(folder: Path) -> Assignment:
    """Read one assignment folder, or raise :class:`AssignmentFolderError` naming the missing or wrong part."""
    folder = Path(folder)
    missing = [p.name for p in _parts(folder) if not p.is_file()]
    if missing:
        raise AssignmentFolderError(f"{folder} lacks {', '.join(missing)}: every assignment folder holds {', '.join(p.name for p in _parts(folder))}")
    where = folder / SPEC_FILE
    try:
        spec = tomllib.loads(where.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise AssignmentFolderError(f"{where} is not valid TOML: {exc}") from exc
    unknown = set(spec) - {"title", "points", "datasets", "light", "gradescope", "targets", "published", "figures", "not_measurements", "margins"}
    if unknown:
        raise AssignmentFolderError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    datasets = tuple(_field(spec, "datasets", list, where))
    strange = [d for d in datasets if d not in KNOWN_DATASETS]
    if strange:
        raise AssignmentFolderError(f"{where}: unknown data set(s) {', '.join(strange)}; known: {', '.join(KNOWN_DATASETS)}")
    try:
        gradescope = GradescopeResources(**spec.get("gradescope", {}))
        targets = tuple(BenchTarget(**t) for t in spec.get("targets", []))
        published = {data: tuple(PublishedRow(**row) for row in rows) for data, rows in spec.get("published", {}).items()}
    except TypeError as exc:
        raise AssignmentFolderError(f"{where}: {exc}") from exc
    assignment = Assignment(
        id=folder.name,
        folder=folder,
        title=_field(spec, "title", str, where),
        points=_field(spec, "points", int, where),
        datasets=datasets,
        light=_field(spec, "light", bool, where),
        gradescope=gradescope,
        targets=targets,
        published=published,
        figures={source: tuple(texts) for source, texts in spec.get("figures", {}).items()},
        not_measurements=dict(spec.get("not_measurements", {})),
        margins=dict(spec.get("margins", {})),
    )
    _check_against_notebook(assignment, where)
    return assignment


@functools.cache
def _load_all(root: Path, stamps: tuple) -> tuple[Assignment, ...]:
    return tuple(load_assignment(root / "source_notebooks" / aid) for aid in assignment_ids(root))


def assignments(root: Path | None = None) -> tuple[Assignment, ...]:
    """Every assignment of the course, in teaching order (the folder names sort that way)."""
    root = Path(root or find_course_root()).resolve()
    folders = [root / "source_notebooks" / aid for aid in assignment_ids(root)]
    # re-read when a folder's files change (tests build courses in temporary folders and edit them)
    stamps = tuple((p, p.stat().st_mtime_ns if p.exists() else None) for f in folders for p in _parts(f))
    return _load_all(root, stamps)


def get_assignment(assignment_id: str, root: Path | None = None) -> Assignment:
    """One assignment by id, or :class:`KeyError` listing the known ids."""
    found = {a.id: a for a in assignments(root)}
    if assignment_id not in found:
        raise KeyError(f"Unknown assignment {assignment_id!r}. Known: {', '.join(found)}")
    return found[assignment_id]

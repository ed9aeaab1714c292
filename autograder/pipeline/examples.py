"""Build the example class (answer key, untouched release, planted mistakes) from ``source_notebooks/<id>/example_class.json``.

The file describes the students that `dlcourse demo` grades and the end-to-end tests check:

- ``based_on``: ``solution`` (the answer key) or ``release`` (the untouched student notebook);
- ``edits``: text replacements applied to the cell with that ``grade_id``, to plant a realistic
  mistake (each ``old`` text must occur exactly once, so a stale edit fails loudly);
- ``unanswered``: answer cells (by ``grade_id``) left as the release's stub, as for a student who ran
  out of time; on the slow assignments this also keeps the example class from training the same
  large model twice;
- ``expect_failed``: the grade cells that must fail for this student, and no others;
- ``expect_message``: text the failure message of those tests must contain.

The file stays with the instructor: its planted edits quote answer-key lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..registry import get_assignment
from .nbgrader_cells import grade_id, is_solution


@dataclass
class ExampleStudent:
    student: str
    assignment: str
    based_on: str
    note: str
    edits: list[dict] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    expect_failed: list[str] | None = None
    expect_message: dict[str, str] = field(default_factory=dict)


def example_students(assignment: str, root: Path | None = None) -> list[ExampleStudent]:
    spec = json.loads(get_assignment(assignment, root).example_class.read_text())
    return [ExampleStudent(assignment=assignment, **entry) for entry in spec["students"]]


def apply_edits(nb, edits: list[dict], label: str):
    for edit in edits:
        cells = [c for c in nb.cells if grade_id(c) == edit["grade_id"]]
        if len(cells) != 1:
            raise ValueError(f"{label}: no single cell with grade_id {edit['grade_id']!r}")
        count = cells[0].source.count(edit["old"])
        if count != 1:
            raise ValueError(f"{label}: {edit['old']!r} occurs {count} times in cell {edit['grade_id']!r}; update the example")
        cells[0].source = cells[0].source.replace(edit["old"], edit["new"])
    return nb


def _notebook(root: Path, folder: str, assignment: str):
    notebooks = sorted((root / folder / assignment).glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"{root / folder / assignment} has no notebook: run `dlcourse release` and `dlcourse solve` first")
    return nbformat.read(notebooks[0], as_version=4)


def answered_release(root: Path, assignment: str, unanswered: list[str] = ()):
    """The student release with its answer cells filled in from the answer key.

    What a student who wrote the reference answers hands in: the release's own
    test cells (no hidden tests), so grading sees an honest, untampered notebook.
    The answer cells named in ``unanswered`` keep the release's stub, as for a
    student who ran out of time (its later cells then fail fast instead of training).
    """
    release = _notebook(root, "assignments", assignment)
    answers = {grade_id(c): c.source for c in _notebook(root, "solutions", assignment).cells if is_solution(c)}
    unknown = sorted(set(unanswered) - set(answers))
    if unknown:
        raise ValueError(f"{assignment}: no answer cell with grade_id {', '.join(map(repr, unknown))}; update the example")
    for cell in release.cells:
        if is_solution(cell) and grade_id(cell) not in unanswered:
            if grade_id(cell) not in answers:
                raise ValueError(f"{assignment}: the answer key has no cell {grade_id(cell)!r}; run `dlcourse release` and `dlcourse solve` again")
            cell.source = answers[grade_id(cell)]
    return release


def build_submission(root: Path, example: ExampleStudent, out_dir: Path) -> Path:
    if example.based_on not in ("solution", "release"):
        raise ValueError(f"{example.assignment}/{example.student}: based_on must be 'solution' or 'release', not {example.based_on!r}")
    if example.based_on == "solution":
        nb = answered_release(root, example.assignment, example.unanswered)
    else:
        if example.unanswered:
            raise ValueError(f"{example.assignment}/{example.student}: 'unanswered' only applies to based_on 'solution'")
        nb = _notebook(root, "assignments", example.assignment)
    apply_edits(nb, example.edits, f"{example.assignment}/{example.student}")
    target = out_dir / example.student / f"{example.assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def build_example_class(root: Path, assignments: list[str], out_dir: Path) -> list[ExampleStudent]:
    built = []
    for aid in assignments:
        for example in example_students(aid, root):
            build_submission(root, example, out_dir)
            built.append(example)
    return built

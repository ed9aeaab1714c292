"""What nbgrader says about a notebook cell: its kind, and where its marked regions are.

A cell's kind comes from nbgrader's own utilities (``nbgrader.utils.is_grade``,
``is_solution``, ``is_locked``, ``is_task``), so the grader classifies a cell
exactly as nbgrader's converters do. The region delimiters (``### BEGIN HIDDEN
TESTS`` ...) are nbgrader settings, with nbgrader's spelling:
``ClearSolutions.begin_solution_delimeter``, ``ClearHiddenTests.begin_test_delimeter``,
``ClearMarkScheme.begin_mark_scheme_delimeter`` and their ``end_`` twins.
:func:`delimiters` reads them from the course's ``nbgrader_config.py`` (nbgrader's
defaults where it sets none), and a line holding a delimiter opens or closes a
region, as in nbgrader's ``Clear*`` preprocessors.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nbgrader.utils import is_grade, is_locked, is_solution, is_task

__all__ = [
    "Delimiters",
    "delimiters",
    "grade_id",
    "has_hidden_tests",
    "is_grade",
    "is_locked",
    "is_solution",
    "is_task",
    "is_test_cell",
    "redact_hidden",
    "split_regions",
    "strip_hidden",
]

HIDDEN_NOTE = "# (hidden tests: not shown)"


def grade_id(cell) -> str | None:
    """The cell's nbgrader id (``None`` for a cell nbgrader does not track)."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or None


def is_test_cell(cell) -> bool:
    """A graded code cell: nbgrader scores it from its outputs (in this course, a test cell)."""
    return cell.cell_type == "code" and bool(is_grade(cell))


@dataclass(frozen=True)
class Delimiters:
    """The course's region delimiters (as nbgrader's preprocessors read them)."""

    begin_solution: str
    end_solution: str
    begin_hidden_tests: str
    end_hidden_tests: str
    begin_mark_scheme: str
    end_mark_scheme: str

    @property
    def hidden_tests(self) -> tuple[str, str]:
        return self.begin_hidden_tests, self.end_hidden_tests

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every kind of region: solutions, hidden tests, mark schemes."""
        return (self.begin_solution, self.end_solution), self.hidden_tests, (self.begin_mark_scheme, self.end_mark_scheme)

    @property
    def markers(self) -> tuple[str, ...]:
        return tuple(marker for pair in self.pairs for marker in pair)


def delimiters(root: Path | str | None = None) -> Delimiters:
    """The delimiters of the course at ``root`` (default: the course found from here; nbgrader's defaults outside one)."""
    from ..course import CourseNotFoundError, find_course_root

    if root is None:
        try:
            root = find_course_root()
        except CourseNotFoundError:
            return _read_delimiters(None)
    return _read_delimiters(str(Path(root).resolve()))


@functools.cache
def _read_delimiters(root: str | None) -> Delimiters:
    from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearSolutions
    from traitlets.config import Config

    from .nbgrader_setup import course_config

    config = course_config(Path(root)) if root and (Path(root) / "nbgrader_config.py").is_file() else Config()
    solutions, hidden, scheme = ClearSolutions(config=config), ClearHiddenTests(config=config), ClearMarkScheme(config=config)
    return Delimiters(
        solutions.begin_solution_delimeter,
        solutions.end_solution_delimeter,
        hidden.begin_test_delimeter,
        hidden.end_test_delimeter,
        scheme.begin_mark_scheme_delimeter,
        scheme.end_mark_scheme_delimeter,
    )


def _walk(source: str, pairs) -> Iterator[tuple[str, str]]:
    """Each line of ``source`` with where it is: ``"outside"``, ``"begin"``, ``"inside"`` or ``"end"``.

    Line by line as nbgrader does; an unclosed region runs to the end (so nothing in it is ever shown).
    """
    closing = None
    for line in source.split("\n"):
        if closing is None:
            opened = next((end for begin, end in pairs if begin in line), None)
            if opened is not None:
                closing = opened
                yield line, "begin"
            else:
                yield line, "outside"
        elif closing in line:
            closing = None
            yield line, "end"
        else:
            yield line, "inside"


def split_regions(source: str, pairs) -> tuple[list[str], list[str]]:
    """The lines outside every region delimited by one of ``pairs``, and the lines inside one (delimiter lines in neither)."""
    outside, inside = [], []
    for line, where in _walk(source, pairs):
        (outside if where == "outside" else inside if where == "inside" else []).append(line)
    return outside, inside


def has_hidden_tests(source: str, marks: Delimiters | None = None) -> bool:
    return (marks or delimiters()).begin_hidden_tests in source


def strip_hidden(source: str, marks: Delimiters | None = None) -> str:
    """``source`` without its hidden-test regions (what the student release shows)."""
    outside, _ = split_regions(source, [(marks or delimiters()).hidden_tests])
    return "\n".join(outside)


def redact_hidden(source: str, marks: Delimiters | None = None) -> str:
    """Each hidden-test region replaced with a one-line note (for feedback shown to students)."""
    lines = []
    for line, where in _walk(source, [(marks or delimiters()).hidden_tests]):
        if where == "outside":
            lines.append(line)
        elif where == "begin":
            lines.append(line[: len(line) - len(line.lstrip())] + HIDDEN_NOTE)
    return "\n".join(lines)

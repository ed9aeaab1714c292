"""Build nbgrader-format notebooks from Python, for instructors who write assignments in code.

Each helper returns one cell with the nbgrader metadata that the "Create
Assignment" toolbar would set; :func:`notebook` wraps cells with a Python 3
kernelspec. The source notebooks in ``source_notebooks/`` are the truth; a
script using these helpers is a convenient way to write one, not a second copy.
"""

from __future__ import annotations

from textwrap import dedent

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SCHEMA_VERSION = 3


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float = 0, task: bool = False) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION, "solution": solution, "task": task}
    if grade or task:
        meta["points"] = points
    return {"nbgrader": meta}


def _text(source: str) -> str:
    return dedent(source).strip("\n")


def md(source: str) -> nbformat.NotebookNode:
    """Plain markdown for the student to read (not locked)."""
    return new_markdown_cell(_text(source))


def code(source: str) -> nbformat.NotebookNode:
    """A plain code cell (demonstrations, plots); students may change it."""
    return new_code_cell(_text(source))


def locked_code(grade_id: str, source: str) -> nbformat.NotebookNode:
    """Read-only code the student must not change (setup, data loading)."""
    return new_code_cell(_text(source), metadata=_meta(grade_id, grade=False, solution=False, locked=True))


def solution(grade_id: str, source: str) -> nbformat.NotebookNode:
    """Code the student writes; mark the answer with ``### BEGIN SOLUTION`` / ``### END SOLUTION``."""
    return new_code_cell(_text(source), metadata=_meta(grade_id, grade=False, solution=True, locked=False))


def tests(grade_id: str, points: float, source: str) -> nbformat.NotebookNode:
    """An autograded, read-only test cell; hide checks between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``."""
    return new_code_cell(_text(source), metadata=_meta(grade_id, grade=True, solution=False, locked=True, points=points))


def written(grade_id: str, points: float, model_answer: str) -> nbformat.NotebookNode:
    """A manually graded written answer.

    The source holds the model answer (it appears in the answer key and helps
    graders); the student release replaces it with "YOUR ANSWER HERE".
    """
    return new_markdown_cell(_text(model_answer), metadata=_meta(grade_id, grade=True, solution=True, locked=False, points=points))


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11"}
    return nb


def total_points(nb) -> float:
    from nbgrader.utils import is_grade  # here, not at the top: building a notebook does not need nbgrader

    return sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells if is_grade(c))

"""A tiny synthetic course for the grading tests: real nbgrader notebooks, no TensorFlow, seconds to grade."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from autograder import authoring

ROOT = Path(__file__).resolve().parent.parent
AID = "toy"

SOLUTION = "def f(x):\n    ### BEGIN SOLUTION\n    return np.asarray(x) * 2.0\n    ### END SOLUTION"
STUB = "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"


def source_notebook():
    return authoring.notebook(
        [
            authoring.md("# Toy assignment"),
            authoring.locked_code("setup", "import numpy as np\nfrom autograder.checks import check_close"),
            authoring.solution("answer_f", SOLUTION),
            authoring.tests("test_f", 5, "check_close(f(np.arange(3.0)), np.array([0.0, 2.0, 4.0]))\nassert np.allclose(f(1.0), 2.0)"),
            authoring.tests(
                "test_f_hidden",
                5,
                "assert np.allclose(f(np.ones(4)), 2 * np.ones(4))\n### BEGIN HIDDEN TESTS\nassert np.allclose(f(-3.5), -7.0), 'SECRET_HIDDEN_CHECK'\n### END HIDDEN TESTS",
            ),
        ]
    )


def make_course(tmp: Path) -> Path:
    """A course root with one assignment ``toy`` (and ``toy2``, to submit the wrong one)."""
    root = tmp / "course"
    (root / "source_notebooks" / AID).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    nbformat.write(source_notebook(), root / "source_notebooks" / AID / f"{AID}.ipynb")
    other = authoring.notebook(
        [
            authoring.solution("other_answer", "### BEGIN SOLUTION\ny = 1\n### END SOLUTION"),
            authoring.tests("other_test", 10, "assert y == 1"),
        ]
    )
    (root / "source_notebooks" / "toy2").mkdir()
    nbformat.write(other, root / "source_notebooks" / "toy2" / "toy2.ipynb")
    (root / "solutions").mkdir()
    (root / "solutions" / "SECRET.txt").write_text("solution secret")
    return root


def released(solution_code: str | None = None, extra_cells: list | None = None, tweak=None):
    """The student release, with ``solution_code`` in the answer cell and ``extra_cells`` after it."""
    from autograder.pipeline.nbgrader_cells import strip_hidden

    nb = source_notebook()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = solution_code if solution_code is not None else STUB
        elif meta.get("grade"):
            cell.source = strip_hidden(cell.source).strip()
    if extra_cells:
        index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
        nb.cells[index + 1 : index + 1] = extra_cells
    if tweak:
        tweak(nb)
    return nb


def good_code() -> str:
    return "def f(x):\n    return np.asarray(x) * 2.0"


def write(subs: Path, student: str, nb_or_text, name: str = f"{AID}.ipynb") -> Path:
    path = subs / student / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb_or_text, (str, bytes)):
        path.write_bytes(nb_or_text if isinstance(nb_or_text, bytes) else nb_or_text.encode())
    else:
        nbformat.write(nb_or_text, path)
    return path

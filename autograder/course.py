"""Where the course lives on disk.

The course root is the folder holding ``nbgrader_config.py`` and
``source_notebooks/``. Notebooks run from ``assignments/<id>/`` or from a
grading work folder, so the root is found by walking up from the working
directory, with ``DLCOURSE_ROOT`` as an explicit override and the source
checkout this package was installed from as the last resort.
"""

from __future__ import annotations

import os
from pathlib import Path

MARKER = "nbgrader_config.py"


class CourseNotFoundError(FileNotFoundError):
    pass


def _is_root(path: Path) -> bool:
    return (path / MARKER).is_file() and (path / "source_notebooks").is_dir()


def find_course_root(start: str | os.PathLike | None = None) -> Path:
    """Return the course root, or raise :class:`CourseNotFoundError` saying where it looked."""
    looked: list[str] = []
    env = os.environ.get("DLCOURSE_ROOT")
    if env:
        path = Path(env).expanduser().resolve()
        if _is_root(path):
            return path
        looked.append(f"$DLCOURSE_ROOT={env}")
    here = Path(start or os.getcwd()).resolve()
    for path in (here, *here.parents):
        if _is_root(path):
            return path
    looked.append(f"{here} and its parents")
    checkout = Path(__file__).resolve().parent.parent
    if _is_root(checkout):
        return checkout
    looked.append(str(checkout))
    raise CourseNotFoundError(
        "Could not find the course folder (one holding nbgrader_config.py and source_notebooks/). "
        f"Looked in: {'; '.join(looked)}. Run the command from inside the course checkout "
        "or set DLCOURSE_ROOT to it."
    )


def assignment_ids(root: Path | None = None) -> list[str]:
    """Assignment ids in teaching order: the sub-folders of ``source_notebooks/``."""
    root = root or find_course_root()
    return sorted(
        p.name for p in (root / "source_notebooks").iterdir() if p.is_dir() and not p.name.startswith((".", "_")) and any(p.glob("*.ipynb"))
    )

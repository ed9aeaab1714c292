"""Check that a student release holds no solution code, no hidden test and no mark scheme.

The regions are the course's (:func:`.nbgrader_cells.delimiters`), so a course that
changes nbgrader's delimiters is checked for its own.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from .nbgrader_cells import Delimiters, delimiters, split_regions

MIN_LINE = 12  # shorter lines ("return out", "pass") are too generic to count as a leak


class LeakError(AssertionError):
    """The student release shows what only the source notebook may hold; the message lists each leak."""


def secret_lines(source_nb, marks: Delimiters | None = None) -> set[str]:
    """Lines that occur only inside solution / hidden-test / mark-scheme regions of the source notebook."""
    pairs = (marks or delimiters()).pairs
    inside: set[str] = set()
    outside: set[str] = set()
    for cell in source_nb.cells:
        out, secret = split_regions(cell.source, pairs)
        inside.update(line.strip() for line in secret)
        outside.update(line.strip() for line in out)
    return {line for line in inside - outside if len(line) >= MIN_LINE}


def find_leaks(source_path: Path, release_path: Path, marks: Delimiters | None = None) -> list[str]:
    """Human-readable leaks of ``source_path``'s secrets into ``release_path`` (empty when clean)."""
    marks = marks or delimiters()
    source = nbformat.read(source_path, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    secrets = secret_lines(source, marks)
    leaks = []
    for index, cell in enumerate(release.cells):
        for marker in marks.markers:
            if marker in cell.source:
                leaks.append(f"{release_path.name} cell {index}: marker '{marker}' left in the release")
        for line in cell.source.splitlines():
            if line.strip() in secrets:
                leaks.append(f"{release_path.name} cell {index}: solution/hidden line survived: {line.strip()[:80]!r}")
        if cell.cell_type == "code" and cell.get("outputs"):
            leaks.append(f"{release_path.name} cell {index}: has outputs (they could show solution results)")
    return leaks


def verify_release(source_dir: Path, release_dir: Path, marks: Delimiters | None = None) -> None:
    """Raise :class:`LeakError` listing every leak across an assignment's notebooks."""
    marks = marks or delimiters(source_dir.parent.parent)  # source_notebooks/<id>/ of the course being released
    leaks = []
    for source_path in sorted(source_dir.glob("*.ipynb")):
        release_path = release_dir / source_path.name
        if not release_path.exists():
            leaks.append(f"{release_path} is missing from the release")
            continue
        leaks += find_leaks(source_path, release_path, marks)
    if leaks:
        raise LeakError(
            "The student release is not clean (fix the source notebook's delimiters or cell metadata, then release again):\n  " + "\n  ".join(leaks)
        )

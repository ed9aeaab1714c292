"""Check that a student release holds no solution code and no hidden test."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME", "END MARK SCHEME")
_REGION = re.compile(
    r"^[ \t]*#*[ \t]*BEGIN (SOLUTION|HIDDEN TESTS|MARK SCHEME)[^\n]*\n(.*?)^[ \t]*#*[ \t]*END \1",
    re.MULTILINE | re.DOTALL,
)
MIN_LINE = 12  # shorter lines ("return out", "pass") are too generic to count as a leak


class LeakError(AssertionError):
    pass


def secret_lines(source_nb) -> set[str]:
    """Lines that occur only inside solution / hidden-test regions of the source notebook."""
    inside: set[str] = set()
    outside: set[str] = set()
    for cell in source_nb.cells:
        text = cell.source
        for match in _REGION.finditer(text):
            inside.update(line.strip() for line in match.group(2).splitlines())
        outside.update(line.strip() for line in _REGION.sub("", text).splitlines())
    return {line for line in inside - outside if len(line) >= MIN_LINE}


def find_leaks(source_path: Path, release_path: Path) -> list[str]:
    """Human-readable leaks of ``source_path``'s secrets into ``release_path`` (empty when clean)."""
    source = nbformat.read(source_path, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    secrets = secret_lines(source)
    leaks = []
    for index, cell in enumerate(release.cells):
        for marker in MARKERS:
            if marker in cell.source:
                leaks.append(f"{release_path.name} cell {index}: marker '{marker}' left in the release")
        for line in cell.source.splitlines():
            if line.strip() in secrets:
                leaks.append(f"{release_path.name} cell {index}: solution/hidden line survived: {line.strip()[:80]!r}")
        if cell.cell_type == "code" and cell.get("outputs"):
            leaks.append(f"{release_path.name} cell {index}: has outputs (they could show solution results)")
    return leaks


def verify_release(source_dir: Path, release_dir: Path) -> None:
    """Raise :class:`LeakError` listing every leak across an assignment's notebooks."""
    leaks = []
    for source_path in sorted(source_dir.glob("*.ipynb")):
        release_path = release_dir / source_path.name
        if not release_path.exists():
            leaks.append(f"{release_path} is missing from the release")
            continue
        leaks += find_leaks(source_path, release_path)
    if leaks:
        raise LeakError("The student release is not clean:\n  " + "\n  ".join(leaks))

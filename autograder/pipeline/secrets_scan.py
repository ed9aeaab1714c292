"""What must never reach a student or a graded kernel, and a scan of files for it.

The course's secrets are the solution, hidden-test and mark-scheme lines of
``source_notebooks/`` (:func:`.leaks.secret_lines`), the planted edits of the
example class (whose ``old`` texts quote the answer key), the mutation suite's
cases (alternative answers and mistakes) and the answer-key notebooks of
``solutions/`` themselves. :func:`scan` looks for them in files
and folders, including the members of a wheel or zip, so the student bundle
and the sandbox's mounts can be proved clean.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from .leaks import MIN_LINE, secret_lines
from .nbgrader_cells import delimiters

ARCHIVE_SUFFIXES = (".whl", ".zip")
# Lines of the kit's own code that an answer key or a mutation case happens to share: the centred
# differences of checks/gradient.py, the NumPy recurrences of checks/rnn.py, training's returned
# History, two common idioms. They are idioms, not answers; any other shared line is reported.
SHARED_WITH_THE_KIT = frozenset(
    {
        "old = flat[i]",
        "flat[i] = old + h",
        "flat[i] = old - h",
        "flat[i] = old",
        "hs.append(h)",
        "return history",
        "x = np.asarray(x)",
    }
)
# An import names a library, not an answer: `import itertools` in a mutation case and in the kit is no leak.
_IMPORT = re.compile(r"^(?:import [\w.]+(?: as \w+)?(?:, [\w.]+(?: as \w+)?)*|from [\w.]+ import [\w, ()*]+)$")
_BINARY_PROBE = 8192  # bytes read to tell a binary file (a NUL among them) from text


@dataclass
class CourseSecrets:
    lines: set[str] = field(default_factory=set)  # solution / hidden-test / mark-scheme lines, stripped
    planted: set[str] = field(default_factory=set)  # lines of the example class's edits, stripped
    mutations: set[str] = field(default_factory=set)  # lines of the mutation suite's cases (correct answers and mistakes)
    answer_keys: dict[str, str] = field(default_factory=dict)  # SHA-256 of each answer-key notebook -> its path
    markers: tuple[str, ...] = field(default_factory=lambda: delimiters().markers)  # the course's nbgrader region delimiters


def example_class_files(root: Path) -> list[Path]:
    """The example class's specifications, wherever the course keeps them."""
    return sorted((root / "autograder" / "examples").glob("*.json")) + sorted((root / "source_notebooks").glob("*/example_class.json"))


def _edit_lines(spec: dict) -> set[str]:
    lines = set()
    for student in spec.get("students", []):
        for edit in student.get("edits", []):
            for text in (edit.get("old", ""), edit.get("new", "")):
                lines.update(line.strip() for line in text.splitlines())
    return lines


def mutation_files(root: Path) -> list[Path]:
    """The mutation suites (alternative answers and planted mistakes), wherever the course keeps them."""
    return sorted((root / "tests" / "mutations").glob("*.yaml")) + sorted((root / "source_notebooks").glob("*/mutations.yaml"))


def _case_lines(spec: dict) -> set[str]:
    """Lines of every case's code (not its expected message, which the checks themselves print)."""
    lines = set()
    for function in (spec or {}).get("functions", {}).values():
        for group in ("correct", "mistakes"):
            for body in (function.get(group) or {}).values():
                code = body if isinstance(body, str) else (body or {}).get("code", "")
                lines.update(line.strip() for line in code.splitlines())
    return lines


def _notebook_lines(paths: Iterable[Path]) -> set[str]:
    lines = set()
    for path in paths:
        for cell in nbformat.read(path, as_version=4).cells:
            lines.update(line.strip() for line in cell.source.splitlines())
    return lines


def course_secrets(root: Path) -> CourseSecrets:
    marks = delimiters(root)
    secrets = CourseSecrets(markers=marks.markers)
    # A line the student release shows anywhere (one notebook's answer may be another's given code,
    # an edit may keep a signature) gives nothing away.
    public = _notebook_lines(sorted((root / "assignments").glob("*/*.ipynb"))) | SHARED_WITH_THE_KIT
    for path in sorted((root / "source_notebooks").glob("*/*.ipynb")):
        secrets.lines |= {line for line in secret_lines(nbformat.read(path, as_version=4), marks) - public if not _IMPORT.match(line)}
    planted = set()
    for path in example_class_files(root):
        planted |= _edit_lines(json.loads(path.read_text()))
    secrets.planted = {line for line in planted if len(line) >= MIN_LINE and line not in public and not _IMPORT.match(line)}
    cases = set()
    for path in mutation_files(root):
        cases |= _case_lines(yaml.safe_load(path.read_text()))
    secrets.mutations = (
        {line for line in cases if len(line) >= MIN_LINE and line not in public and not _IMPORT.match(line)} - secrets.lines - secrets.planted
    )
    for path in sorted((root / "solutions").glob("*/*.ipynb")):
        secrets.answer_keys[hashlib.sha256(path.read_bytes()).hexdigest()] = str(path.relative_to(root))
    return secrets


def _texts(path: Path) -> Iterator[tuple[str, bytes]]:
    """``(label, content)`` of ``path``, or of each member when it is a wheel or zip."""
    data = path.read_bytes()
    if path.suffix in ARCHIVE_SUFFIXES and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith("/"):
                    yield f"{path}!{member}", archive.read(member)
    else:
        yield str(path), data


def _lines(label: str, content: bytes) -> list[str] | None:
    """The stripped lines a reader would see (a notebook's cell sources and outputs' text); ``None`` for binary data."""
    if b"\0" in content[:_BINARY_PROBE]:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    parts = [text]
    try:
        if label.endswith(".ipynb"):
            nb = nbformat.reads(text, as_version=4)
            parts = [cell.source for cell in nb.cells]
            parts += [str(output.get("text", "")) for cell in nb.cells for output in cell.get("outputs", [])]
        elif label.endswith(".json"):
            parts += list(_strings(json.loads(text)))  # the lines as written, unescaped
        elif label.endswith((".yaml", ".yml")):
            parts += list(_strings(yaml.safe_load(text)))
    except Exception:  # not what its name says: the raw text is still scanned
        pass
    return [line.strip() for part in parts for line in part.splitlines()]


def _strings(value) -> Iterator[str]:
    """Every string in parsed JSON or YAML, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def scan_file(path: Path, secrets: CourseSecrets) -> list[str]:
    """Every secret found in one file (or archive), one human-readable line each."""
    found = []
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest in secrets.answer_keys:
        found.append(f"{path}: a copy of the answer key {secrets.answer_keys[digest]}")
    for label, content in _texts(path):
        if hashlib.sha256(content).hexdigest() in secrets.answer_keys:
            found.append(f"{label}: a copy of the answer key {secrets.answer_keys[hashlib.sha256(content).hexdigest()]}")
        lines = _lines(label, content)
        if lines is None:
            continue
        for line in dict.fromkeys(lines):
            if line in secrets.lines:
                found.append(f"{label}: solution or hidden-test line {line[:80]!r}")
            elif line in secrets.planted:
                found.append(f"{label}: a planted edit of the example class {line[:80]!r}")
            elif line in secrets.mutations:
                found.append(f"{label}: a case of the mutation suite {line[:80]!r}")
            elif any(marker in line for marker in secrets.markers) and label.endswith(".ipynb"):
                found.append(f"{label}: nbgrader region marker {line[:80]!r}")
    return found


def files_under(paths: Iterable[Path]) -> list[Path]:
    """Every regular file of ``paths`` (files, or folders walked; bytecode caches left out)."""
    files = []
    for path in paths:
        path = Path(path)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def scan(paths: Iterable[Path], secrets: CourseSecrets) -> list[str]:
    """Every secret in the files and folders ``paths``; empty when they are clean."""
    return [finding for path in files_under(paths) for finding in scan_file(path, secrets)]

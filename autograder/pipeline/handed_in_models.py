"""The ``trained_models/`` folder a student hands in beside a notebook: found, capped, carried as bytes.

Nothing here opens a weights file: the coordinator only reads names and
bytes, and the kernel, inside the sandbox, is the one that loads them
(``autograder.training`` checks each file again before Keras reads it).
Files whose names are not ``<name>.weights.h5`` or ``<name>.json`` are left
behind, and so is a folder past the caps; grading then trains, as without it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# The naming rule and the cap of one file are the student kit's: intake accepts exactly what `handin` packs.
from ..handin import MAX_FILE_BYTES, is_model_file
from ..training import RECORD_DIR

MAX_FOLDER_BYTES = 256 * 1024 * 1024
MAX_FILES = 200


@dataclass
class HandedIn:
    """The files taken from a ``trained_models/`` folder, and what was left out and why."""

    files: dict[str, bytes] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)


def read_folder(folder: Path | None) -> HandedIn:
    """The model files in ``folder`` (``None`` or missing: nothing), within the caps."""
    found = HandedIn()
    if folder is None or not folder.is_dir():
        return found
    total = 0
    for path in sorted(folder.iterdir()):
        if path.is_symlink() or not path.is_file() or not is_model_file(path.name):
            if not path.name.startswith("."):
                found.left_out.append(f"{path.name} (not <name>.weights.h5 or <name>.json)")
            continue
        size = path.stat().st_size
        if size > MAX_FILE_BYTES or total + size > MAX_FOLDER_BYTES or len(found.files) >= MAX_FILES:
            found.left_out.append(
                f"{path.name} ({size / 2**20:.1f} MB: over the caps of {MAX_FILE_BYTES >> 20} MB a file, {MAX_FOLDER_BYTES >> 20} MB a folder)"
            )
            continue
        found.files[path.name] = path.read_bytes()
        total += size
    return found


def folder_beside(notebook: Path) -> Path | None:
    folder = notebook.parent / RECORD_DIR
    return folder if folder.is_dir() else None


def extract_from_zip(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path) -> bool:
    """Write one ``trained_models/<file>`` member of a student's zip under ``target``; ``False`` when it is not one or too large."""
    name = Path(member.filename)
    if len(name.parts) < 2 or name.parts[-2] != RECORD_DIR or not is_model_file(name.name):
        return False
    if member.file_size > MAX_FILE_BYTES:  # the size the archive declares; the read below is capped as well
        return False
    with bundle.open(member) as source:
        data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return False
    out = target / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return True

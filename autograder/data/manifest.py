"""The data manifest (``datasets/manifest.json``): what each data set is and its digests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..course import CourseNotFoundError, find_course_root


@dataclass(frozen=True)
class FileSpec:
    name: str  # file name without ``.gz``
    bytes: int
    sha256: str  # of the decompressed content


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    keras_subdir: str
    download_url: str
    system_dirs: tuple[str, ...]
    install_hint: str
    class_names: tuple[str, ...]
    files: tuple[FileSpec, ...]
    required: bool = True  # an optional set (MNIST) only warns when it is missing
    used_by: str = ""
    format: str = "idx"  # "idx" (arrays in the IDX format) or "text" (UTF-8 text, read as a string)


# The student kit's wheel carries a copy of the manifest here: a student has no course checkout.
PACKAGED_MANIFEST = Path(__file__).resolve().parent / "manifest.json"


def manifest_path(root: Path | None = None) -> Path:
    """``datasets/manifest.json`` of the course, else of the checkout this package runs from, else the kit's packaged copy."""
    if root is None:
        try:
            root = find_course_root()
        except CourseNotFoundError:
            root = None
    checkout = Path(__file__).resolve().parents[2] / "datasets" / "manifest.json"
    candidates = ([root / "datasets" / "manifest.json"] if root is not None else []) + [checkout, PACKAGED_MANIFEST]
    return next((path for path in candidates if path.exists()), candidates[0])


def load_manifest(root: Path | None = None) -> dict[str, DatasetSpec]:
    path = manifest_path(root)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"The data manifest {path} is missing; restore it from the course repository.") from exc
    return {
        name: DatasetSpec(
            name=name,
            title=entry["title"],
            keras_subdir=entry["keras_subdir"],
            download_url=entry["download_url"],
            system_dirs=tuple(entry.get("system_dirs", [])),
            install_hint=entry["install_hint"],
            class_names=tuple(entry["class_names"]),
            files=tuple(FileSpec(fname, f["bytes"], f["sha256"]) for fname, f in entry["files"].items()),
            required=entry.get("required", True),
            used_by=entry.get("used_by", ""),
            format=entry.get("format", "idx"),
        )
        for name, entry in raw.items()
    }


def dataset_spec(name: str, root: Path | None = None) -> DatasetSpec:
    specs = load_manifest(root)
    if name not in specs:
        raise KeyError(f"Unknown data set {name!r}; the manifest lists {sorted(specs)}")
    return specs[name]

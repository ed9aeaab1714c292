"""Verified loaders for the course's data sets: the IDX image sets (Fashion-MNIST, MNIST) and a word list.

Each loader walks a fixed list of places, takes the first folder whose files
all match the manifest's SHA-256 (computed on the *decompressed* content, so a
recompressed copy still verifies), and otherwise fails with one error that
names every place it looked and what it found there.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..course import CourseNotFoundError, find_course_root
from . import idx
from .manifest import DatasetSpec, dataset_spec

Split = tuple[np.ndarray, np.ndarray]


class DataNotFoundError(FileNotFoundError):
    """No verified copy of a data set was found; the message lists every place looked."""


@dataclass
class Located:
    spec: DatasetSpec
    directory: Path
    arrays: dict[str, np.ndarray | str]  # IDX files as arrays, text files as one string
    attempts: list[tuple[str, str]] = field(default_factory=list)


class _Rejected(Exception):
    pass


def _course_root() -> Path | None:
    try:
        return find_course_root()
    except CourseNotFoundError:
        return None


def keras_cache_dir(spec: DatasetSpec) -> Path:
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    return home / "datasets" / spec.keras_subdir


def candidate_dirs(spec: DatasetSpec, data_dir: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """Places to look, in order, as ``(label, folder)`` pairs."""
    places: list[tuple[str, Path]] = []
    explicit = data_dir if data_dir is not None else os.environ.get("DLCOURSE_DATA")
    if explicit:
        label = "data_dir argument" if data_dir is not None else "$DLCOURSE_DATA"
        base = Path(explicit).expanduser()
        places += [(label, base / spec.name), (label, base / spec.keras_subdir), (label, base)]
    root = _course_root()
    if root is not None:
        places.append(("course data cache", root / "datasets" / spec.name))
    places.append(("Keras cache", keras_cache_dir(spec)))
    places += [("system package", Path(d)) for d in spec.system_dirs]
    if root is not None:
        # Course staff often keep one read-only copy beside the checkouts.
        places.append(("shared folder beside the course", root.parent / "shared" / "datasets" / spec.keras_subdir))
    unique: dict[Path, str] = {}
    for label, path in places:
        unique.setdefault(path, label)
    return [(label, path) for path, label in unique.items()]


def _find_file(directory: Path, name: str) -> Path | None:
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def _parse(spec: DatasetSpec, content: bytes, source: str) -> np.ndarray | str:
    if spec.format == "text":
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Rejected(f"{source}: not UTF-8 text ({exc})") from exc
    try:
        return idx.parse(content, source)
    except idx.IdxFormatError as exc:
        raise _Rejected(str(exc)) from exc


def read_verified(spec: DatasetSpec, directory: Path) -> dict[str, np.ndarray | str]:
    """Contents of every file in ``directory`` (arrays, or strings for text), or :class:`_Rejected` saying what is wrong."""
    if not directory.is_dir():
        raise _Rejected("no such folder")
    missing = [f.name for f in spec.files if _find_file(directory, f.name) is None]
    if len(missing) == len(spec.files):
        raise _Rejected("folder exists but holds none of the files")
    if missing:
        raise _Rejected(f"incomplete: missing {', '.join(missing)}")
    arrays = {}
    for f in spec.files:
        path = _find_file(directory, f.name)
        try:
            content = idx.read_bytes(path)
        except idx.IdxFormatError as exc:
            raise _Rejected(str(exc)) from exc
        digest = idx.sha256(content)
        if digest != f.sha256:
            raise _Rejected(
                f"{path.name}: SHA-256 of the decompressed content is {digest[:12]}…, expected {f.sha256[:12]}… "
                "(corrupt or a different version: delete it)"
            )
        arrays[f.name] = _parse(spec, content, str(path))
    return arrays


def _download(spec: DatasetSpec) -> Path:
    from ..runtime import quiet

    quiet()
    import keras  # imported late: it is slow and only needed off the happy path

    target = keras_cache_dir(spec)
    for f in spec.files:
        keras.utils.get_file(
            fname=f"{f.name}.gz",
            origin=f"{spec.download_url}{f.name}.gz",
            cache_dir=str(target.parent.parent),
            cache_subdir=str(Path("datasets") / spec.keras_subdir),
        )
    return target


def locate(name: str, data_dir: str | os.PathLike | None = None, download: bool | None = None) -> Located:
    """Find, verify and read data set ``name``; raise :class:`DataNotFoundError` if nowhere has it."""
    spec = dataset_spec(name, _course_root())
    if download is None:
        download = os.environ.get("DLCOURSE_OFFLINE", "") in ("", "0")
    attempts: list[tuple[str, str]] = []
    for label, directory in candidate_dirs(spec, data_dir):
        try:
            arrays = read_verified(spec, directory)
        except _Rejected as why:
            attempts.append((f"{label}: {directory}", str(why)))
            continue
        return Located(spec, directory, arrays, attempts)
    if download and not spec.download_url:
        attempts.append(("download", "none: this data set comes from a system package or a copy"))
    elif download:
        try:
            directory = _download(spec)
            arrays = read_verified(spec, directory)
            return Located(spec, directory, arrays, attempts)
        except Exception as exc:  # offline, proxy, HTTP errors: all mean "not downloadable now"
            attempts.append((f"download from {spec.download_url}", f"failed: {str(exc).splitlines()[0][:200]}"))
    else:
        attempts.append(("download", "skipped (DLCOURSE_OFFLINE is set)"))
    places = "\n".join(f"  - {place} -> {outcome}" for place, outcome in attempts)
    root = _course_root()
    cache = root / "datasets" / spec.name if root else Path("datasets") / spec.name
    raise DataNotFoundError(
        f"Could not find a verified copy of the {spec.name} data set. Looked in:\n{places}\n"
        f"To fix: {spec.install_hint}; or put the {_count(len(spec.files))} "
        f"({', '.join(f.name + ('.gz' if spec.format == 'idx' else '') for f in spec.files)}) in {cache} or in a folder named by "
        "$DLCOURSE_DATA, then run `dlcourse data`."
    )


def _count(n: int) -> str:
    return "file" if n == 1 else f"{['two', 'three', 'four'][n - 2]} files" if n <= 4 else f"{n} files"


def _splits(located: Located) -> tuple[Split, Split]:
    a = located.arrays
    return (
        (a["train-images-idx3-ubyte"], a["train-labels-idx1-ubyte"]),
        (a["t10k-images-idx3-ubyte"], a["t10k-labels-idx1-ubyte"]),
    )


def load_fashion_mnist(data_dir: str | os.PathLike | None = None, download: bool | None = None) -> tuple[Split, Split]:
    """Fashion-MNIST as Keras returns it.

    Returns ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
    ``(60000, 28, 28)`` and ``(10000, 28, 28)``, uint8 labels 0-9 of shape
    ``(60000,)`` and ``(10000,)``.

    ``DLCOURSE_SWAP_FASHION_FOR_MNIST=1`` returns MNIST instead: ``dlcourse bench``
    uses it to run the very same notebooks on the digits.
    """
    if os.environ.get("DLCOURSE_SWAP_FASHION_FOR_MNIST"):
        return load_mnist(data_dir, download)
    return _splits(locate("fashion_mnist", data_dir, download))


def load_mnist(data_dir: str | os.PathLike | None = None, download: bool | None = None) -> tuple[Split, Split]:
    """MNIST digits, with the same shapes and types as :func:`load_fashion_mnist`."""
    return _splits(locate("mnist", data_dir, download))


WORD = re.compile(r"[a-z]+")


def load_words(data_dir: str | os.PathLike | None = None, download: bool | None = None) -> tuple[list[str], list[str]]:
    """The English words of Debian's word list (package ``wamerican``), split once and for all into training and validation.

    Returns ``(train_words, val_words)``, two lists of strings: every entry of the list made only of the
    lower-case letters a-z (proper nouns, possessives like ``cat's`` and accented words are left out),
    each once. A word is in validation when the SHA-256 of its letters, read as a number, is divisible
    by 10 (about a tenth of them), so the split never depends on a random generator or a library
    version. Each list is in a fixed order that looks random (by that same digest), never alphabetical:
    neighbouring words share no prefix a model could copy.
    """
    text = locate("words", data_dir, download).arrays["american-english"]
    words = sorted({w for w in text.split("\n") if WORD.fullmatch(w)})
    digests = {w: int(hashlib.sha256(w.encode()).hexdigest(), 16) for w in words}
    ordered = sorted(words, key=digests.__getitem__)
    return [w for w in ordered if digests[w] % 10], [w for w in ordered if digests[w] % 10 == 0]


def class_names(name: str) -> tuple[str, ...]:
    return dataset_spec(name, _course_root()).class_names


def copy_to_course_cache(located: Located, root: Path) -> Path:
    """Copy a verified data set into ``datasets/<name>/`` so later loads need nothing else."""
    target = root / "datasets" / located.spec.name
    if located.directory.resolve() == target.resolve():
        return target
    target.mkdir(parents=True, exist_ok=True)
    for f in located.spec.files:
        source = _find_file(located.directory, f.name)
        shutil.copyfile(source, target / source.name)
    read_verified(located.spec, target)  # the copy must verify too
    return target

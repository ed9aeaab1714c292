"""What a student hands in: the notebook and the models it trained, packed into one zip.

Part of the student kit. The rule for which files of ``trained_models/`` count
(and how large one may be) lives here, because the grader's intake
(:mod:`autograder.pipeline.handed_in_models`) must accept exactly what this packs.
``dlcourse-handin NOTEBOOK`` (or ``dlcourse handin``) writes ``NOTEBOOK.zip``.
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from pathlib import Path

from .training import DEFAULT_MAX_WEIGHTS_MB, RECORD_DIR

# Keras weights and their training records; nothing else (no code) travels with a notebook.
MODEL_FILE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}\.(weights\.h5|json)$")
MAX_FILE_BYTES = DEFAULT_MAX_WEIGHTS_MB * 1024 * 1024


class HandinError(ValueError):
    pass


def is_model_file(name: str) -> bool:
    return bool(MODEL_FILE_NAME.match(name))


def model_files(notebook: Path) -> list[Path]:
    """The model files in the ``trained_models/`` folder beside ``notebook``."""
    folder = Path(notebook).parent / RECORD_DIR
    return sorted(p for p in folder.iterdir() if p.is_file() and is_model_file(p.name)) if folder.is_dir() else []


def pack(notebook: Path, out: Path | None = None, max_file_bytes: int | None = None) -> tuple[Path, list[Path]]:
    """Write the zip (default ``<notebook>.zip`` beside it); returns it and the model files it holds."""
    notebook = Path(notebook).resolve()
    target = Path(out or notebook.with_suffix(".zip")).resolve()
    files = model_files(notebook)
    cap = MAX_FILE_BYTES if max_file_bytes is None else max_file_bytes
    too_large = [p.name for p in files if p.stat().st_size > cap]
    if too_large:
        raise HandinError(f"{', '.join(too_large)}: over the grader's {cap >> 20} MB cap for one file; is that the course's model?")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(notebook, notebook.name)
        for path in files:
            bundle.write(path, f"{RECORD_DIR}/{path.name}")
    return target, files


def summary(target: Path, notebook: Path, files: list[Path]) -> str:
    return f"✓ {target} ({target.stat().st_size / 1e6:.1f} MB): {Path(notebook).name} and {len(files)} file(s) of {RECORD_DIR}/"


def main(argv: list[str] | None = None) -> int:
    from .validate import trained_models_lines

    parser = argparse.ArgumentParser(
        prog="dlcourse-handin",
        description="Pack your notebook and the models it trained (its trained_models/ folder) into one zip to hand in.",
        epilog="Example: dlcourse-handin 04_cnn/04_cnn.ipynb",
    )
    parser.add_argument("notebook", type=Path, help="Your completed notebook.")
    parser.add_argument("--out", "-o", type=Path, default=None, help="The zip to write (default: <notebook>.zip beside it).")
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        parser.error(f"{args.notebook} is not a file")
    try:
        target, files = pack(args.notebook, args.out)
    except HandinError as exc:
        print(exc, file=sys.stderr)
        return 1
    print("\n".join(trained_models_lines(args.notebook)))
    print(summary(target, args.notebook, files))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The files of a trained model: ``<name>.weights.h5`` (Keras's HDF5 weights: arrays, no code) and ``<name>.json`` (its record).

A weights file is checked before Keras opens it (size cap, HDF5 signature, no links to other
files) and refused, with the reason, when it does not load into the model the code built.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

RECORD_DIR = "trained_models"
RECORD_FORMAT = 1
FOLDER_VARIABLE = "DLCOURSE_TRAINED_MODELS"  # where records live (default: trained_models/ in the working folder)
MAX_WEIGHTS_MB_VARIABLE = "DLCOURSE_MAX_WEIGHTS_MB"
DEFAULT_MAX_WEIGHTS_MB = 64  # the course's largest model is about 3 MB of float32 weights
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class WeightsRefused(ValueError):
    """A submitted weights file that is not weights of this model: too large, not HDF5, or another architecture."""


def record_dir() -> Path:
    return Path(os.environ.get(FOLDER_VARIABLE, RECORD_DIR))


def weights_path(name: str, folder: Path | None = None) -> Path:
    return (folder or record_dir()) / f"{name}.weights.h5"


def record_path(name: str, folder: Path | None = None) -> Path:
    return (folder or record_dir()) / f"{name}.json"


def max_weights_bytes() -> int:
    return int(float(os.environ.get(MAX_WEIGHTS_MB_VARIABLE, DEFAULT_MAX_WEIGHTS_MB)) * 1024 * 1024)


def check_weights_file(path: Path) -> None:
    """Refuse, before Keras opens it, a file that is too large, not HDF5, or links to other files."""
    size = path.stat().st_size
    if size > max_weights_bytes():
        raise WeightsRefused(f"{path.name} is {size / 2**20:.1f} MB, over the {max_weights_bytes() / 2**20:.0f} MB cap for a weights file")
    with open(path, "rb") as handle:
        if handle.read(8) != HDF5_SIGNATURE:
            raise WeightsRefused(f"{path.name} is not a Keras weights file (.weights.h5, HDF5); save weights with train_or_restore")
    import h5py

    links: list[str] = []

    def visit(name, link):
        if isinstance(link, h5py.ExternalLink | h5py.SoftLink):
            links.append(name)

    with h5py.File(path, "r") as handle:
        handle.visititems_links(visit)
    if links:
        raise WeightsRefused(f"{path.name} holds links ({', '.join(links[:3])}); a weights file holds arrays only")


def load_weights(model, path: Path) -> None:
    """Load a checked weights file into ``model``, or raise :class:`WeightsRefused` saying why."""
    check_weights_file(path)
    try:
        model.load_weights(str(path))
    except Exception as exc:
        detail = str(exc).strip().splitlines()
        raise WeightsRefused(
            f"{path.name} does not fit the model the notebook builds (another architecture?): {' '.join(detail[-1:])[:240]}"
        ) from None


def read_record(name: str, folder: Path | None = None) -> dict | None:
    path = record_path(name, folder)
    try:
        if path.stat().st_size > 16 * 1024 * 1024:
            return None
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == RECORD_FORMAT else None


def machine() -> dict:
    from ..runtime import device_report

    report = device_report()
    threads = os.environ.get("TF_NUM_INTRAOP_THREADS") or str(report.cores)
    return {
        "device": report.device,
        "cpu": report.cpu,
        "threads": threads,
        "gpus": report.gpus,
        "backend": f"{report.backend} {report.backend_version}",
        "keras": report.keras,
        "numpy": report.numpy,
    }


def handed_in_summary(folder: Path | None = None) -> list[str]:
    """One line per trained model in ``folder``: what a student hands in, and what the grader will find."""
    folder = folder or record_dir()
    lines = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        name = path.stem
        record = read_record(name, folder)
        if record is None:
            lines.append(f"{name}: the record is unreadable: run the notebook again to rewrite it")
        elif not weights_path(name, folder).exists():
            lines.append(f"{name}: {weights_path(name, folder).name} is missing: run the notebook again")
        else:
            lines.append(
                f"{name}: {len(record.get('epoch', []))} epochs, trained in {record.get('seconds', 0):.0f} s on {record.get('machine', {}).get('device', '?')}"
            )
    return lines

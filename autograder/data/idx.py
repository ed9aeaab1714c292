"""Reading and writing the IDX format that MNIST and Fashion-MNIST ship in.

IDX: two zero bytes, a type code (0x08 = unsigned byte), the number of
dimensions, each dimension as a big-endian uint32, then the raw data.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np

UBYTE = 0x08


class IdxFormatError(ValueError):
    pass


def read_bytes(path: Path) -> bytes:
    """Return the decompressed content of ``path`` (``.gz`` or plain)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError) as exc:  # gzip raises BadGzipFile (an OSError) or EOFError when truncated
        raise IdxFormatError(f"{path}: cannot be read ({exc}); delete it and fetch the data again") from exc


def parse(content: bytes, source: str = "<bytes>") -> np.ndarray:
    """Turn IDX bytes into a uint8 array of the shape the header declares."""
    if len(content) < 4 or content[0:2] != b"\x00\x00" or content[2] != UBYTE:
        raise IdxFormatError(f"{source}: not an unsigned-byte IDX file (bad magic number)")
    ndim = content[3]
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", content[4:header])
    expected = header + int(np.prod(shape))
    if len(content) != expected:
        raise IdxFormatError(f"{source}: header declares shape {shape} ({expected} bytes) but file has {len(content)} bytes")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


def encode(array: np.ndarray) -> bytes:
    """IDX bytes for a uint8 array (the inverse of :func:`parse`)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return bytes([0, 0, UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()

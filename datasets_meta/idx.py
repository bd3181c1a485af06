"""MNIST-style idx files (``train-images-idx3-ubyte.gz`` ...), gzipped or not."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from datasets_meta.base import DatasetError, RawDataset, check_lengths

STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def find(directory: Path) -> list[Path] | None:
    """The four idx files in ``directory`` (each ``.gz`` or plain), or None if any is missing."""
    found = []
    for stem in STEMS:
        candidates = [directory / (stem + ".gz"), directory / stem]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            return None
        found.append(path)
    return found


def read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    """One idx file as a uint8 array; magic number, shape and length are checked."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (EOFError, OSError, zlib.error) as e:
        raise DatasetError(f"cannot read {path}: {e} (truncated or corrupt download?); "
                           f"replace the file with a fresh copy") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != expected_ndim:
        raise DatasetError(
            f"{path} is not an idx file of unsigned bytes with {expected_ndim} dimensions "
            f"(magic {data[:4].hex() or 'missing'}, expected 000008{expected_ndim:02x}); "
            f"is it the right file?")
    header = 4 + 4 * expected_ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(expected_ndim))
    if len(data) != header + int(np.prod(shape)):
        raise DatasetError(f"{path} holds {len(data) - header} bytes of data but its header "
                           f"announces shape {shape}; the file is truncated, replace it")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def read(paths: list[Path], class_names: tuple[str, ...]) -> RawDataset:
    train_x, train_y, test_x, test_y = (
        read_idx(p, 3 if "images" in p.name else 1) for p in paths)
    check_lengths(train_x, train_y, f"{paths[0].name} / {paths[1].name}")
    check_lengths(test_x, test_y, f"{paths[2].name} / {paths[3].name}")
    return RawDataset(train_x[..., None], train_y.astype(np.int64),
                      test_x[..., None], test_y.astype(np.int64), class_names)

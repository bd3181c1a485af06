"""Shared by the readers: the error users see, a decoded dataset before preparation, the cache root."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np


def cache_dir() -> Path:
    """Where DiMO keeps derived files (decoded datasets, compiled programs); never the repo."""
    return Path(os.environ.get("DIMO_CACHE_DIR", Path.home() / ".cache" / "dimo"))


class DatasetError(ValueError):
    """Bad or missing data. The message is one line that names the problem and the fix."""


class RawDataset(NamedTuple):
    """Decoded arrays as a source holds them: uint8 [N, H, W, C] images, int labels."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray | None  # None where the source has no test split
    test_labels: np.ndarray | None
    class_names: tuple[str, ...]
    original_shape: tuple[int, ...] | None = None  # (H, W, C) before any resizing at decode


def files_checksum(paths: Sequence[Path]) -> str:
    """md5 over the names and bytes of the files (folders: every file below them).

    It identifies a source for the decode cache and in a dataset's metadata.
    """
    files = []
    for p in map(Path, paths):
        files.extend(sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p])
    digest = hashlib.md5()
    for path in files:
        digest.update(path.name.encode())
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def check_lengths(images: np.ndarray, labels: np.ndarray, what: str) -> None:
    if len(images) != len(labels):
        raise DatasetError(
            f"{what}: {len(images)} images but {len(labels)} labels; the image and label "
            f"files do not belong together, replace them with a matching pair")

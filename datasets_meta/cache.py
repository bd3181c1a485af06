"""Decoded datasets cached once as ``.npz`` files, keyed by the source's checksum.

Decoding 60,000 JPEGs takes tens of seconds; reading the cached arrays takes well under
one. Files go to ``$DIMO_CACHE_DIR/datasets`` (default ``~/.cache/dimo/datasets``), never
into the data directory or the repository, and are written atomically (a private temporary
file, then a rename), so a crash leaves either no entry or a complete one, and two processes
decoding the same dataset at once each leave a complete entry, the later replacing the earlier.
An entry whose bytes changed since (its zip CRC-32s) is decoded again, with one line saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from datasets_meta.base import RawDataset, cache_dir

FORMAT_VERSION = 1  # bump when decoding changes, so old entries are not reused


def _path(key: dict) -> Path:
    digest = hashlib.sha256(json.dumps({**key, "v": FORMAT_VERSION}, sort_keys=True).encode())
    return cache_dir() / "datasets" / f"{key.get('name', 'data')}-{digest.hexdigest()[:16]}.npz"


def _save(path: Path, raw: RawDataset) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: v for k, v in raw._asdict().items() if isinstance(v, np.ndarray)}
    meta = {"class_names": list(raw.class_names), "original_shape": raw.original_shape}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, meta=np.asarray(json.dumps(meta)), **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(path: Path) -> tuple[RawDataset | None, str | None]:
    """(the entry, None), or (None, why it cannot be used). The file verifies itself: numpy
    reads each array through ``zipfile``, which checks the member's CRC-32, so changed bytes
    raise ``BadZipFile`` here instead of coming back as wrong pixels."""
    try:
        with np.load(path) as f:
            meta = json.loads(str(f["meta"]))
            get = lambda k: f[k] if k in f else None
            shape = meta["original_shape"]
            return RawDataset(get("train_images"), get("train_labels"), get("test_images"),
                              get("test_labels"), tuple(meta["class_names"]),
                              tuple(shape) if shape else None), None
    except Exception as e:  # changed bytes, truncated, not a zip, missing members
        return None, f"{type(e).__name__}: {e}"


def cached(key: dict, decode: Callable[[], RawDataset]) -> tuple[RawDataset, bool]:
    """``decode()``'s result, from the cache when ``key`` was decoded before; (raw, hit)."""
    path = _path(key)
    if path.is_file():
        raw, damage = _load(path)
        if raw is not None:
            return raw, True
        print(f"warning: dataset cache {path} is damaged ({damage}); decoding "
              f"{key.get('name', 'the dataset')} again from its source", file=sys.stderr)
    raw = decode()
    try:
        _save(path, raw)
    except OSError:  # a read-only or full cache dir costs speed, not correctness
        pass
    return raw, False

"""TensorFlow Datasets: prepared data in a TFDS data dir, or a download where there is internet.

Reading goes through ``tfds.data_source`` (array_record), which needs no TensorFlow.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import numpy as np

from datasets_meta.base import RawDataset

# Probed before any download: offline, TFDS retries for minutes before it gives up.
_PROBE_HOST = ("storage.googleapis.com", 443)


def data_dir() -> Path:
    return Path(os.environ.get("TFDS_DATA_DIR", Path.home() / "tensorflow_datasets"))


def internet_reachable(timeout: float = 3.0) -> bool:
    try:
        socket.create_connection(_PROBE_HOST, timeout=timeout).close()
        return True
    except OSError:
        return False


def _split(tfds_name: str, split: str, directory: Path, download: bool, image_key: str):
    import tensorflow_datasets as tfds

    source = tfds.data_source(
        tfds_name, split=split, data_dir=str(directory), download=download,
        download_and_prepare_kwargs={"file_format": "array_record"} if download else None)
    n = len(source)
    records = [source[i] for i in range(n)]
    images = np.stack([np.asarray(r[image_key], np.uint8) for r in records])
    labels = np.asarray([int(r["label"]) for r in records], np.int64)
    if images.ndim == 3:
        images = images[..., None]
    return images, labels


def read(tfds_name: str, directory: Path, download: bool, default_classes: tuple[str, ...],
         image_key: str = "image") -> RawDataset:
    """Both splits of ``tfds_name``; raises whatever TFDS raises when the data is not there."""
    import tensorflow_datasets as tfds

    logging.getLogger("absl").setLevel(logging.ERROR)  # TFDS warns about every absent variant
    train = _split(tfds_name, "train", directory, download, image_key)
    test = _split(tfds_name, "test", directory, download, image_key)
    try:
        classes = tuple(tfds.builder(tfds_name, data_dir=str(directory)).info.features["label"].names)
    except Exception:  # metadata is optional: mocked or partial data dirs lack it
        classes = ()
    return RawDataset(*train, *test, classes or default_classes)

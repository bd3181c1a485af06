"""The uniform dataset every part of DiMO reads: three splits, class names, metadata."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from datasets_meta.samplers import Split, make_split

SPLIT_NAMES = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class Dataset:
    """uint8 [N, S, S, C] images and int32 labels per split, host-side (numpy).

    ``mean``/``std`` are per-channel train statistics on the [0, 1] scale, for
    ``samplers.normalize``. ``metadata`` says where the data came from (source, path,
    original shape, checksum, notes such as "lossy JPEG copy").
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    metadata: dict[str, Any]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])

    def arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split not in SPLIT_NAMES:
            raise ValueError(f"split must be one of {SPLIT_NAMES}, got {split!r}")
        return getattr(self, f"{split}_images"), getattr(self, f"{split}_labels")

    def split(self, split: str) -> Split:
        """The split as device arrays with a per-class index, for the jit-able samplers."""
        images, labels = self.arrays(split)
        return make_split(images, labels, self.num_classes)

    def sizes(self) -> dict[str, int]:
        return {s: int(len(self.arrays(s)[1])) for s in SPLIT_NAMES}

    def class_counts(self, split: str = "train") -> np.ndarray:
        return np.bincount(self.arrays(split)[1], minlength=self.num_classes)

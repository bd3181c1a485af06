"""From decoded arrays to the uniform form: resolution, channels, splits, statistics."""

from __future__ import annotations

import numpy as np
from PIL import Image

from datasets_meta.base import DatasetError, RawDataset

_LUMA = np.asarray([0.299, 0.587, 0.114])  # ITU-R 601, as Pillow's convert('L')


def convert_channels(images: np.ndarray, channels: int) -> np.ndarray:
    have = images.shape[-1]
    if have == channels:
        return images
    if have == 1 and channels == 3:
        return np.repeat(images, 3, axis=-1)  # grey replicated
    if have == 3 and channels == 1:
        return np.rint(images @ _LUMA).clip(0, 255).astype(np.uint8)[..., None]
    raise DatasetError(f"cannot convert {have}-channel images to {channels} channels; "
                       f"use channels=1 or channels=3")


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear (antialiased when shrinking) resize of uint8 [N, H, W, C] to size x size."""
    if images.shape[1:3] == (size, size):
        return images
    squeeze = images.shape[-1] == 1
    out = np.empty((len(images), size, size, images.shape[-1]), np.uint8)
    for i, image in enumerate(images):
        pil = Image.fromarray(image[..., 0] if squeeze else image)
        resized = np.asarray(pil.resize((size, size), Image.BILINEAR))
        out[i] = resized[..., None] if squeeze else resized
    return out


def to_resolution(raw: RawDataset, size: int, channels: int) -> RawDataset:
    def fix(x):
        return None if x is None else resize(convert_channels(x, channels), size)

    original = raw.original_shape or tuple(raw.train_images.shape[1:])
    return raw._replace(train_images=fix(raw.train_images), test_images=fix(raw.test_images),
                        original_shape=tuple(int(d) for d in original))


def check_labels(labels: np.ndarray, num_classes: int, where: str) -> np.ndarray:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DatasetError(f"{where}: labels span {labels.min()}..{labels.max()}, outside "
                           f"0..{num_classes - 1}; the label file does not match this dataset")
    return labels.astype(np.int32)


def carve(num_examples: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (kept, carved) index split: the same seed gives the same split."""
    if not 0.0 < fraction < 1.0:
        raise DatasetError(f"a split fraction must be in (0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(num_examples)
    n = max(1, int(round(fraction * num_examples)))
    return np.sort(order[n:]), np.sort(order[:n])


def channel_stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of uint8 images, on the [0, 1] scale."""
    # Exact moments from a 256-bin histogram per channel: no float copy of the images.
    levels = np.arange(256, dtype=np.float64) / 255.0
    flat = images.reshape(-1, images.shape[-1])
    hist = np.stack([np.bincount(flat[:, c], minlength=256) for c in range(flat.shape[1])])
    n = hist.sum(1)
    mean = hist @ levels / n
    var = hist @ levels ** 2 / n - mean ** 2
    return mean.astype(np.float32), np.maximum(np.sqrt(np.maximum(var, 0.0)), 1e-3).astype(np.float32)

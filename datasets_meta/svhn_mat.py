"""SVHN cropped digits as distributed: ``train_32x32.mat`` and ``test_32x32.mat``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets_meta.base import DatasetError, RawDataset, check_lengths

FILES = ("train_32x32.mat", "test_32x32.mat")


def find(directory: Path) -> list[Path] | None:
    paths = [directory / f for f in FILES]
    return paths if all(p.is_file() for p in paths) else None


def _read_mat(path: Path):
    import scipy.io  # only this reader needs scipy

    try:
        mat = scipy.io.loadmat(path)
    except Exception as e:  # scipy raises ValueError, OSError, MatReadError... on bad files
        raise DatasetError(f"cannot read {path} as a MATLAB file ({e}); replace it") from None
    if "X" not in mat or "y" not in mat:
        raise DatasetError(f"{path} has no 'X' and 'y' arrays; it is not an SVHN file")
    images = np.asarray(mat["X"], np.uint8).transpose(3, 0, 1, 2)  # stored as H, W, C, N
    labels = np.asarray(mat["y"]).reshape(-1).astype(np.int64)
    labels[labels == 10] = 0  # SVHN writes the digit 0 as label 10
    check_lengths(images, labels, path.name)
    return images, labels


def read(paths: list[Path], class_names: tuple[str, ...]) -> RawDataset:
    (train_x, train_y), (test_x, test_y) = (_read_mat(p) for p in paths)
    return RawDataset(train_x, train_y, test_x, test_y, class_names)

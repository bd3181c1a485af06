"""Image-folder trees: ``<root>/train/<class>/*.png|jpg`` (and ``<root>/test/<class>/...``).

The tree may be a directory or a ``.tar.gz``/``.tgz``/``.tar`` of one, with or without a
single top folder. This is how users bring their own data (``folder:/path``) and how the
JPEG copy of CIFAR-10 in ``../shared/data`` is read. Every image is decoded with Pillow,
converted to RGB and resized to the requested resolution as it is read, so folders of
mixed image sizes work.
"""

from __future__ import annotations

import io
import tarfile
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Iterator

import numpy as np
from PIL import Image

from datasets_meta.base import DatasetError, RawDataset

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
SPLITS = ("train", "test")


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def find(directory: Path) -> list[Path] | None:
    """The tree at ``directory``: itself if it has ``train/``, else its single archive."""
    if (directory / "train").is_dir() or is_archive(directory):
        return [directory]
    if directory.is_dir():
        archives = sorted(p for p in directory.iterdir() if is_archive(p))
        if len(archives) == 1:
            return archives
    return None


def _entries(root: Path) -> Iterator[tuple[PurePosixPath, bytes | None]]:
    """(relative path, bytes) of every file; bytes None for a directory (to see empty classes)."""
    if root.is_dir():
        for split in SPLITS:
            for path in sorted((root / split).rglob("*")) if (root / split).is_dir() else []:
                rel = PurePosixPath(path.relative_to(root).as_posix())
                yield rel, (path.read_bytes() if path.is_file() else None)
        return
    try:
        with tarfile.open(root) as tar:
            for member in tar:
                if member.isdir():
                    yield PurePosixPath(member.name), None
                elif member.isfile():
                    yield PurePosixPath(member.name), tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError) as e:
        raise DatasetError(f"cannot read {root}: {e} (truncated or corrupt archive?); "
                           f"replace it with a complete copy") from None


def _split_and_class(rel: PurePosixPath) -> tuple[str, str] | None:
    """('train'|'test', class) for paths like [top/]train/<class>/..., else None."""
    parts = rel.parts
    for offset in (0, 1):  # tolerate one top-level folder in an archive
        if len(parts) > offset + 1 and parts[offset] in SPLITS:
            return parts[offset], parts[offset + 1]
    return None


def decode(blob: bytes, where: str, size: int | None = None) -> np.ndarray:
    """uint8 [H, W, 3] of an image file's bytes, resized to size x size when ``size`` is given."""
    try:
        with Image.open(io.BytesIO(blob)) as image:
            image = image.convert("RGB")
            if size is not None and image.size != (size, size):
                image = image.resize((size, size), Image.BILINEAR)
            return np.asarray(image, np.uint8)
    except Exception as e:  # Pillow raises several types for undecodable data
        raise DatasetError(f"image {where} does not decode ({type(e).__name__}: {e}); "
                           f"remove or replace it") from None


def read(paths: list[Path], size: int) -> RawDataset:
    """Decodes the whole tree into uint8 [N, size, size, 3] arrays per split."""
    root = paths[0]
    images: dict[str, dict[str, list[np.ndarray]]] = {s: defaultdict(list) for s in SPLITS}
    first_shape = None
    for rel, blob in _entries(root):
        located = _split_and_class(rel)
        if located is None:
            continue
        split, cls = located
        bucket = images[split][cls]  # a class folder exists even if no image is found in it
        if blob is None or not rel.name.lower().endswith(IMAGE_SUFFIXES):
            continue
        if first_shape is None:
            with Image.open(io.BytesIO(blob)) as probe:
                first_shape = (probe.size[1], probe.size[0], len(probe.getbands()))
        bucket.append(decode(blob, f"{root}:{rel}" if root.is_file() else str(root / rel), size))
    if not images["train"]:
        raise DatasetError(f"{root} has no train/<class>/ folders; lay it out as "
                           f"train/<class>/*.png|jpg (and optionally test/<class>/...)")
    classes = tuple(sorted(images["train"]))
    for split in SPLITS:
        for cls, arrays in images[split].items():
            if not arrays:
                raise DatasetError(f"class folder {split}/{cls} in {root} has no images "
                                   f"({', '.join(IMAGE_SUFFIXES)}); add images or remove it")
            if cls not in classes:
                raise DatasetError(f"{root}: class {cls!r} appears in {split}/ but not in "
                                   f"train/; every test class needs training images")

    def stack(split):
        pairs = [(a, classes.index(c)) for c, arrays in sorted(images[split].items()) for a in arrays]
        if not pairs:
            return None, None
        return (np.stack([a for a, _ in pairs]), np.asarray([y for _, y in pairs], np.int64))

    train_x, train_y = stack("train")
    test_x, test_y = stack("test")
    return RawDataset(train_x, train_y, test_x, test_y, classes, first_shape)

"""The images ``dimo predict`` reads: one file, a folder of files, or a folder of class folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets_meta.image_folder import IMAGE_SUFFIXES, decode


class ImagesError(ValueError):
    """Images that cannot be read, said in one line with its fix."""


def _is_image(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(IMAGE_SUFFIXES)


def find_images(path) -> list[tuple[Path, str | None]]:
    """(file, class folder or None) of every image at ``path``: the file itself, the images in
    the folder, and those one level down in its subfolders (named like classes, perhaps)."""
    path = Path(path)
    if _is_image(path):
        return [(path, None)]
    if path.is_file():
        raise ImagesError(f"{path} is not an image ({', '.join(IMAGE_SUFFIXES)}); pass an image or a folder of them")
    if not path.is_dir():
        raise ImagesError(f"{path} does not exist; pass an image file or a folder of images")
    found = [(p, None) for p in sorted(path.iterdir()) if _is_image(p)]
    for folder in sorted(p for p in path.iterdir() if p.is_dir()):
        found += [(p, folder.name) for p in sorted(folder.iterdir()) if _is_image(p)]
    if not found:
        raise ImagesError(f"{path} holds no images ({', '.join(IMAGE_SUFFIXES)}) in itself or in its "
                          f"subfolders; pass a folder of images")
    return found


def read_images(found: list[tuple[Path, str | None]], size: int) -> np.ndarray:
    """uint8 [N, size, size, 3]: each image decoded, converted to RGB and resized as training
    images are (Pillow, bilinear)."""
    try:
        return np.stack([decode(p.read_bytes(), str(p), size) for p, _ in found])
    except ValueError as e:  # DatasetError names the file that does not decode
        raise ImagesError(str(e)) from None


def folder_name(class_name: str) -> str:
    """A class name as a folder can be named: '/' (fashion_mnist's 'T-shirt/top') becomes '_'."""
    return class_name.replace("/", "_")


def folder_labels(found: list[tuple[Path, str | None]], class_names) -> tuple[np.ndarray | None, list[str]]:
    """(each image's class index, or None; the folders named like no class). Labels need every
    image in a folder named like a class (the name itself, or ``folder_name``'s form of it)."""
    index = {name: i for i, name in enumerate(class_names)}
    index.update({folder_name(name): i for i, name in enumerate(class_names)})
    unmatched = sorted({folder for _, folder in found if folder is not None and folder not in index})
    if not found or unmatched or any(folder is None for _, folder in found):
        return None, unmatched
    return np.asarray([index[folder] for _, folder in found], np.int64), unmatched

"""Dataset names -> data, through three sources tried in a fixed order.

For a name, ``load`` tries:

1. **local raw files** in the data directory (``data_dir`` argument, else
   ``$DIMO_DATA_DIR``), in each format the name has, in the folders listed below
   (``.`` is the data directory itself). Decoded arrays are cached by checksum.
2. **TFDS prepared data** in the TFDS data dir (``$TFDS_DATA_DIR``, default
   ``~/tensorflow_datasets``), read with ``tfds.data_source`` (no TensorFlow needed).
3. **TFDS download** into that TFDS data dir, when the machine reaches the internet.

``digits`` is scikit-learn's bundled 8x8 digits and needs none of them.
``folder:/path`` reads a user's image-folder tree (directory or tarball).
Nothing is ever written into the data directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from datasets_meta import cache, cifar_archive, idx, image_folder, preprocess, svhn_mat, tfds_source
from datasets_meta.base import DatasetError, RawDataset, files_checksum
from datasets_meta.dataset import Dataset

DIGIT_NAMES = tuple(str(d) for d in range(10))
CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck")
FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
KMNIST_NAMES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
# Tiny ImageNet's 20-class subset in ../shared/data: every 10th of the 200 wnids in sorted
# order. Its class folders are the wnids (sorted, so in this order); these are their words.
TINY_IMAGENET20_WNIDS = (
    "n01443537", "n01784675", "n02002724", "n02123045", "n02231487", "n02410509", "n02669723",
    "n02814533", "n02909870", "n03026506", "n03255030", "n03584254", "n03770439", "n03937543",
    "n04070727", "n04259630", "n04398044", "n04532670", "n07615774", "n07871810")
TINY_IMAGENET20_NAMES = (
    "goldfish", "centipede", "black stork", "tabby cat", "walking stick", "bison", "academic gown",
    "station wagon", "bucket", "Christmas stocking", "dumbbell", "iPod", "miniskirt", "pill bottle",
    "refrigerator", "sombrero", "teapot", "viaduct", "ice lolly", "meat loaf")


@dataclasses.dataclass(frozen=True)
class RawFormat:
    label: str
    expected: str  # what a user must put where, for error messages
    find: Callable[[Path], list[Path] | None]
    read: Callable[[list[Path], "Spec", int], RawDataset]
    note: str = ""  # a caveat about this copy (e.g. lossy), said once when it is read


IDX = RawFormat("idx files", ", ".join(s + ".gz" for s in idx.STEMS), idx.find,
                lambda paths, spec, size: idx.read(paths, spec.class_names))
SVHN_MAT = RawFormat("SVHN .mat files", " and ".join(svhn_mat.FILES), svhn_mat.find,
                     lambda paths, spec, size: svhn_mat.read(paths, spec.class_names))


def _cifar(variant: str) -> RawFormat:
    py_tar, _, bin_tar, _ = cifar_archive.LAYOUT[variant]
    return RawFormat(f"{variant} archive", f"{py_tar} or {bin_tar} (or the extracted folder)",
                     lambda d: cifar_archive.find(d, variant),
                     lambda paths, spec, size: cifar_archive.read(paths, variant, spec.class_names))


def _image_folder(note: str = "") -> RawFormat:
    return RawFormat("image-folder tree", "train/<class>/*.jpg|png (and test/...) or a .tar.gz of it",
                     image_folder.find, lambda paths, spec, size: image_folder.read(paths, size), note)


@dataclasses.dataclass(frozen=True)
class Spec:
    name: str
    class_names: tuple[str, ...]
    raw: tuple[tuple[RawFormat, tuple[str, ...]], ...] = ()  # (format, folders) in order
    tfds_name: str | None = None
    bundled: Callable[[], RawDataset] | None = None
    # An image-folder tree's class folders, in label order, where they are not the class names.
    folders: tuple[str, ...] | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _sklearn_digits() -> RawDataset:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]  # 0..16 -> 0..255
    return RawDataset(images, digits.target.astype(np.int64), None, None, DIGIT_NAMES)


_SPECS = (
    Spec("mnist", DIGIT_NAMES, ((IDX, ("mnist",)),), "mnist"),
    Spec("fashion_mnist", FASHION_NAMES, ((IDX, ("fashion_mnist", "fashion-mnist")),), "fashion_mnist"),
    Spec("kmnist", KMNIST_NAMES,
         ((IDX, ("kmnist",)),
          (_image_folder("partial train split: the first 7,011 of KMNIST's 60,000 training images "
                         "(the full 10,000-image test split)"), ("kmnist",))), "kmnist",
         folders=tuple(f"{i}_{name}" for i, name in enumerate(KMNIST_NAMES))),
    Spec("cifar10", CIFAR10_NAMES,
         ((_cifar("cifar10"), ("cifar10", "cifar-10", ".")),
          (_image_folder("lossy JPEG (quality 75) copy of the original CIFAR-10 images"),
           ("cifar10_jpeg",))), "cifar10"),
    Spec("cifar100", tuple(f"class_{i}" for i in range(100)),
         ((_cifar("cifar100"), ("cifar100", "cifar-100", ".")),), "cifar100"),
    Spec("svhn", DIGIT_NAMES, ((SVHN_MAT, ("svhn", "svhn_cropped")),), "svhn_cropped"),
    # No TFDS source: TFDS has no Tiny ImageNet. Its test/ holds the official validation
    # images (the test labels are not public).
    Spec("tiny_imagenet20", TINY_IMAGENET20_NAMES,
         ((_image_folder("a 20-class subset of Tiny ImageNet (every 10th wnid), its test split the "
                         "official validation images"), ("tiny_imagenet20",)),),
         folders=TINY_IMAGENET20_WNIDS),
    Spec("digits", DIGIT_NAMES, bundled=_sklearn_digits),
)
REGISTRY: dict[str, Spec] = {spec.name: spec for spec in _SPECS}


def known_names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def get_spec(name: str) -> Spec:
    if name not in REGISTRY:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(REGISTRY)}, "
                           f"or folder:/path/to/image/tree for your own images")
    return REGISTRY[name]


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """The explicit directory, else ``$DIMO_DATA_DIR``, else None; a named one must exist."""
    chosen, origin = (data_dir, "--data_dir") if data_dir else (os.environ.get("DIMO_DATA_DIR"), "DIMO_DATA_DIR")
    if not chosen:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise DatasetError(f"data directory {path} (from {origin}) does not exist; point "
                           f"{origin} at the folder that holds the datasets")
    return path


@contextlib.contextmanager
def _reading(source: Path):
    """A source that vanishes or becomes unreadable while it is read: one DatasetError line."""
    try:
        yield
    except OSError as e:
        raise DatasetError(f"cannot read {e.filename or source} ({e.strerror or e}): the data "
                           f"changed while it was read; restore {source} and run again") from None


def _read_raw(spec: Spec, root: Path, size: int, channels: int, searched: list[str]):
    for fmt, folders in spec.raw:
        for folder in folders:
            directory = root if folder == "." else root / folder
            paths = fmt.find(directory)
            if not paths:
                searched.append(f"{fmt.label} in {directory}")
                continue
            with _reading(directory):
                checksum = files_checksum(paths)
                key = {"name": spec.name, "format": fmt.label, "checksum": checksum,
                       "size": size, "channels": channels}
                decode = lambda: preprocess.to_resolution(fmt.read(paths, spec, size), size, channels)
                raw, hit = cache.cached(key, decode)
            if fmt.label == "image-folder tree":
                raw = _named_classes(spec, raw, directory)
            meta = {"source": f"raw: {fmt.label}", "path": str(paths[0]), "checksum": checksum,
                    "decode_cache": "hit" if hit else "miss", "note": fmt.note}
            return raw, meta
    return None


def _named_classes(spec: Spec, raw: RawDataset, directory: Path) -> RawDataset:
    """An image-folder tree labels classes by its sorted folders: they must be the spec's, in
    its order, or every label would silently mean another class."""
    expected = spec.folders or spec.class_names
    if tuple(raw.class_names) != tuple(expected):
        raise DatasetError(f"{directory} holds class folders {', '.join(raw.class_names)}, not {spec.name}'s "
                           f"{', '.join(expected)}; use the tree from the data README, or folder:PATH for "
                           f"a dataset of your own")
    return raw._replace(class_names=spec.class_names)


def _read_tfds(spec: Spec, download: bool | None, searched: list[str]):
    directory = tfds_source.data_dir()
    try:
        raw = tfds_source.read(spec.tfds_name, directory, False, spec.class_names)
        return raw, {"source": f"tfds: {spec.tfds_name}", "path": str(directory)}
    except Exception:
        searched.append(f"TFDS prepared {spec.tfds_name!r} in {directory}")
    if download is False:
        searched.append("TFDS download (disabled)")
        return None
    if not tfds_source.internet_reachable():
        searched.append("TFDS download (no internet)")
        return None
    try:
        raw = tfds_source.read(spec.tfds_name, directory, True, spec.class_names)
        return raw, {"source": f"tfds download: {spec.tfds_name}", "path": str(directory)}
    except Exception as e:
        searched.append(f"TFDS download ({type(e).__name__}: {str(e).splitlines()[0][:200]})")
        return None


def _read_folder(path_text: str, size: int, channels: int):
    path = Path(path_text).expanduser()
    if not path.exists():
        raise DatasetError(f"image folder {path} does not exist; give folder:/path/to/tree "
                           f"with train/<class>/*.jpg|png inside (or a .tar.gz of it)")
    paths = image_folder.find(path)
    if not paths:
        raise DatasetError(f"{path} is not an image-folder tree: it needs train/<class>/ "
                           f"folders of images, or must be a single .tar.gz of such a tree")
    with _reading(path):
        checksum = files_checksum(paths)
        key = {"name": "folder", "checksum": checksum, "size": size, "channels": channels}
        raw, hit = cache.cached(key, lambda: preprocess.to_resolution(
            image_folder.read(paths, size), size, channels))
    meta = {"source": "raw: image-folder tree", "path": str(paths[0]), "checksum": checksum,
            "decode_cache": "hit" if hit else "miss", "note": ""}
    return raw, meta


def display_name(name: str) -> str:
    """The name a loaded dataset carries: a registry name as it is, a folder by its stem."""
    if name.startswith("folder:"):
        return Path(name[len("folder:"):]).name.split(".")[0] or "folder"
    return name


def load(name: str, data_dir=None, image_size: int = 16, channels: int = 3,
         val_fraction: float = 0.1, test_fraction: float = 0.2, seed: int = 0,
         download: bool | None = None) -> Dataset:
    """Loads ``name`` (a registry name or ``folder:/path``) in the uniform form.

    Args:
      data_dir: where raw files live; defaults to ``$DIMO_DATA_DIR``.
      image_size, channels: every image becomes uint8 [image_size, image_size, channels].
      val_fraction: validation carved from train, deterministically from ``seed``.
      test_fraction: test carved from train when a source has no test split.
      download: False never downloads; None/True downloads through TFDS when online.
    """
    if image_size < 4 or image_size % 4:
        raise DatasetError(f"image_size must be a positive multiple of 4, got {image_size}")
    searched: list[str] = []
    if name.startswith("folder:"):
        raw, meta = _read_folder(name[len("folder:"):], image_size, channels)
        display = display_name("folder:" + meta["path"])
        num_classes = len(raw.class_names)
    else:
        spec = get_spec(name)
        display, num_classes = name, spec.num_classes
        found = None
        if spec.bundled is not None:
            found = preprocess.to_resolution(spec.bundled(), image_size, channels), {
                "source": "bundled: scikit-learn load_digits", "path": "", "note": ""}
        if found is None:
            root = resolve_data_dir(data_dir)
            if root is not None:
                found = _read_raw(spec, root, image_size, channels, searched)
            else:
                searched.append("raw files (no --data_dir and DIMO_DATA_DIR unset)")
        if found is None and spec.tfds_name:
            found = _read_tfds(spec, download, searched)
            if found is not None:
                found = preprocess.to_resolution(found[0], image_size, channels), found[1]
        if found is None:
            fixes = "; ".join(f"{fmt.expected} in <data_dir>/{folders[0]}" for fmt, folders in spec.raw)
            raise DatasetError(
                f"no data for {name!r}: searched {'; '.join(searched)}. Fix: put {fixes} and pass "
                f"--data_dir (or set DIMO_DATA_DIR), or run online so TFDS can download it")
        raw, meta = found
    _say_note(display, meta)
    return _assemble(display, raw, meta, num_classes, val_fraction, test_fraction, seed)


_noted: set[tuple[str, str]] = set()


def _say_note(name: str, meta: dict) -> None:
    """One stderr line per process when a dataset comes from a copy with a caveat (the lossy
    CIFAR-10 JPEGs): figures on it are not figures on the original."""
    if meta.get("note") and (name, meta.get("path", "")) not in _noted:
        _noted.add((name, meta.get("path", "")))
        print(f"note: {name} is read from {meta.get('path')}: {meta['note']}; its figures are "
              f"not comparable with ones on the original", file=sys.stderr)


def _assemble(name, raw: RawDataset, meta, num_classes, val_fraction, test_fraction, seed) -> Dataset:
    where = meta.get("path") or name
    train_x, train_y = raw.train_images, preprocess.check_labels(raw.train_labels, num_classes, where)
    if raw.test_images is None:
        keep, held = preprocess.carve(len(train_y), test_fraction, seed + 1)
        test_x, test_y = train_x[held], train_y[held]
        train_x, train_y = train_x[keep], train_y[keep]
        meta = {**meta, "test_split": f"carved: {test_fraction:.0%} of train (seed {seed + 1})"}
    else:
        test_x, test_y = raw.test_images, preprocess.check_labels(raw.test_labels, num_classes, where)
    keep, held = preprocess.carve(len(train_y), val_fraction, seed)
    mean, std = preprocess.channel_stats(train_x[keep])
    class_names = tuple(raw.class_names) if len(raw.class_names) == num_classes else \
        tuple(str(i) for i in range(num_classes))
    metadata = {"name": name, **meta, "original_shape": list(raw.original_shape or train_x.shape[1:]),
                "num_classes": num_classes, "image_shape": list(train_x.shape[1:]),
                "val_split": f"carved: {val_fraction:.0%} of train (seed {seed})"}
    return Dataset(name, train_x[keep], train_y[keep], train_x[held], train_y[held],
                   test_x, test_y, class_names, mean, std, metadata)

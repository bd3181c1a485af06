"""The original CIFAR-10/100 archives: python (pickled batches) or binary, packed or extracted."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

from datasets_meta.base import DatasetError, RawDataset, check_lengths

# variant -> (python archive, python folder, binary archive, binary folder)
LAYOUT = {
    "cifar10": ("cifar-10-python.tar.gz", "cifar-10-batches-py",
                "cifar-10-binary.tar.gz", "cifar-10-batches-bin"),
    "cifar100": ("cifar-100-python.tar.gz", "cifar-100-python",
                 "cifar-100-binary.tar.gz", "cifar-100-binary"),
}


def find(directory: Path, variant: str) -> list[Path] | None:
    """The archive or extracted folder of ``variant`` in (or being) ``directory``."""
    py_tar, py_dir, bin_tar, bin_dir = LAYOUT[variant]
    for candidate in (directory / py_tar, directory / py_dir, directory / bin_tar, directory / bin_dir):
        if candidate.exists():
            return [candidate]
    if directory.name in (py_dir, bin_dir):
        return [directory]
    return None


def _members(source: Path) -> dict[str, bytes]:
    """File name -> bytes for every regular file of the archive or folder."""
    try:
        if source.is_dir():
            return {p.name: p.read_bytes() for p in source.iterdir() if p.is_file()}
        with tarfile.open(source) as tar:
            return {Path(m.name).name: tar.extractfile(m).read() for m in tar if m.isfile()}
    except (tarfile.TarError, EOFError, OSError) as e:
        raise DatasetError(f"cannot read {source}: {e} (truncated or corrupt archive?); "
                           f"replace it with a fresh download") from None


def _unpickle(blob: bytes, name: str) -> dict:
    try:
        return pickle.load(io.BytesIO(blob), encoding="bytes")
    except Exception as e:  # a damaged pickle raises many types
        raise DatasetError(f"CIFAR batch {name!r} does not unpickle ({e}); replace the archive") from None


def _python(files: dict[str, bytes], variant: str):
    label_key = b"labels" if variant == "cifar10" else b"fine_labels"
    if variant == "cifar10":
        train_names = [f"data_batch_{i}" for i in range(1, 6)]
        test_names, meta_name, names_key = ["test_batch"], "batches.meta", b"label_names"
    else:
        train_names, test_names, meta_name, names_key = ["train"], ["test"], "meta", b"fine_label_names"

    def batches(names):
        missing = [n for n in names if n not in files]
        if missing:
            raise DatasetError(f"CIFAR archive lacks {', '.join(missing)}; it is incomplete, "
                               f"replace it with a fresh download")
        dicts = [_unpickle(files[n], n) for n in names]
        x = np.concatenate([np.asarray(d[b"data"], np.uint8) for d in dicts])
        y = np.concatenate([np.asarray(d[label_key], np.int64) for d in dicts])
        check_lengths(x, y, f"CIFAR batches {', '.join(names)}")
        return x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y

    meta = _unpickle(files[meta_name], meta_name) if meta_name in files else {}
    classes = tuple(n.decode() for n in meta.get(names_key, []))
    return batches(train_names), batches(test_names), classes


def _binary(files: dict[str, bytes], variant: str):
    if variant == "cifar10":
        train_names = [f"data_batch_{i}.bin" for i in range(1, 6)]
        test_names, label_bytes, names_file = ["test_batch.bin"], 1, "batches.meta.txt"
    else:
        train_names, test_names, label_bytes, names_file = ["train.bin"], ["test.bin"], 2, "fine_label_names.txt"
    record = label_bytes + 3072

    def batches(names):
        missing = [n for n in names if n not in files]
        if missing:
            raise DatasetError(f"CIFAR archive lacks {', '.join(missing)}; replace it")
        blob = b"".join(files[n] for n in names)
        if len(blob) % record:
            raise DatasetError(f"CIFAR binary batches {names} are truncated "
                               f"({len(blob)} bytes, not a multiple of {record}); replace them")
        rows = np.frombuffer(blob, np.uint8).reshape(-1, record)
        # CIFAR-100 records start with (coarse, fine) labels; the fine label is the class.
        y = rows[:, label_bytes - 1].astype(np.int64)
        return rows[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y

    text = files.get(names_file, b"").decode()
    classes = tuple(line.strip() for line in text.splitlines() if line.strip())
    return batches(train_names), batches(test_names), classes


def read(paths: list[Path], variant: str, default_classes: tuple[str, ...]) -> RawDataset:
    files = _members(paths[0])
    parse = _binary if any(n.endswith(".bin") for n in files) else _python
    (train_x, train_y), (test_x, test_y), classes = parse(files, variant)
    return RawDataset(train_x, train_y, test_x, test_y, classes or default_classes)

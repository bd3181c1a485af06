"""Writers of small files in the real on-disk formats, shared by the data tests."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + np.ascontiguousarray(array, np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_mnist_like(folder: Path, n_train=30, n_test=10, size=28, classes=10, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, size, size), np.uint8),
              "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % classes,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, size, size), np.uint8),
              "t10k-labels-idx1-ubyte": np.arange(n_test, dtype=np.uint8) % classes}
    for stem, array in arrays.items():
        write_idx(folder / (stem + ".gz"), array)
    return arrays


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return path


def write_cifar10_python(folder: Path, per_batch=4, n_test=6, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    members = {}
    for i, name in enumerate([f"data_batch_{b}" for b in range(1, 6)] + ["test_batch"]):
        n = n_test if name == "test_batch" else per_batch
        batch = {b"data": rng.integers(0, 256, (n, 3072), np.uint8),
                 b"labels": [(i + j) % 10 for j in range(n)]}
        members[f"cifar-10-batches-py/{name}"] = pickle.dumps(batch)
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps(
        {b"label_names": [f"c{i}".encode() for i in range(10)]})
    return _tar(folder / "cifar-10-python.tar.gz", members)


def write_cifar10_binary(folder: Path, per_batch=3, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    members = {}
    for name in [f"data_batch_{b}.bin" for b in range(1, 6)] + ["test_batch.bin"]:
        labels = rng.integers(0, 10, per_batch, np.uint8)
        rows = np.concatenate([labels[:, None], rng.integers(0, 256, (per_batch, 3072), np.uint8)], 1)
        members[f"cifar-10-batches-bin/{name}"] = rows.tobytes()
    members["cifar-10-batches-bin/batches.meta.txt"] = "\n".join(f"b{i}" for i in range(10)).encode()
    return _tar(folder / "cifar-10-binary.tar.gz", members)


def write_cifar100_python(folder: Path, n=200, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    members = {}
    for name in ("train", "test"):
        members[f"cifar-100-python/{name}"] = pickle.dumps(
            {b"data": rng.integers(0, 256, (n, 3072), np.uint8),
             b"fine_labels": list(np.arange(n) % 100), b"coarse_labels": list(np.arange(n) % 20)})
    members["cifar-100-python/meta"] = pickle.dumps(
        {b"fine_label_names": [f"f{i}".encode() for i in range(100)]})
    return _tar(folder / "cifar-100-python.tar.gz", members)


def write_svhn(folder: Path, n_train=20, n_test=10, seed=0) -> dict:
    import scipy.io

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    labels = {}
    for name, n in (("train", n_train), ("test", n_test)):
        y = (np.arange(n) % 10 + 1).reshape(-1, 1)  # SVHN's 1..10, 10 meaning digit 0
        scipy.io.savemat(folder / f"{name}_32x32.mat",
                         {"X": rng.integers(0, 256, (32, 32, 3, n), np.uint8), "y": y})
        labels[name] = y.reshape(-1)
    return labels


def png_bytes(array: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def image_tree_members(classes=("cat", "dog", "emu"), per_class=4, test_per_class=2, size=20,
                       top="") -> dict[str, bytes]:
    """A tree whose images are solid colours, so the class of a decoded image can be checked."""
    members = {}
    for k, cls in enumerate(classes):
        colour = np.zeros((size, size, 3), np.uint8)
        colour[..., k % 3] = (60 + 60 * k) % 256
        for split, count in (("train", per_class), ("test", test_per_class)):
            for j in range(count):
                members[f"{top}{split}/{cls}/{j:04d}.png"] = png_bytes(colour)
    return members


def write_image_tree(root: Path, members: dict[str, bytes]) -> Path:
    for name, blob in members.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    return root


def write_image_tarball(path: Path, members: dict[str, bytes]) -> Path:
    return _tar(path, members)

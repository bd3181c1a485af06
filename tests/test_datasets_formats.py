"""Every raw format, written small by the tests in its real layout, read through ``load``."""

import gzip

import numpy as np
import pytest
import tensorflow_datasets as tfds

import data_files as files
from datasets_meta import DatasetError, known_names, load


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIMO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DIMO_DATA_DIR", raising=False)


def _all_images(ds):
    return np.concatenate([ds.train_images, ds.val_images]), np.concatenate([ds.train_labels, ds.val_labels])


def test_registry_names():
    assert {"mnist", "fashion_mnist", "cifar10", "svhn", "cifar100", "kmnist", "tiny_imagenet20",
            "digits"} <= set(known_names())


def test_digits_needs_no_data_dir():
    ds = load("digits", image_size=16)
    assert ds.num_classes == 10 and ds.image_shape == (16, 16, 3)
    assert sum(ds.sizes().values()) == 1797
    assert ds.metadata["source"].startswith("bundled")


def test_idx_gz_files(tmp_path):
    arrays = files.write_mnist_like(tmp_path / "mnist")
    ds = load("mnist", data_dir=tmp_path, image_size=28, channels=1, val_fraction=0.2)
    assert ds.sizes() == {"train": 24, "val": 6, "test": 10}
    assert ds.metadata["source"] == "raw: idx files" and ds.metadata["original_shape"] == [28, 28, 1]
    images, labels = _all_images(ds)
    # Every decoded image is one of the written ones, with its own label.
    written = {arrays["train-images-idx3-ubyte"][i].tobytes(): arrays["train-labels-idx1-ubyte"][i]
               for i in range(30)}
    for image, label in zip(images, labels):
        assert written[image[..., 0].tobytes()] == label
    np.testing.assert_array_equal(ds.test_images[..., 0], arrays["t10k-images-idx3-ubyte"])


def test_grey_to_rgb_and_resize(tmp_path):
    files.write_mnist_like(tmp_path / "mnist")
    ds = load("mnist", data_dir=tmp_path, image_size=16, channels=3)
    assert ds.image_shape == (16, 16, 3)
    np.testing.assert_array_equal(ds.train_images[..., 0], ds.train_images[..., 2])


def test_cifar10_python_archive(tmp_path):
    files.write_cifar10_python(tmp_path / "cifar10")
    ds = load("cifar10", data_dir=tmp_path, image_size=32)
    assert sum(len(x) for x in (ds.train_labels, ds.val_labels)) == 20
    assert len(ds.test_labels) == 6 and ds.class_names[3] == "c3"
    assert ds.metadata["source"] == "raw: cifar10 archive"


def test_cifar10_python_pixels_are_row_major_channel_planes(tmp_path):
    # CIFAR stores each image as 1024 red, then 1024 green, then 1024 blue bytes.
    files.write_cifar10_python(tmp_path / "cifar10", n_test=1)
    import pickle
    import tarfile
    with tarfile.open(tmp_path / "cifar10" / "cifar-10-python.tar.gz") as tar:
        test = pickle.load(tar.extractfile("cifar-10-batches-py/test_batch"), encoding="bytes")
    ds = load("cifar10", data_dir=tmp_path, image_size=32)
    row = test[b"data"][0]
    np.testing.assert_array_equal(ds.test_images[0, :, :, 1], row[1024:2048].reshape(32, 32))


def test_cifar10_binary_archive(tmp_path):
    files.write_cifar10_binary(tmp_path / "cifar10")
    ds = load("cifar10", data_dir=tmp_path, image_size=32)
    assert len(ds.test_labels) == 3 and ds.class_names[0] == "b0"


def test_cifar100_python_archive(tmp_path):
    files.write_cifar100_python(tmp_path / "cifar100")
    ds = load("cifar100", data_dir=tmp_path, image_size=32)
    assert ds.num_classes == 100 and ds.class_names[99] == "f99"
    assert set(ds.test_labels.tolist()) == set(range(100))


def test_svhn_mat_label_10_means_digit_0(tmp_path):
    written = files.write_svhn(tmp_path / "svhn")
    ds = load("svhn", data_dir=tmp_path, image_size=32)
    expected = written["test"] % 10
    np.testing.assert_array_equal(ds.test_labels, expected)
    assert ds.test_labels.min() == 0 and ds.test_labels.max() == 9


@pytest.mark.parametrize("top", ["", "mydata/"])
def test_image_folder_tarball_and_directory(tmp_path, top):
    members = files.image_tree_members(top=top)
    tarball = files.write_image_tarball(tmp_path / "tree.tar.gz", members)
    directory = files.write_image_tree(tmp_path / "tree_dir", files.image_tree_members())
    for source in (tarball, directory):
        ds = load(f"folder:{source}", image_size=16, val_fraction=0.25)
        assert ds.class_names == ("cat", "dog", "emu")
        assert ds.sizes() == {"train": 9, "val": 3, "test": 6}
        images, labels = _all_images(ds)
        for image, label in zip(images, labels):  # each class has its own solid colour
            assert image[..., label % 3].mean() == pytest.approx(60 + 60 * label, abs=1)
        assert ds.metadata["original_shape"] == [20, 20, 3]


def test_a_named_datasets_image_tree_gets_its_class_names_only_from_its_own_folders(tmp_path):
    kmnist_folders = [f"{i}_{n}" for i, n in enumerate(("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"))]
    files.write_image_tree(tmp_path / "kmnist", files.image_tree_members(classes=kmnist_folders, size=8))
    ds = load("kmnist", tmp_path, image_size=8, download=False)
    assert ds.class_names[:2] == ("o", "ki") and "partial train split" in ds.metadata["note"]
    # Folders in another order (or other classes) would relabel every image: refused.
    files.write_image_tree(tmp_path / "tiny_imagenet20", files.image_tree_members(classes=("a", "b"), size=8))
    with pytest.raises(DatasetError, match="holds class folders a, b, not tiny_imagenet20's n01443537"):
        load("tiny_imagenet20", tmp_path, image_size=8)


def test_image_folder_without_test_split_gets_one_carved(tmp_path):
    members = {k: v for k, v in files.image_tree_members(per_class=10).items() if k.startswith("train")}
    ds = load(f"folder:{files.write_image_tree(tmp_path / 't', members)}", image_size=8, seed=3)
    assert ds.sizes()["test"] == 6 and "carved" in ds.metadata["test_split"]


def test_tfds_prepared_data_through_mock(tmp_path):
    with tfds.testing.mock_data(num_examples=20):
        ds = load("kmnist", data_dir=tmp_path, image_size=16, download=False)
    assert ds.metadata["source"] == "tfds: kmnist"
    assert ds.sizes() == {"train": 18, "val": 2, "test": 20}
    assert ds.image_shape == (16, 16, 3)


def test_split_is_deterministic_and_seeded(tmp_path):
    files.write_mnist_like(tmp_path / "mnist", n_train=50)
    a = load("mnist", data_dir=tmp_path, seed=1)
    b = load("mnist", data_dir=tmp_path, seed=1)
    c = load("mnist", data_dir=tmp_path, seed=2)
    np.testing.assert_array_equal(a.val_images, b.val_images)
    assert not np.array_equal(a.val_images, c.val_images)


# -- bad inputs: one line, names the problem, DatasetError (no library traceback) --------------

def _one_line_error(fn, *fragments):
    with pytest.raises(DatasetError) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    assert info.value.__cause__ is None  # no chained library exception
    return message


def test_unknown_name_lists_known_ones():
    _one_line_error(lambda: load("imagenet"), "unknown dataset 'imagenet'", "mnist", "digits")


def test_missing_data_directory(tmp_path):
    _one_line_error(lambda: load("mnist", data_dir=tmp_path / "nope"), "does not exist", "nope")


def test_nothing_found_says_where_it_looked(tmp_path):
    message = _one_line_error(lambda: load("svhn", data_dir=tmp_path, download=False),
                              "no data for 'svhn'", str(tmp_path / "svhn"), "train_32x32.mat")
    assert "TFDS" in message


def test_truncated_gz(tmp_path):
    files.write_mnist_like(tmp_path / "mnist")
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    _one_line_error(lambda: load("mnist", data_dir=tmp_path), "train-images-idx3-ubyte.gz", "truncated")


def test_wrong_magic_number(tmp_path):
    files.write_mnist_like(tmp_path / "mnist")
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[2] = 0x0D  # float32 instead of unsigned byte
    path.write_bytes(gzip.compress(bytes(data)))
    _one_line_error(lambda: load("mnist", data_dir=tmp_path), "t10k-labels-idx1-ubyte.gz", "magic")


def test_label_count_differs_from_image_count(tmp_path):
    files.write_mnist_like(tmp_path / "mnist")
    files.write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(29, np.uint8))
    _one_line_error(lambda: load("mnist", data_dir=tmp_path), "30 images but 29 labels")


def test_empty_class_folder(tmp_path):
    root = files.write_image_tree(tmp_path / "tree", files.image_tree_members())
    (root / "train" / "yak").mkdir()
    _one_line_error(lambda: load(f"folder:{root}"), "train/yak", "no images")


def test_empty_class_folder_in_tarball(tmp_path):
    import io
    import tarfile
    path = files.write_image_tarball(tmp_path / "t.tar.gz", files.image_tree_members())
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]
    with tarfile.open(path, "w:gz") as tar:
        for m, blob in members:
            tar.addfile(m, io.BytesIO(blob))
        empty = tarfile.TarInfo("train/yak")
        empty.type = tarfile.DIRTYPE
        tar.addfile(empty)
    _one_line_error(lambda: load(f"folder:{path}"), "train/yak", "no images")


def test_undecodable_image(tmp_path):
    root = files.write_image_tree(tmp_path / "tree", files.image_tree_members())
    (root / "train" / "dog" / "0001.png").write_bytes(b"not a png at all")
    _one_line_error(lambda: load(f"folder:{root}"), "0001.png", "does not decode")


def test_truncated_tarball(tmp_path):
    path = files.write_image_tarball(tmp_path / "t.tar.gz", files.image_tree_members())
    path.write_bytes(path.read_bytes()[:300])
    _one_line_error(lambda: load(f"folder:{path}"), "t.tar.gz")


def test_labels_outside_class_range(tmp_path):
    files.write_mnist_like(tmp_path / "mnist")
    files.write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.full(30, 12, np.uint8))
    _one_line_error(lambda: load("mnist", data_dir=tmp_path), "outside 0..9")


def test_nothing_is_written_into_the_data_directory(tmp_path):
    files.write_mnist_like(tmp_path / "mnist")
    before = sorted(p.name for p in (tmp_path / "mnist").rglob("*"))
    load("mnist", data_dir=tmp_path)
    load("mnist", data_dir=tmp_path)
    assert sorted(p.name for p in (tmp_path / "mnist").rglob("*")) == before

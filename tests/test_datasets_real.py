"""The real datasets in ``$DIMO_DATA_DIR`` (``../shared/data`` in CI)."""

import os
import time
from pathlib import Path

import numpy as np
import pytest

from datasets_meta import load
from datasets_meta.inspect import main as inspect_main

DATA_DIR = os.environ.get("DIMO_DATA_DIR")
needs_data = pytest.mark.skipif(not DATA_DIR or not Path(DATA_DIR, "mnist").is_dir(),
                                reason="real data: set DIMO_DATA_DIR=../shared/data")


@needs_data
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_official_sizes_of_the_mnists(name):
    ds = load(name, image_size=16)
    sizes = ds.sizes()
    assert sizes["train"] + sizes["val"] == 60_000 and sizes["test"] == 10_000
    assert ds.num_classes == 10
    counts = np.bincount(np.concatenate([ds.train_labels, ds.val_labels]), minlength=10)
    assert counts.min() > 5000  # every digit/garment class is well represented
    assert ds.metadata["original_shape"] == [28, 28, 1]


@needs_data
def test_cifar10_from_the_jpeg_tarball_and_the_decode_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIMO_CACHE_DIR", str(tmp_path))  # a cold cache for this test
    start = time.perf_counter()
    first = load("cifar10", image_size=16)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    second = load("cifar10", image_size=16)
    warm = time.perf_counter() - start
    print(f"cifar10 tarball load: first {cold:.2f} s, second {warm:.2f} s ({cold / warm:.0f}x)")
    assert first.metadata["decode_cache"] == "miss" and second.metadata["decode_cache"] == "hit"
    assert cold >= 10 * warm
    sizes = first.sizes()
    assert sizes["train"] + sizes["val"] == 50_000 and sizes["test"] == 10_000
    counts = np.bincount(np.concatenate([first.train_labels, first.val_labels]), minlength=10)
    np.testing.assert_array_equal(counts, 5000)
    np.testing.assert_array_equal(np.bincount(first.test_labels), 1000)
    assert "JPEG" in first.metadata["note"]
    assert first.class_names[0] == "airplane" and first.class_names[9] == "truck"
    np.testing.assert_array_equal(first.train_images, second.train_images)
    # Real CIFAR-10 channel means (the official 0.4914, 0.4822, 0.4465).
    np.testing.assert_allclose(first.mean, [0.4914, 0.4822, 0.4465], atol=0.003)


@needs_data
@pytest.mark.parametrize("name, train, test, classes, caveat, first_class", [
    ("kmnist", 7_011, 10_000, 10, "partial train split", "o"),
    ("tiny_imagenet20", 10_000, 1_000, 20, "official validation images", "goldfish")])
def test_the_partial_kmnist_and_tiny_imagenet20_copies(tmp_path, capsys, name, train, test, classes,
                                                      caveat, first_class):
    out = tmp_path / "grid.png"
    assert inspect_main([name, "--image_size", "16", "--out", str(out), "--no_download"]) == 0
    printed = capsys.readouterr()
    assert caveat in printed.out and f"note: {name} is read from" in printed.err  # said, as for cifar10
    ds = load(name, image_size=16)
    sizes = ds.sizes()
    assert (sizes["train"] + sizes["val"], sizes["test"], ds.num_classes) == (train, test, classes)
    assert ds.class_names[0] == first_class and np.bincount(ds.test_labels).min() == test // classes
    assert ds.image_shape == (16, 16, 3) and out.stat().st_size > 1000


def test_inspect_cli_prints_and_writes_a_grid(tmp_path, capsys):
    out = tmp_path / "digits.png"
    assert inspect_main(["digits", "--image_size", "16", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "bundled" in printed and "classes      10" in printed
    assert out.stat().st_size > 1000


def test_inspect_cli_bad_name_exits_nonzero(capsys):
    assert inspect_main(["nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown dataset 'nope'") and err.count("\n") == 1

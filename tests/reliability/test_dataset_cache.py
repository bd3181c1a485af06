"""The dataset decode cache: damaged or half-written entries are rebuilt with one line,
and two processes decoding one dataset at once both end with a correct entry.

The source is a small MNIST in its real (IDX, gzip) format written by the test; the cache
is a fresh ``DIMO_CACHE_DIR``.
"""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from data_files import write_mnist_like

from datasets_meta import load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def source(tmp_path, monkeypatch):
    write_mnist_like(tmp_path / "data" / "mnist", n_train=60, n_test=20)
    monkeypatch.setenv("DIMO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def _entries(root):
    return sorted((root / "cache" / "datasets").glob("*.npz"))


def _same(a, b):
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("train_images", "train_labels",
                                                                       "val_images", "test_images"))


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_entry_is_rebuilt_from_the_source_with_one_line(source, damage, capsys):
    first = load("mnist", source / "data", image_size=8, channels=1)
    assert first.metadata["decode_cache"] == "miss" and capsys.readouterr().err == ""
    (entry,) = _entries(source)
    data = bytearray(entry.read_bytes())
    if damage == "flip":  # a byte inside the image arrays, the zip structure left whole
        data[len(data) // 2] ^= 0xFF
    else:  # what a copy cut short leaves
        data = data[: len(data) // 2]
    entry.write_bytes(bytes(data))

    again = load("mnist", source / "data", image_size=8, channels=1)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"warning: dataset cache {entry} is damaged"), lines
    assert again.metadata["decode_cache"] == "miss" and _same(again, first)
    third = load("mnist", source / "data", image_size=8, channels=1)  # rebuilt: a clean hit
    assert third.metadata["decode_cache"] == "hit" and _same(third, first) and capsys.readouterr().err == ""


def test_two_processes_decoding_at_once_both_leave_a_correct_entry(source):
    write_mnist_like(source / "data" / "mnist", n_train=6000, n_test=1000)  # decoding takes a while
    # Each process signals it is ready, then waits for "go": both look up the cache together.
    code = ("import pathlib, sys, time; from datasets_meta import load; root = pathlib.Path(sys.argv[1]); "
            "(root / sys.argv[2]).touch()\n"
            "while not (root / 'go').exists(): time.sleep(0.001)\n"
            "d = load('mnist', root / 'data', image_size=8, channels=1); print(d.metadata['decode_cache'])")
    env = {**os.environ, "PYTHONPATH": ROOT}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(source), f"ready{i}"], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    while not all((source / f"ready{i}").exists() for i in range(2)):
        assert all(p.poll() is None for p in procs), [p.communicate()[1][-2000:] for p in procs]
        time.sleep(0.01)
    (source / "go").touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    assert [o[0].strip() for o in outs] == ["miss", "miss"]  # both decoded and wrote
    (entry,) = _entries(source)  # one entry, no temporary file left
    assert not list(entry.parent.glob("*.tmp"))
    cached = load("mnist", source / "data", image_size=8, channels=1)
    assert cached.metadata["decode_cache"] == "hit"
    os.environ["DIMO_CACHE_DIR"] = str(source / "fresh")  # (monkeypatch restores it)
    assert _same(cached, load("mnist", source / "data", image_size=8, channels=1))

"""Read-only or missing places: one line, exit 2, nothing half-written left behind.

A read-only workdir is a real read-only tmpfs (root only; skipped otherwise), a cache
directory that cannot be created sits under a regular file, and the data directory is a
small MNIST in its real format, removed while the run goes on.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest
from data_files import write_mnist_like
from helpers import ROOT, SMOKE, metrics_lines, run_train_meta
from mounts import remount, tmpfs

from datasets_meta import DatasetError, load, registry
from dimo.meta import meta_train
from dimo.configs import smoke


def _one_error_line(code, err, start):
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(start), err[-3000:]
    return lines[0]


def _tree(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_read_only_workdir_is_refused_in_one_line_and_left_as_it_was(smoke_workdir, tmp_path):
    with tmpfs(tmp_path / "ro", 8192) as mount:
        shutil.copytree(smoke_workdir, mount / "run")
        remount(mount, "ro")
        before = _tree(mount / "run")
        line = _one_error_line(*run_train_meta(*SMOKE, "--workdir", mount / "run", "--resume"), "error: cannot write")
        assert "Read-only file system" in line
        _one_error_line(*run_train_meta(*SMOKE, "--workdir", mount / "new"), "error: cannot write")
        assert _tree(mount / "run") == before and not (mount / "new").exists()
        # Reading a finished run from a read-only place still works, and on one device the run
        # that meta-trained on the tests' four (orbax restores onto this process's devices).
        env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=1"}
        done = subprocess.run([sys.executable, "-m", "dimo.cli.main", "propose", "--workdir", str(mount / "run"),
                               "--dataset", "digits", "--out", str(tmp_path / "cell.png")],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and "meta-step 6" in done.stdout, done.stderr[-3000:]
        assert done.stderr.strip().splitlines() == [  # nothing but the seen-dataset note
            line for line in done.stderr.strip().splitlines() if line.startswith("warning: digits was")]


def test_a_cache_directory_that_cannot_be_created_is_one_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    env = {**os.environ, "DIMO_CACHE_DIR": str(blocker / "cache")}
    env.pop("DIMO_COMPILATION_CACHE", None)
    done = subprocess.run([sys.executable, str(ROOT / "train_meta.py"), *SMOKE, "--workdir", str(tmp_path / "run")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    line = _one_error_line(done.returncode, done.stderr, "error: cannot create the cache directory")
    assert "DIMO_CACHE_DIR" in line and not (tmp_path / "run").exists()


@pytest.mark.e2e  # a meta-training run of its own: ~25 s of tracing or compiling on the worker
def test_the_data_directory_vanishing_mid_run_changes_nothing(tmp_path, monkeypatch):
    # Every dataset is read into memory before the first meta-step, so a run goes on.
    # (In this process, as the SIGINT test: a real process would add ~20 s of start-up.)
    write_mnist_like(tmp_path / "data" / "mnist", n_train=600, n_test=100)
    monkeypatch.setenv("DIMO_CACHE_DIR", str(tmp_path / "cache"))  # decoded from the source
    workdir = tmp_path / "run"

    removed_after = []

    def remove_after_the_first_step():
        while not metrics_lines(workdir):
            time.sleep(0.005)
        shutil.rmtree(tmp_path / "data")
        removed_after.append(len(metrics_lines(workdir)))

    remover = threading.Thread(target=remove_after_the_first_step, daemon=True)
    remover.start()
    config = smoke.get_config()
    config.datasets, config.meta.steps = "mnist", 5
    meta_train.run(config, workdir, data_dir=tmp_path / "data", progress=False)
    remover.join(timeout=60)
    assert removed_after and removed_after[0] < 5  # it went while the run was on
    assert [json.loads(line)["step"] for line in metrics_lines(workdir)] == list(range(1, 6))


def test_the_data_directory_vanishing_while_it_is_read_is_one_line(tmp_path, monkeypatch):
    write_mnist_like(tmp_path / "data" / "mnist", n_train=60, n_test=20)
    monkeypatch.setenv("DIMO_CACHE_DIR", str(tmp_path / "cache"))
    checksum = registry.files_checksum

    def vanish_then_read(paths):  # the folder goes between finding the files and reading them
        shutil.rmtree(tmp_path / "data")
        return checksum(paths)

    monkeypatch.setattr(registry, "files_checksum", vanish_then_read)
    with pytest.raises(DatasetError, match="changed while it was read") as error:
        load("mnist", tmp_path / "data", image_size=8, channels=1)
    assert "\n" not in str(error.value) and not (tmp_path / "cache" / "datasets").exists()

"""Small real file systems for the reliability tests: a size-limited or read-only tmpfs.

Mounting needs root (CAP_SYS_ADMIN); where it is refused the tests that need it skip and
say why.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@contextlib.contextmanager
def tmpfs(where: Path, size_kib: int, read_only: bool = False):
    """A tmpfs of ``size_kib`` KiB mounted at ``where`` for the block; skips without root."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size_kib}k" + (",ro" if read_only else "")
    done = _mount("-t", "tmpfs", "-o", options, "tmpfs", str(where))
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def remount(where: Path, options: str) -> None:
    """Changes a mounted tmpfs's options (``size=...k``, ``ro``, ``rw``) in place."""
    done = _mount("-o", f"remount,{options}", str(where))
    assert done.returncode == 0, done.stderr

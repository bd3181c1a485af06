"""One live run per workdir: an advisory lock that dies with the process holding it.

``train_meta.py`` takes an exclusive ``fcntl.flock`` on ``<workdir>/.lock`` before it touches
anything there and holds it until it exits. The kernel drops the lock when the process
ends, however it ends (SIGKILL, out of memory, a node reboot), so a lock left by a killed
run never blocks a later ``--resume``: only a live holder does. The file keeps the holder's
process id, read by whoever is refused. (flock is per host: two hosts sharing a workdir
over NFS are not serialised by it.)
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = ".lock"


class WorkdirInUse(ValueError):
    """Another live process holds the workdir."""


class WorkdirLock:
    """Held from ``acquire`` until ``release`` or the process's end.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     lock = WorkdirLock(Path(d)).acquire()
    ...     lock.release()
    """

    def __init__(self, workdir: Path):
        self.path = Path(workdir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> "WorkdirLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise WorkdirInUse(f"workdir {self.path.parent} is in use by a running train_meta.py "
                               f"(process {holder}); wait for it to end, stop it, or choose "
                               f"another --workdir") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

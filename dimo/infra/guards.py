"""What ends a meta-training run early but cleanly: a stop signal, a full disk.

Both leave the workdir resumable: the last complete checkpoint and every metrics line
before it are kept, and ``train_meta.py --resume`` continues from them exactly.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import signal
import threading
from pathlib import Path

from dimo.infra import integrity


class DiskFull(RuntimeError):
    """The file system holding the workdir ran out of space during a write."""


class StopRequested:
    """SIGINT/SIGTERM ask the loop to stop after the current step and a checkpoint."""

    def __init__(self):
        self.signal = None
        self._previous = {}

    def __enter__(self):
        # Only the main thread may set handlers; elsewhere (a training in a worker thread) the
        # signals keep their default meaning.
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.signal = signal.Signals(signum).name

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` or anything in its chain is ENOSPC (or EDQUOT, a full quota).
    Orbax's writes go through tensorstore, which reports it as a ValueError carrying the
    OS's message, not as an OSError."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if _says_disk_full(str(error)):
            return True
        error = error.__cause__ or error.__context__
    return False


class _DiskFullEchoes(logging.Filter):
    """Drops the log records (orbax's writer threads, asyncio's unretrieved futures) that
    repeat a full disk's error with a traceback each: ``DiskFull``'s one line says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (_says_disk_full(record.getMessage()) or (error is not None and is_disk_full(error)))


def quiet_disk_full_echoes() -> None:
    """Installs the filter on the root logger's handlers (absl's among them), through which
    every library's records pass. For command-line entry points."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _DiskFullEchoes) for f in handler.filters):
            handler.addFilter(_DiskFullEchoes())


def _says_disk_full(text: str) -> bool:
    return any(s in text for s in ("No space left on device", "Disk quota exceeded", "RESOURCE_EXHAUSTED: Error writing"))


@contextlib.contextmanager
def disk_full_stops(workdir: Path):
    """Turns a full disk anywhere inside into one ``DiskFull`` line that says what survived,
    after removing orbax's half-written temporary folder (space the next save needs)."""
    try:
        yield
    except Exception as error:
        if not is_disk_full(error):
            raise
        checkpoints = Path(workdir) / "checkpoints"
        for partial in checkpoints.glob("*.orbax-checkpoint-tmp*"):
            shutil.rmtree(partial, ignore_errors=True)
        steps = integrity.saved_steps(checkpoints)
        kept = (f"checkpoint {steps[-1]} and the metrics through it are intact" if steps
                else "no checkpoint was complete yet")
        raise DiskFull(f"no space left on the disk holding {workdir}; {kept}. Free space, then "
                       f"run again with --resume") from None

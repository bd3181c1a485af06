"""Running ``train_meta.py`` as users do, in a real subprocess, for the reliability tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ["--config", str(ROOT / "configs" / "smoke.py"), "--progress=false"]


def train_meta(*args: str, **popen) -> subprocess.Popen:
    """``python train_meta.py ARGS`` with this process's environment (XLA flags, caches)."""
    return subprocess.Popen([sys.executable, str(ROOT / "train_meta.py"), *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ), **popen)


def run_train_meta(*args: str, timeout: float = 120) -> tuple[int, str]:
    """(exit status, stderr) of a train_meta.py run to its end."""
    proc = train_meta(*args)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def metrics_lines(workdir: Path) -> list[str]:
    path = Path(workdir) / "metrics.jsonl"
    return path.read_text().splitlines() if path.exists() else []


def wait_for_lines(proc: subprocess.Popen, workdir: Path, count: int, timeout: float = 300) -> None:
    """Polls until ``metrics.jsonl`` has ``count`` complete lines (the process must live)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = metrics_lines(workdir)
        if len(lines) >= count and all(_parses(line) for line in lines[:count]):
            return
        if proc.poll() is not None:
            raise AssertionError(f"train_meta.py ended (exit {proc.returncode}) before {count} "
                                 f"meta-steps:\n{proc.stderr.read()[-3000:]}")
        time.sleep(0.005)
    proc.kill()
    raise AssertionError(f"no {count} meta-steps within {timeout} s")


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True

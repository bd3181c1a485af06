"""Two runs on one workdir: a live holder refuses the second; a killed one blocks nothing.

Real ``train_meta.py`` processes on the smoke config; the lock is the kernel's (fcntl), so
the test kills a real holder with SIGKILL rather than imitating a stale lock file.
"""

import json
import signal

import pytest

from helpers import SMOKE, metrics_lines, run_train_meta, train_meta, wait_for_lines

from dimo.meta import meta_train
from dimo.configs import smoke

LONG = "--config.meta.steps=1000"


@pytest.mark.e2e
def test_a_live_run_refuses_a_second_and_a_killed_one_does_not_block_resume(tmp_path):
    workdir = tmp_path / "shared"
    holder = train_meta(*SMOKE, LONG, "--workdir", workdir)
    try:
        wait_for_lines(holder, workdir, 1)
        before = (workdir / "config.json").read_text()
        for extra in (["--resume"], ["--overwrite"]):  # (a plain start is refused the same way)
            code, err = run_train_meta(*SMOKE, LONG, "--workdir", workdir, *extra)
            lines = err.strip().splitlines()
            assert code == 2 and len(lines) == 1, err[-2000:]
            assert lines[0].startswith("error: workdir") and f"(process {holder.pid})" in lines[0], lines
        assert (workdir / "config.json").read_text() == before  # the refused runs wrote nothing
        assert holder.poll() is None  # and the holder runs on
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()

    # The killed holder's lock file is still there, its lock is not: --resume goes ahead.
    assert (workdir / ".lock").read_text().strip() == str(holder.pid)
    done = len(metrics_lines(workdir))
    config = smoke.get_config()  # (in this process: a third process would add only start-up time)
    config.meta.steps = done + 2
    meta_train.run(config, workdir, resume=True, progress=False)
    steps = [json.loads(line)["step"] for line in metrics_lines(workdir)]
    assert steps == list(range(1, done + 3))

"""Meta-training killed or stopped at any moment loses nothing and resumes exactly.

The killed runs are real ``train_meta.py`` processes on the smoke config; the reference
is the session's uninterrupted smoke run (``smoke_workdir``), same seed and config.
"""

import json
import os
import random
import shutil
import signal
import threading
import time

import pytest
from helpers import SMOKE, metrics_lines, train_meta, wait_for_lines

from dimo.configs import smoke
from dimo.infra import integrity
from dimo.meta import meta_train
from dimo.infra import workdir as workdirs

# Every step checkpoints, so a kill lands in a checkpoint write about as often as not.
EVERY_STEP = "--config.meta.checkpoint_every=1"
LONG = "--config.meta.steps=1000"  # killed long before the end; meta.steps may change on resume


def _comparable(lines):
    return [{k: v for k, v in json.loads(line).items() if k not in workdirs.TIMING_KEYS} for line in lines]


def _checkpoint_steps(workdir):
    return integrity.saved_steps(workdir / "checkpoints")


@pytest.mark.e2e
def test_sigkill_at_a_random_moment_then_resume_equals_an_uninterrupted_run(smoke_workdir, tmp_path):
    rng = random.Random()
    seed = rng.randrange(2 ** 32)
    rng.seed(seed)
    after_lines, delay = rng.randint(1, 3), rng.uniform(0.0, 0.15)
    where = f"(kill seed {seed}: after {after_lines} meta-steps + {delay:.3f} s)"
    workdir = tmp_path / "killed"
    proc = train_meta(*SMOKE, LONG, EVERY_STEP, "--workdir", workdir)
    wait_for_lines(proc, workdir, after_lines)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL, where

    # What a kill in the middle of writes leaves, whether or not this one did: a torn last
    # metrics line and a half-written checkpoint (orbax writes into a temporary folder and
    # renames it when complete, so that is the only partial form a checkpoint can take).
    with open(workdir / "metrics.jsonl", "a") as f:
        f.write('{"step": 999, "meta_lo')
    complete = _checkpoint_steps(workdir)
    if complete:  # (a kill before the first checkpoint completed resumes from scratch)
        partial = workdir / "checkpoints" / f"{complete[-1] + 1}.orbax-checkpoint-tmp-1234567"
        shutil.copytree(workdir / "checkpoints" / str(complete[-1]), partial)
        for f in partial.rglob("*"):
            if f.is_file():
                f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2])

    config = smoke.get_config()
    config.meta.checkpoint_every = 1
    meta_train.run(config, workdir, resume=True, progress=False)
    resumed = metrics_lines(workdir)
    reference = metrics_lines(smoke_workdir)
    steps = [json.loads(line)["step"] for line in resumed]  # every line parses: none torn
    assert steps == list(range(1, config.meta.steps + 1)), where  # none lost or duplicated
    assert _comparable(resumed) == _comparable(reference), where
    assert _checkpoint_steps(workdir)[-1] == config.meta.steps


def _assert_stopped_cleanly(workdir, sig_name: str, err: str):
    lines = metrics_lines(workdir)
    stopped_at = json.loads(lines[-1])["step"]
    assert f"{sig_name}: stopped after step {stopped_at}, checkpoint saved" in err
    # After orbax's first save (step 1) no checkpoint falls due: a later one is the stop's.
    assert stopped_at > 1 and _checkpoint_steps(workdir)[-1] == stopped_at
    assert [json.loads(line)["step"] for line in lines] == list(range(1, stopped_at + 1))
    assert (workdir / "summary.json").is_file()


@pytest.mark.e2e
def test_sigterm_stops_a_real_process_after_a_checkpoint(tmp_path):
    workdir = tmp_path / "stopped"
    proc = train_meta(*SMOKE, LONG, "--config.meta.checkpoint_every=1000", "--workdir", workdir)
    wait_for_lines(proc, workdir, 2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    _assert_stopped_cleanly(workdir, "SIGTERM", err)


def test_sigint_stops_after_a_checkpoint(smoke_workdir, tmp_path, capsys):
    # In-process (the same handler as SIGTERM's; a second real process would cost a trace).
    # After the session's smoke run (smoke_workdir), whose meta-step program this run shares:
    # it is then loaded, not compiled a second time beside the first.
    workdir = tmp_path / "stopped"

    def interrupt_after_two_steps():
        while len(metrics_lines(workdir)) < 2:
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_after_two_steps, daemon=True).start()
    config = smoke.get_config()
    config.meta.update(steps=1000, checkpoint_every=1000)
    meta_train.run(config, workdir, progress=False)
    _assert_stopped_cleanly(workdir, "SIGINT", capsys.readouterr().err)

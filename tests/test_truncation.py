"""Persistent inner states with staggered restarts (dimo.inner.truncation) in meta-training."""

import json
from pathlib import Path

import numpy as np
from persistent_smoke import persistent_smoke

from dimo.meta import meta_train

from dimo.inner import truncation
from dimo.infra import workdir as workdirs


def test_slots_restart_staggered_and_keep_their_task_until_then():
    life = 3
    restarts = np.array([np.asarray(truncation.fresh(step, 4, life)) for step in range(7)])
    assert restarts[0].all()  # all start at step 0, then every 3 meta-steps from offsets 0, 0, 1, 2
    assert restarts.sum(axis=0).tolist() == [3, 3, 3, 3]
    assert restarts[1:].sum(axis=1).min() >= 1 and restarts[1:].sum(axis=1).max() <= 2  # staggered
    for step in range(7):
        drawn = truncation.task_steps(step, 4, life)
        for slot in range(4):
            assert step - life < drawn[slot] <= step
            assert truncation.fresh(drawn[slot], 4, life)[slot]  # drawn when it last restarted


def _records(workdir):
    return [json.loads(l) for l in (Path(workdir) / "metrics.jsonl").read_text().splitlines()]


def test_persistent_meta_training_carries_networks_and_resumes_exactly(tmp_path):
    config = persistent_smoke()  # K = 3 inner steps, 4 task slots, each network lives 2 meta-steps
    config.meta.update(steps=4, checkpoint_every=2)
    # A fault scheduled past the run's end never fires (every injection is then an identity)
    # but compiles the fault hook in: this is the meta-step program the numerical-fault tests
    # compile (persistent states, hook in), one supernet meta-step compile fewer.
    config.debug.inject_faults = "1000:batch"
    meta_train.run(config, tmp_path / "whole", progress=False)
    whole = _records(tmp_path / "whole")
    ages = [[t["age"] for t in r["tasks"]] for r in whole]
    # Slots 0-1 restart at even steps, 2-3 at odd ones; a carried network is 3 steps old.
    assert ages == [[0, 0, 0, 0], [3, 3, 0, 0], [0, 0, 3, 3], [3, 3, 0, 0]]
    config.meta.steps = 2
    meta_train.run(config, tmp_path / "split", progress=False)
    config.meta.steps = 4
    meta_train.run(config, tmp_path / "split", resume=True, progress=False)
    comparable = lambda r: {k: v for k, v in r.items() if k not in workdirs.TIMING_KEYS}
    assert [comparable(r) for r in _records(tmp_path / "split")] == [comparable(r) for r in whole]

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


def test_age_weights_average_one_over_a_life_and_grow_with_age():
    steps, lifetime = 10, 200
    weights = [truncation.age_weight(age, steps, lifetime) for age in range(0, lifetime, steps)]
    assert np.isclose(np.mean(weights), 1.0) and np.all(np.diff(weights) > 0)
    assert np.isclose(weights[-1] / weights[0], lifetime / steps)  # scored at 200 steps against 10


def test_age_weighting_is_refused_without_persistent_states():
    import pytest

    from dimo.configs import smoke
    from dimo.inner.unroll import InnerConfig
    from dimo.meta import config as meta_config

    config = meta_config.migrate(smoke.get_config())
    config.inner.age_weighted = True
    with pytest.raises(meta_config.ConfigError, match="inner.age_weighted=True is invalid"):
        meta_config.validate(config)
    config.inner.lifetime = 6
    meta_config.validate(config)  # with persistent states it is a valid switch
    with pytest.raises(ValueError, match="inner.age_weighted needs persistent inner states"):
        InnerConfig(age_weighted=True)


def test_an_age_weighted_slot_scores_its_validation_loss_times_its_weight():
    import jax

    from datasets_meta import load
    from dimo.inner.types import make_task
    from dimo.meta import system as system_lib
    from dimo.meta.tasks import support_from

    config = persistent_smoke()  # K = 3, lifetime 6
    config.inner.age_weighted = True
    system = system_lib.from_config(config)
    params = system.init(jax.random.key(0))
    k, per_class, shots = config.task.classes_per_task, config.task.per_class, config.task.support_shots
    dataset = load("digits", image_size=config.data.image_size, channels=config.data.channels)
    task = make_task(dataset, classes=np.arange(k), per_class=per_class)
    images, labels = support_from(task, k, per_class, shots)
    population = truncation.init_population(system.loop, {"optimizer": params["optimizer"], "teacher": params["teacher"]},
                                            1, system.image_shape, k, jax.random.key(1))
    carried = jax.tree.map(lambda x: x[0], population).replace(step=np.int32(3))  # 3 steps old
    task_loss = jax.jit(system.task_loss)
    loss, aux = task_loss(params, task, images, labels, jax.random.key(2), carried, False)
    assert int(aux["age"]) == 3
    np.testing.assert_allclose(float(loss), truncation.age_weight(3, 3, 6) * float(aux["val_loss"]), rtol=1e-6)
    # A slot that restarts is weighted at its new network's age, 0, not at the carried one's.
    loss, aux = task_loss(params, task, images, labels, jax.random.key(2), carried, True)
    assert int(aux["age"]) == 0
    np.testing.assert_allclose(float(loss), truncation.age_weight(0, 3, 6) * float(aux["val_loss"]), rtol=1e-6)

"""Meta-training end to end on the smoke config (digits: runs anywhere)."""

import dataclasses
import json
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from toy_models import MixedLogReg

from dimo.configs import smoke
from datasets_meta import load
from dimo.meta import state as meta_state
from dimo.meta import meta_train
from dimo.space import search_space
from dimo.meta import support_sets
from dimo.meta import tasks as task_sampler
from dimo.meta import system as system_lib
from dimo.infra import workdir as workdirs
from dimo.inner.unroll import InnerLoop
from dimo.meta.outer_optimizer import OuterSettings

DATA_DIR = os.environ.get("DIMO_DATA_DIR")


@pytest.fixture(scope="module")
def setup():
    config = smoke.get_config()
    digits = load("digits", image_size=config.data.image_size)
    system = system_lib.from_config(config)
    outer = OuterSettings.from_config(config).build()
    weights = task_sampler.parse_weights("", ["digits"])
    batches = [task_sampler.sample_tasks([digits], weights, step=s, seed=0, tasks_per_step=4,
                                         classes_per_task=config.task.classes_per_task,
                                         per_class=config.task.per_class,
                                         support_shots=config.task.support_shots) for s in range(2)]
    return config, digits, system, outer, batches


def _steps(setup, num_devices, count, system=None, ema_decay=0.0):
    """``count`` meta-steps on ``num_devices``; (every state from the initial one, metrics, step)."""
    config, _, smoke_system, outer, batches = setup
    system = system or smoke_system
    mesh = meta_train.make_mesh(num_devices)
    # The program meta_train.run memoises: this worker's in-process smoke runs (same system,
    # rates, four devices) reuse its trace instead of tracing the meta-step again.
    _, step_fn = meta_train.cached_meta_step(system, OuterSettings.from_config(config), mesh, ema_decay)
    state = jax.device_put(meta_state.init_state(system, outer, 0, ema=ema_decay > 0),
                           jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))
    states, out = [state], []
    for batch in batches[:count]:
        state, metrics = step_fn(state, batch.tasks, batch.support_images, batch.support_labels,
                                 batch.weights, meta_train.seed_key_data(0))
        states.append(state)
        out.append(metrics)
    return states, out, step_fn


# The whole system (embedding, decoder, learned optimizer, teacher, sharded meta-step, the
# meta-parameters' moving average) with a small smooth model in place of the supernet: the
# sharding and the average are what is tested, and every supernet meta-step program costs
# ~50 s to compile. The two tests below share the one-device run (one program).
EMA_DECAY = 0.75


def _mixed_logreg(setup):
    return dataclasses.replace(setup[2], loop=InnerLoop(MixedLogReg(3), setup[2].loop.cfg))


@pytest.fixture(scope="module")
def one_device_mixed_logreg(setup):
    return _steps(setup, 1, 2, _mixed_logreg(setup), EMA_DECAY)


@pytest.fixture(scope="module")
def four_device_steps(setup):
    assert len(jax.devices()) >= 4, "conftest sets 4 virtual CPU devices"
    return _steps(setup, 4, 2)


def test_two_meta_steps_give_every_group_a_finite_nonzero_gradient(setup, four_device_steps):
    states, metrics, step_fn = four_device_steps
    assert step_fn._cache_size() == 1  # the second step did not recompile
    # The seed is an argument of the program: another seed draws other inner keys, same program.
    batch = setup[4][0]
    _, other_seed = step_fn(states[0], batch.tasks, batch.support_images, batch.support_labels,
                            batch.weights, meta_train.seed_key_data(1))
    assert step_fn._cache_size() == 1
    assert float(other_seed["meta_loss"]) != float(metrics[0]["meta_loss"])
    for m in metrics:
        assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(m["grads"]))
        assert np.isfinite(float(m["meta_loss"])) and not bool(m["skipped"])
    # The decoder's output layer starts at zero, so the embedding's gradient is zero at
    # step 1 by construction; from step 2 on every group learns.
    for group in system_lib.META_GROUPS:
        assert float(metrics[1]["group_grad_norms"][group]) > 0, group


def test_four_devices_give_the_one_device_meta_gradient(setup, one_device_mixed_logreg):
    _, one_device, _ = one_device_mixed_logreg
    _, four_devices, _ = _steps(setup, 4, 1, _mixed_logreg(setup), EMA_DECAY)
    a, b = one_device[0]["grads"], four_devices[0]["grads"]
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(one_device[0]["meta_loss"], four_devices[0]["meta_loss"], rtol=1e-5)


def test_dataset_code_is_invariant_to_permuting_the_support_set(setup):
    config, digits, system, _, _ = setup
    params = system.init(jax.random.key(0))
    images, labels = support_sets.reference_support(digits, shots=4, seed=0)
    code = jax.jit(system.code, static_argnums=5)
    a = code(params, images, labels, digits.mean, digits.std, 10)
    perm = np.random.default_rng(1).permutation(len(labels))
    b = code(params, images[perm], labels[perm], digits.mean, digits.std, 10)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Renaming the classes (another order of the same class sets) changes nothing either.
    relabel = np.random.default_rng(2).permutation(10)
    c = code(params, images, relabel[labels], digits.mean, digits.std, 10)
    np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not DATA_DIR or not Path(DATA_DIR, "mnist").is_dir(), reason="needs DIMO_DATA_DIR")
def test_after_meta_training_a_code_tells_datasets_apart(smoke_workdir):
    # Codes of different datasets lie further apart than codes of different support sets of
    # one dataset: the code carries the dataset, not the draw of its support set.
    from dimo.meta import trained

    system = trained.load(smoke_workdir)
    size = system.config.data.image_size
    codes = {}
    for name in ("digits", "mnist", "fashion_mnist"):
        ds = load(name, image_size=size)
        codes[name] = []
        for seed in range(3):
            images, labels = support_sets.reference_support(ds, support_sets.PROPOSAL_SHOTS, seed)
            codes[name].append(np.asarray(system_lib.code(system.system, system.params, images, labels,
                                                           ds.mean, ds.std, ds.num_classes)))
    within = max(np.linalg.norm(a - b) for c in codes.values() for a in c for b in c)
    centres = {n: np.mean(c, axis=0) for n, c in codes.items()}
    between = min(np.linalg.norm(centres[a] - centres[b]) for a in centres for b in centres if a < b)
    assert between > within, (between, within)
    for name, draws in codes.items():  # every code is nearest its own dataset's centre
        for c in draws:
            assert min(centres, key=lambda n: np.linalg.norm(c - centres[n])) == name


def _lines(workdir):
    return [json.loads(l) for l in (Path(workdir) / "metrics.jsonl").read_text().splitlines()]


def _comparable(record):
    return {k: v for k, v in record.items() if k not in workdirs.TIMING_KEYS}


def test_run_writes_its_workdir_and_resume_continues_exactly(tmp_path, smoke_workdir):
    config = smoke.get_config()
    whole = json.loads((smoke_workdir / "summary.json").read_text())  # an uninterrupted run
    for name in ("config.json", "metrics.jsonl", "summary.json", "meta_loss.png", "arch_digits.png"):
        assert (smoke_workdir / name).is_file(), name
    genotype = whole["datasets"]["digits"]["genotype"]
    assert str(search_space.Genotype.from_string(genotype)) == genotype
    probabilities = whole["datasets"]["digits"]["edge_op_probabilities"]
    assert len(probabilities) == 6 and all(abs(sum(p.values()) - 1) < 1e-3 for p in probabilities.values())
    lines = _lines(smoke_workdir)
    assert [r["step"] for r in lines] == list(range(1, config.meta.steps + 1))
    assert all(set(r["genotypes"]) == {"digits"} for r in lines)

    # Stop after the first checkpoint (step 2), then resume to the end.
    config.meta.steps = 2
    meta_train.run(config, tmp_path / "split", progress=False)
    config.meta.steps = len(lines)
    meta_train.run(config, tmp_path / "split", resume=True, progress=False)
    resumed = _lines(tmp_path / "split")
    assert [r["step"] for r in resumed] == [r["step"] for r in lines]
    assert [_comparable(r) for r in resumed] == [_comparable(r) for r in lines]
    # A resume of the finished run runs nothing and leaves its summary (and timing) as it was.
    finished = (tmp_path / "split" / "summary.json").read_text()
    meta_train.run(config, tmp_path / "split", resume=True, progress=False)
    assert (tmp_path / "split" / "summary.json").read_text() == finished and _lines(tmp_path / "split") == resumed


def test_workdir_is_not_clobbered_and_bad_resume_is_refused(tmp_path):
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "metrics.jsonl").write_text('{"step": 1}\n')
    config = smoke.get_config()
    with pytest.raises(ValueError, match="not empty"):
        meta_train.run(config, tmp_path / "w", progress=False)
    assert (tmp_path / "w" / "metrics.jsonl").read_text() == '{"step": 1}\n'
    with pytest.raises(ValueError, match="no config.json"):
        meta_train.run(config, tmp_path / "w", resume=True, progress=False)


def test_dataset_weights_shape_the_expectation():
    w = task_sampler.parse_weights("mnist:3,cifar10:1", ["mnist", "cifar10", "svhn"])
    np.testing.assert_allclose(w, [0.6, 0.2, 0.2])
    with pytest.raises(ValueError, match="NAME:WEIGHT"):
        task_sampler.parse_weights("imagenet:2", ["mnist"])


def test_group_rates_parse_like_every_name_value_key():
    from dimo.meta.outer_optimizer import parse_group_rates

    assert parse_group_rates("teacher:1e-2, optimizer:3e-3") == (("optimizer", 3e-3), ("teacher", 1e-2))
    for bad, says in (("optimzer:1e-2", "NAME:RATE with NAME one of embedding"), ("teacher:x", "not a finite number"),
                      ("teacher:nan", "not a finite number"), ("teacher:0", "must be positive")):
        with pytest.raises(ValueError, match=says):
            parse_group_rates(bad)


def test_the_moving_average_of_the_meta_parameters_follows_its_decay(setup, one_device_mixed_logreg):
    # Polyak averaging (meta.ema_decay): ema_t = d * ema_{t-1} + (1 - d) * params_t, starting
    # at the initial params; proposals read it, and checkpoints carry it.
    outer = setup[3]
    states, _, _ = one_device_mixed_logreg
    state, history, decay = states[-1], [s.params for s in states], EMA_DECAY
    assert len(history) == 3
    expected = jax.tree.map(lambda p0, p1, p2: decay * (decay * p0 + (1 - decay) * p1) + (1 - decay) * p2,
                            *history)
    for x, y in zip(jax.tree.leaves(state.ema), jax.tree.leaves(expected)):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-7)
    assert state.answer_params is state.ema
    moved = [float(jnp.abs(a - b).max()) for a, b in zip(jax.tree.leaves(state.ema), jax.tree.leaves(state.params))]
    assert max(moved) > 0  # the average lags the last iterate
    back = meta_state.from_checkpoint_tree(meta_state.checkpoint_tree(state))
    for x, y in zip(jax.tree.leaves(back.ema), jax.tree.leaves(state.ema)):
        np.testing.assert_array_equal(x, y)
    # Without a decay the state has no average and proposals read the last iterate.
    plain = meta_state.init_state(_mixed_logreg(setup), outer, 0)
    assert plain.ema is None and plain.answer_params is plain.params
    assert "ema" not in meta_state.checkpoint_tree(plain)

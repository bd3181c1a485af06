"""The decoded rate's meta-gradient over a slot's whole life (dimo.inner.shadow_rate)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from toy_models import MixedLogReg

from datasets_meta import load
from dimo.configs import smoke
from dimo.infra import workdir as workdirs
from dimo.inner import shadow_rate
from dimo.inner.types import Recipe, make_task
from dimo.inner.unroll import InnerConfig, InnerLoop, init_meta_params
from dimo.meta import config as meta_config
from dimo.meta import meta_train
from dimo.meta import state as meta_state
from dimo.meta import system as system_lib
from dimo.meta import tasks as task_sampler
from dimo.meta.outer_optimizer import OuterSettings

K = 3


@pytest.fixture(scope="module")
def digits():
    return load("digits", image_size=8, channels=1)


def test_the_shadow_gives_the_life_long_rate_derivative_that_truncation_drops(digits, monkeypatch):
    """Two segments of one life: the shadow's difference after the second is the derivative of its
    loss with the rate held over both (reverse mode through the whole life gives it exactly, on a
    model without the supernet's custom convolution), which truncation (the first segment's
    network held fixed) does not give."""
    with jax.enable_x64(True):
        loop = InnerLoop(MixedLogReg(5), InnerConfig(steps=K, lifetime=2 * K, batch_size=16, val_batch_size=64,
                                                     optimizer="sgd", learning_rate=0.5))
        meta = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), init_meta_params(jax.random.key(0), loop.cfg))
        task = make_task(digits, classes=[0, 1, 2, 3, 4])
        arch = jax.nn.softmax(jax.random.normal(jax.random.key(3), (6, 5), jnp.float64))
        recipe = Recipe(arch, jnp.asarray(0.8), jnp.asarray(1e-3))
        start = loop.init(jax.random.key(1), meta, recipe, task)
        keys = jax.random.key(10), jax.random.key(11)

        def segment(state, key, log_rate):
            return loop.segment_loss(meta, recipe._replace(lr_scale=jnp.exp(log_rate)), task, state, K, key)

        def second_loss(log_rate):  # the rate held over both segments of the life, differentiated through both
            r = recipe._replace(lr_scale=jnp.exp(log_rate))
            state, _ = loop.unroll(meta, r, task, loop.unroll(meta, r, task, start, K)[0], K)
            return loop.evaluate(state.params, r, task, keys[1])[0]

        r0 = jnp.log(recipe.lr_scale)

        def shadow_derivatives():
            shadow = shadow_rate.float_leaves(start)  # a fresh network's shadow is the network
            state, out = start, []
            for key in keys:
                shadow_loss, shadow_after = shadow_rate.shadow_segment(loop, meta, recipe, task, state, shadow, K, key)
                loss, (state, _) = segment(state, key, r0)
                d, shadow = shadow_rate.rate_derivative(shadow_loss, loss, shadow_after, state)
                out.append(float(d))
            return out

        step = shadow_rate.SHADOW_LOG_STEP
        # At the step it runs with: exactly the difference of the life's loss with the rate raised
        # 5 % over both segments.
        np.testing.assert_allclose(shadow_derivatives()[1], (second_loss(r0 + step) - second_loss(r0)) / step,
                                   rtol=1e-8)
        # As the step shrinks, the life-long derivative, not truncation's.
        monkeypatch.setattr(shadow_rate, "SHADOW_LOG_STEP", 1e-6)
        first, second = shadow_derivatives()
        exact = float(jax.grad(second_loss)(r0))
        truncated = float(jax.grad(lambda r: segment(loop.unroll(meta, recipe, task, start, K)[0], keys[1], r)[0])(r0))
        print(f"dL2/dr: shadow {second:.6f}, whole life {exact:.6f}, truncated {truncated:.6f}")
        np.testing.assert_allclose(second, exact, rtol=1e-4)
        assert abs(truncated - exact) > 0.03 * abs(exact)
        # A fresh network has no earlier life: there the two are the same derivative.
        np.testing.assert_allclose(first, float(jax.grad(lambda r: segment(start, keys[0], r)[0])(r0)), rtol=1e-4)


def test_a_non_finite_shadow_restarts_as_the_network():
    state = {"w": jnp.ones(3), "step": jnp.int32(4)}
    d, shadow = shadow_rate.rate_derivative(jnp.float32(jnp.nan), jnp.float32(1.0), [jnp.full(3, jnp.inf)], state)
    assert float(d) == 0.0
    np.testing.assert_array_equal(np.asarray(shadow[0]), np.ones(3))


def test_shadow_rate_gradients_need_persistent_states():
    config = meta_config.migrate(smoke.get_config())
    assert config.inner.rate_gradient == "truncated"
    config.inner.rate_gradient = "shadow"
    with pytest.raises(meta_config.ConfigError, match="inner.rate_gradient='shadow' is invalid"):
        meta_config.validate(config)
    config.inner.lifetime = 2 * config.inner.steps
    meta_config.validate(config)
    with pytest.raises(ValueError, match="inner.rate_gradient='shadow' needs persistent inner states"):
        InnerConfig(rate_gradient="shadow")
    with pytest.raises(ValueError, match="inner.rate_gradient must be one of"):
        InnerConfig(rate_gradient="pes", lifetime=10)


def _toy_system(rate_gradient):
    """The smoke system with persistent slots (K = 3, each network living 2 meta-steps), a small
    smooth model in place of the supernet (whose meta-step costs ~50 s to compile) and SGD in
    place of the learned optimizer (the teacher still learns through it): a quick compile."""
    config = smoke.get_config()
    config.inner.optimizer = "sgd"
    config.inner.lifetime = 2 * config.inner.steps
    config.inner.rate_gradient = rate_gradient
    system = system_lib.from_config(config)
    return config, dataclasses.replace(system, loop=InnerLoop(MixedLogReg(3), system.loop.cfg))


def _run(rate_gradient, num_devices, steps, digits):
    config, system = _toy_system(rate_gradient)
    outer = OuterSettings.from_config(config).build()
    mesh = meta_train.make_mesh(num_devices)
    step_fn = meta_train.make_meta_step(system, outer, mesh)
    state = meta_state.place(meta_state.init_state(system, outer, 0, config.meta.tasks_per_step), mesh)
    weights = task_sampler.parse_weights("", ["digits"])
    states, metrics = [state], []
    for step in range(steps):
        batch = task_sampler.sample_tasks([digits], weights, step=step, seed=0, tasks_per_step=4,
                                          classes_per_task=config.task.classes_per_task, per_class=config.task.per_class,
                                          support_shots=config.task.support_shots)
        state, m = step_fn(state, batch.tasks, batch.support_images, batch.support_labels, batch.weights,
                           meta_train.seed_key_data(0))
        states.append(state)
        metrics.append(m)
    return states, metrics


@pytest.fixture(scope="module")
def digits_small():
    return load("digits", image_size=smoke.get_config().data.image_size)


@pytest.fixture(scope="module")
def shadow_four_devices(digits_small):
    assert len(jax.devices()) >= 4, "conftest sets 4 virtual CPU devices"
    return _run("shadow", 4, 2, digits_small)


def test_shadows_agree_with_truncation_on_fresh_networks_and_are_carried_after(digits_small, shadow_four_devices):
    """On four devices against one: the shadows are split over the task axis with the slots."""
    states, shadowed = shadow_four_devices
    _, truncated = _run("truncated", 1, 2, digits_small)
    # Meta-step 1: every slot is a fresh network and its shadow the same network, so the rate's
    # gradient is truncation's up to the one-sided difference, and nothing else changes.
    for a, b in zip(jax.tree.leaves(shadowed[0]["grads"]["teacher"]), jax.tree.leaves(truncated[0]["grads"]["teacher"])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    decoder = [np.asarray(x) for x in jax.tree.leaves(shadowed[0]["grads"]["decoder"])]
    reference = [np.asarray(x) for x in jax.tree.leaves(truncated[0]["grads"]["decoder"])]
    gap = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(decoder, reference)))
    assert gap < 0.1 * np.sqrt(sum(np.sum(b ** 2) for b in reference))
    # Meta-step 2: slots carry their networks and shadows, which have drifted apart.
    carried = np.asarray(states[1].shadow[0]) != np.asarray(shadow_rate.float_leaves(states[1].inner)[0])
    assert bool(np.any(carried))
    assert float(np.max(np.abs(np.asarray(shadowed[1]["tasks"]["rate_derivative"])))) > 0
    assert float(np.max(np.abs(np.asarray(truncated[1]["tasks"]["rate_derivative"])))) == 0
    for m in shadowed:
        assert all(bool(np.all(np.isfinite(np.asarray(g)))) for g in jax.tree.leaves(m["grads"]))


def test_a_checkpoint_keeps_the_shadows(tmp_path, shadow_four_devices):
    state = shadow_four_devices[0][2]
    manager = workdirs.checkpoint_manager(tmp_path, 1)
    workdirs.save_checkpoint(manager, 2, meta_state.checkpoint_tree(state), force=True)
    manager.wait_until_finished()
    template = meta_state.checkpoint_tree(state)
    restored = meta_state.from_checkpoint_tree(workdirs.restore_checkpoint(manager, template))
    for a, b in zip(state.shadow, restored.shadow):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _one_slot(config, system, digits):
    """The first task of a meta-step's batch and its slot's carried state, for one ``task_loss``."""
    batch = task_sampler.sample_tasks([digits], task_sampler.parse_weights("", ["digits"]), step=0, seed=0,
                                      tasks_per_step=4, classes_per_task=config.task.classes_per_task,
                                      per_class=config.task.per_class, support_shots=config.task.support_shots)
    task, images, labels = jax.tree.map(lambda x: x[0], (batch.tasks, batch.support_images, batch.support_labels))
    carried = jax.tree.map(lambda x: x[0], meta_state.init_state(system, OuterSettings.from_config(config).build(),
                                                                 0, 4).inner)
    return task, images, labels, carried


def test_at_a_restart_the_shadow_starts_as_the_fresh_network(digits_small):
    """Whatever shadow a slot carried into its restart, the segment's derivative and the shadow
    after it are those of a shadow equal to the fresh network."""
    config, system = _toy_system("shadow")
    params = system.init(jax.random.key(0))
    task, images, labels, carried = _one_slot(config, system, digits_small)
    task_loss = jax.jit(system.task_loss)
    out = [task_loss(params, task, images, labels, jax.random.key(2), carried, True,
                     [jnp.full_like(x, fill) for x in shadow_rate.float_leaves(carried)])[1] for fill in (0.0, 7.0)]
    assert float(out[0]["rate_derivative"]) == float(out[1]["rate_derivative"]) != 0.0
    for a, b in zip(out[0]["shadow"], out[1]["shadow"]):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_diverged_shadow_gives_the_rate_its_truncated_gradient_and_is_flagged(digits_small):
    """Where the shadow went non-finite there is no life-long derivative: the segment's meta-gradient
    is then exactly the truncated one (the rate keeps its push), and ``shadow_failed`` says so."""
    config, shadowed = _toy_system("shadow")
    _, truncated = _toy_system("truncated")
    params = shadowed.init(jax.random.key(0))
    task, images, labels, carried = _one_slot(config, shadowed, digits_small)
    diverged = [jnp.full_like(x, jnp.nan) for x in shadow_rate.float_leaves(carried)]

    def grad(system, *shadow):
        loss = lambda p, t, x, y: system.task_loss(p, t, x, y, jax.random.key(2), carried, False, *shadow)  # noqa: E731
        return jax.jit(jax.grad(loss, has_aux=True))(params, task, images, labels)

    (g_shadow, aux), (g_truncated, _) = grad(shadowed, diverged), grad(truncated)
    assert float(aux["shadow_failed"]) == 1.0 and float(aux["rate_derivative"]) == 0.0
    for a, b in zip(jax.tree.leaves(g_shadow["decoder"]), jax.tree.leaves(g_truncated["decoder"])):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-8)
    assert any(float(jnp.max(jnp.abs(a))) > 0 for a in jax.tree.leaves(g_shadow["decoder"]))
    # the shadow it carries on is the slot's network, not the NaNs
    assert all(bool(jnp.all(jnp.isfinite(x))) for x in aux["shadow"])

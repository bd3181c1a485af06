"""The differentiable inner loop: meta-gradients, jit, remat, truncation, real training."""

import dataclasses
import functools
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from toy_models import MLP, MixedLogReg

from datasets_meta import load
from dimo.space.supernet import Supernet
from dimo.inner.types import Recipe, default_recipe, make_task
from dimo.inner.unroll import InnerConfig, InnerLoop, init_meta_params
from dimo.meta.outer_optimizer import meta_optimizer

DATA_DIR = os.environ.get("DIMO_DATA_DIR")


@pytest.fixture(scope="module")
def digits():
    return load("digits", image_size=8, channels=1)


def _tree_vdot(a, b):
    return sum(jnp.vdot(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def _random_like(key, tree):
    leaves, treedef = jax.tree.flatten(tree)
    keys = jax.random.split(key, len(leaves))
    v = [jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)]
    norm = jnp.sqrt(sum(jnp.sum(x ** 2) for x in v))
    return treedef.unflatten([x / norm for x in v])


def test_meta_gradient_matches_central_finite_differences(digits):
    with jax.enable_x64(True):
        task = make_task(digits, classes=[0, 1, 2, 3, 4])
        loop = InnerLoop(MixedLogReg(5), InnerConfig(steps=4, batch_size=16, val_batch_size=64))
        f64 = lambda t: jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), t)
        meta = f64(init_meta_params(jax.random.key(0), loop.cfg))
        # Move off the zero-initialised output layers to a generic point of meta-parameter space.
        meta = jax.tree.map(lambda x, v: x + 0.3 * v, meta, _random_like(jax.random.key(1), meta))
        meta = jax.tree.map(lambda x, v: x + 0.05 * v * x.size ** 0.5, meta,
                            _random_like(jax.random.key(2), meta))
        arch = jax.nn.softmax(jax.random.normal(jax.random.key(3), (6, 5), jnp.float64))
        recipe = Recipe(arch, jnp.asarray(0.8), jnp.asarray(1e-3))
        key = jax.random.key(4)
        loss = jax.jit(lambda m, r: loop.meta_loss(m, r, task, key)[0])
        g_meta, g_recipe = jax.jit(jax.grad(lambda m, r: loop.meta_loss(m, r, task, key)[0], (0, 1)))(meta, recipe)
        eps = 1e-5
        groups = {
            "optimizer": (lambda d: ({**meta, "optimizer": d}, recipe), meta["optimizer"], g_meta["optimizer"]),
            "teacher": (lambda d: ({**meta, "teacher": d}, recipe), meta["teacher"], g_meta["teacher"]),
            "arch_weights": (lambda d: (meta, recipe._replace(arch_weights=d)), arch, g_recipe.arch_weights),
            "lr_scale": (lambda d: (meta, recipe._replace(lr_scale=d)), recipe.lr_scale, g_recipe.lr_scale),
        }
        for i, (name, (place, point, grad)) in enumerate(groups.items()):
            v = _random_like(jax.random.key(10 + i), point)
            plus = jax.tree.map(lambda x, d: x + eps * d, point, v)
            minus = jax.tree.map(lambda x, d: x - eps * d, point, v)
            numeric = (loss(*place(plus)) - loss(*place(minus))) / (2 * eps)
            analytic = _tree_vdot(grad, v)
            assert abs(float(analytic)) > 1e-6, name  # a real, non-vanishing derivative
            rel = abs(float(numeric - analytic)) / abs(float(analytic))
            print(f"finite differences, {name}: autodiff {float(analytic):.6g}, "
                  f"central difference {float(numeric):.6g}, relative error {rel:.2e}")
            assert rel <= 1e-3, f"{name}: finite difference {numeric}, autodiff {analytic}, rel {rel}"


@pytest.fixture(scope="module")
def toy(digits):
    """One small inner loop and its jitted meta-gradient, compiled once for these tests."""
    loop = InnerLoop(MixedLogReg(5), InnerConfig(steps=3, batch_size=16, val_batch_size=32))
    meta = init_meta_params(jax.random.key(0), loop.cfg)
    task = make_task(digits, [0, 1, 2, 3, 4], per_class=20)
    grad_fn = jax.jit(jax.value_and_grad(loop.meta_loss, argnums=(0, 1), has_aux=True))
    return loop, meta, task, grad_fn


def test_jitted_meta_gradient_does_not_recompile_for_new_data(toy):
    loop, meta, task, grad_fn = toy
    first = grad_fn(meta, default_recipe(), task, jax.random.key(1))
    other = load("digits", image_size=8, channels=1, seed=7)  # other splits, other class sizes
    second = grad_fn(meta, default_recipe(), make_task(other, [9, 8, 7, 6, 5], per_class=20, seed=3),
                     jax.random.key(2))
    assert grad_fn._cache_size() == 1
    assert float(first[0][0]) != float(second[0][0])


def test_jit_and_no_jit_agree_and_remat_does_not_change_gradients(toy):
    loop, meta, task, grad_fn = toy
    reference = grad_fn(meta, default_recipe(), task, jax.random.key(1))
    eager_loss, eager_aux = loop.meta_loss(meta, default_recipe(), task, jax.random.key(1))
    np.testing.assert_allclose(eager_loss, reference[0][0], rtol=1e-5)
    np.testing.assert_allclose(eager_aux["train_loss"], reference[0][1]["train_loss"], rtol=1e-5)
    no_remat = InnerLoop(loop.model, dataclasses.replace(loop.cfg, remat=False))
    without = jax.jit(jax.value_and_grad(no_remat.meta_loss, argnums=(0, 1), has_aux=True))
    other = without(meta, default_recipe(), task, jax.random.key(1))
    for a, b in zip(jax.tree.leaves(reference), jax.tree.leaves(other)):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)


def test_truncated_segments_carry_state_and_give_their_own_gradients(toy):
    loop, meta, task, _ = toy
    recipe = default_recipe()
    segment = jax.jit(jax.value_and_grad(loop.segment_loss, has_aux=True), static_argnums=4)
    state = loop.init(jax.random.key(1), meta, recipe, task)
    grads = []
    for i in range(3):
        (loss, (state, aux)), g = segment(meta, recipe, task, state, 2, jax.random.key(10 + i))
        grads.append(g)
        assert aux["train_loss"].shape == (2,)
    assert int(state.step) == 6 and segment._cache_size() == 1
    for g in grads:
        assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(g))
    assert float(jnp.abs(grads[0]["optimizer"]["log_lr"] - grads[2]["optimizer"]["log_lr"])) > 0


def test_meta_optimizer_clips_and_skips_non_finite_steps():
    params = {"w": jnp.ones(3)}
    opt = meta_optimizer(learning_rate=0.1, clip_norm=1.0)
    state = opt.init(params)
    updates, state = opt.update({"w": jnp.array([1.0, jnp.nan, 0.0])}, state, params)
    np.testing.assert_array_equal(optax.apply_updates(params, updates)["w"], 1.0)
    assert int(state.notfinite_count) == 1 and int(state.total_notfinite) == 1
    updates, state = opt.update({"w": jnp.array([1e6, 0.0, 0.0])}, state, params)
    assert int(state.notfinite_count) == 0 and float(jnp.max(jnp.abs(updates["w"]))) <= 0.1 + 1e-6


def test_meta_optimizer_gives_named_groups_their_own_rates():
    params = {"decoder": jnp.zeros(2), "optimizer": jnp.zeros(2), "teacher": jnp.zeros(2)}
    opt = meta_optimizer(learning_rate=1e-3, clip_norm=10.0, group_rates=(("optimizer", 1e-2),))
    updates, _ = opt.update(jax.tree.map(lambda p: p + 0.5, params), opt.init(params), params)
    # Adam's first step moves every coordinate by its rate, whatever the gradient's size.
    np.testing.assert_allclose(updates["optimizer"], -1e-2, rtol=1e-4)
    np.testing.assert_allclose(updates["decoder"], -1e-3, rtol=1e-4)
    np.testing.assert_allclose(updates["teacher"], -1e-3, rtol=1e-4)


def test_meta_optimizer_decays_every_rate_along_a_cosine():
    params = {"decoder": jnp.zeros(2), "optimizer": jnp.zeros(2)}
    opt = meta_optimizer(learning_rate=1e-3, clip_norm=10.0, group_rates=(("optimizer", 1e-2),), decay_steps=4)
    state, moves = opt.init(params), []
    for _ in range(5):  # a constant gradient: Adam's step is then its rate at every step
        updates, state = opt.update(jax.tree.map(lambda p: p + 0.5, params), state, params)
        moves.append({k: float(v[0]) for k, v in updates.items()})
    cosine = [0.5 * (1 + np.cos(np.pi * t / 4)) for t in range(5)]  # 1, ..., 0 at step 4
    np.testing.assert_allclose([m["decoder"] for m in moves], [-1e-3 * c for c in cosine], rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose([m["optimizer"] for m in moves], [-1e-2 * c for c in cosine], rtol=1e-4, atol=1e-9)


@pytest.mark.skipif(not DATA_DIR or not Path(DATA_DIR, "mnist").is_dir(), reason="needs DIMO_DATA_DIR")
# The learned optimizer only: optax's SGD and Adam on the same loop are compared in the
# benchmarks and by `dimo ablate` (each would be one more 20 s compile here). Under `e2e`
# since 2026-12-02: a check of learning, not of the code's mechanics (which the meta-training
# test below and the smoke runs cover), and 25-34 s of compile the suite's budget lacked.
@pytest.mark.e2e
@pytest.mark.parametrize("optimizer, learning_rate", [("learned", None)])
def test_fifty_steps_on_real_mnist_halve_the_training_loss(optimizer, learning_rate):
    # At the smoke config's sizes (8x8, C=4): the default 16x16 and C=8 took twice as long to
    # compile and run, and the loss falls below half at either (`-s` prints it).
    task = make_task(load("mnist", image_size=8))
    cfg = InnerConfig(steps=50, optimizer=optimizer, loss="ce", learning_rate=learning_rate or 0.1)
    loop = InnerLoop(Supernet(10, channels=4, cells_per_stage=1), cfg)
    meta, recipe = init_meta_params(jax.random.key(0), cfg), default_recipe()

    @jax.jit
    def train(key):
        state = loop.init(key, meta, recipe, task)
        probe = jax.random.key(99)  # the same 256 training images before and after
        before, _ = loop.evaluate(state.params, recipe, task, probe, split="train")
        state, _ = loop.unroll(meta, recipe, task, state, cfg.steps)
        after, _ = loop.evaluate(state.params, recipe, task, probe, split="train")
        return before, after

    before, after = train(jax.random.key(1))
    print(f"{optimizer}: training loss {float(before):.3f} -> {float(after):.3f}")
    assert float(after) <= 0.5 * float(before)


def test_meta_training_theta_beats_its_start_and_tuned_sgd(digits):
    """Meta-train the optimizer alone on a tiny MLP on real digits; compare at the horizon."""
    task = make_task(digits)
    recipe = default_recipe()

    def loop_for(optimizer, learning_rate=0.1):
        return InnerLoop(MLP(10), InnerConfig(steps=20, batch_size=32, optimizer=optimizer,
                                              loss="ce", learning_rate=learning_rate, remat=False))

    eval_keys = jax.random.split(jax.random.key(12345), 16)

    @functools.partial(jax.jit, static_argnums=0)
    def mean_loss(loop, meta, recipe):
        return jnp.mean(jax.vmap(lambda k: loop.meta_loss(meta, recipe, task, k)[0])(eval_keys))

    def horizon_loss(loop, meta, recipe=recipe):  # mean validation loss at step K over 16 fresh runs
        return float(mean_loss(loop, meta, recipe))

    learned = loop_for("learned")
    meta = init_meta_params(jax.random.key(0), learned.cfg)
    # SGD at 0.03 / 0.1 / 0.3 through the recipe's lr scale: one compiled program for all three.
    sgd = {round(0.1 * scale, 3): horizon_loss(loop_for("sgd"), meta, recipe._replace(lr_scale=jnp.float32(scale)))
           for scale in (0.3, 1.0, 3.0)}
    initial = horizon_loss(learned, meta)

    # 30 meta-steps at 1.2e-2: about where 80 at 6e-3 ended, in under half the time (the test
    # prints its losses).
    outer = meta_optimizer(learning_rate=1.2e-2)
    outer_state = outer.init(meta)

    @jax.jit
    def outer_step(meta, outer_state, key):
        def batch_loss(meta):  # 4 inner runs per meta-gradient
            return jnp.mean(jax.vmap(lambda k: learned.meta_loss(meta, recipe, task, k)[0])(
                jax.random.split(key, 4)))
        grads = jax.grad(batch_loss)(meta)
        updates, outer_state = outer.update(grads, outer_state, meta)
        return optax.apply_updates(meta, updates), outer_state

    for i in range(30):
        meta, outer_state = outer_step(meta, outer_state, jax.random.key(1000 + i))
    trained = horizon_loss(learned, meta)
    print(f"validation loss at K=20: learned initial {initial:.3f}, meta-trained {trained:.3f}, "
          f"SGD+momentum by lr {({k: round(v, 3) for k, v in sgd.items()})}")
    assert trained < 0.9 * initial
    assert trained < 0.9 * min(sgd.values())


def test_an_optimizer_whose_updates_do_not_fit_the_parameters_is_caught_at_trace_time(digits):
    class BrokenLoop(InnerLoop):
        def optimizer(self, meta, recipe):
            return optax.GradientTransformation(
                lambda params: optax.EmptyState(),
                lambda grads, state, params=None: (jax.tree.map(lambda g: g[..., None], grads), state))

    task = make_task(digits, classes=[0, 1, 2])
    loop = BrokenLoop(MLP(3), InnerConfig(optimizer="sgd", loss="ce", batch_size=8))
    meta, recipe = {"optimizer": None, "teacher": None}, default_recipe()
    state = loop.init(jax.random.key(0), meta, recipe, task)
    with pytest.raises(AssertionError, match="shape"):
        jax.eval_shape(lambda s: loop.step(meta, recipe, task, s), state)

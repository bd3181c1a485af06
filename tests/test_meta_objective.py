import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from toy_models import MixedLogReg

from datasets_meta import load
from dimo.inner import meta_objective
from dimo.inner.unroll import InnerConfig, InnerLoop, init_meta_params
from dimo.inner.types import Recipe, make_task


def _batch(seed=0, n=100, classes=5):
    k1, k2 = jax.random.split(jax.random.key(seed))
    labels = jax.random.randint(k2, (n,), 0, classes)
    logits = 2.0 * jax.random.normal(k1, (n, classes))
    return logits.at[jnp.arange(n), labels].add(1.0), labels  # better than chance, overconfident


def test_calibrated_cross_entropy_is_the_minimum_over_temperatures():
    logits, labels = _batch()
    grid = np.linspace(meta_objective.MIN_INVERSE_TEMPERATURE, 3.0, 3000)
    brute = min(float(meta_objective.cross_entropy(b * logits, labels)) for b in grid)
    got = float(meta_objective.calibrated_cross_entropy(logits, labels))
    assert got == pytest.approx(brute, abs=1e-5)
    assert got < float(meta_objective.cross_entropy(logits, labels))


def test_rescaled_logits_score_the_same():
    # What the objective is for: a network cannot lower it by rescaling its logits.
    logits, labels = _batch(1)
    for scale in (0.3, 3.0):
        np.testing.assert_allclose(meta_objective.calibrated_cross_entropy(scale * logits, labels),
                                   meta_objective.calibrated_cross_entropy(logits, labels), rtol=1e-5)


def test_gradient_with_the_temperature_held_fixed_matches_finite_differences():
    # The fitted temperature enters as a constant (envelope theorem at the minimum).
    logits, labels = _batch(2)
    weights = jnp.ones(logits.shape[1])

    def loss(w):
        return meta_objective.calibrated_cross_entropy(logits * w, labels)

    grad = jax.grad(loss)(weights)
    eps = 1e-3
    fd = [(loss(weights.at[i].add(eps)) - loss(weights.at[i].add(-eps))) / (2 * eps) for i in range(len(weights))]
    np.testing.assert_allclose(grad, np.asarray(fd), rtol=2e-2, atol=2e-4)


def test_each_name_scores_with_its_function():
    logits, labels = _batch(3)
    plain, calibrated = meta_objective.cross_entropy(logits, labels), meta_objective.calibrated_cross_entropy(logits, labels)
    expected = {"ce": plain, "calibrated_ce": calibrated, "ce_and_calibrated_ce": 0.5 * (plain + calibrated)}
    assert set(expected) == set(meta_objective.META_LOSSES)
    for name, value in expected.items():
        np.testing.assert_allclose(meta_objective.meta_loss_fn(name)(logits, labels), value, rtol=1e-6)


def test_unknown_meta_loss_is_refused():
    with pytest.raises(ValueError, match="inner.meta_loss"):
        InnerConfig(meta_loss="accuracy")


def test_meta_gradient_through_the_calibrated_loss_matches_finite_differences():
    # The whole chain (unroll, then the calibrated score of the validation batch), float64.
    with jax.enable_x64(True):
        task = make_task(load("digits", image_size=8, channels=1), classes=[0, 1, 2, 3, 4])
        loop = InnerLoop(MixedLogReg(5), InnerConfig(steps=3, batch_size=16, val_batch_size=64,
                                                     meta_loss="calibrated_ce"))
        meta = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), init_meta_params(jax.random.key(0), loop.cfg))
        arch = jax.nn.softmax(jax.random.normal(jax.random.key(3), (6, 5), jnp.float64))
        recipe = Recipe(arch, jnp.asarray(0.8, jnp.float64), jnp.asarray(1e-3, jnp.float64))
        key = jax.random.key(4)
        loss = jax.jit(lambda a: loop.meta_loss(meta, recipe._replace(arch_weights=a), task, key)[0])
        direction = jax.random.normal(jax.random.key(5), arch.shape, jnp.float64)
        analytic = jnp.vdot(jax.grad(loss)(arch), direction)
        eps = 1e-5
        numeric = (loss(arch + eps * direction) - loss(arch - eps * direction)) / (2 * eps)
        assert abs(float(analytic)) > 1e-6
        assert abs(float(numeric - analytic)) <= 1e-3 * abs(float(analytic))
        # ... and it is the calibrated score, not the plain cross-entropy.
        plain = InnerLoop(loop.model, dataclasses.replace(loop.cfg, meta_loss="ce"))
        assert float(loop.meta_loss(meta, recipe, task, key)[0]) < float(plain.meta_loss(meta, recipe, task, key)[0])

"""Relaxations from logits to architecture weights, and the unit-scale free ops of the supernet."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dimo.space import relaxations
from dimo.space import search_space
from dimo.space.supernet import Cell


def test_softmax_is_the_mixture():
    logits = jax.random.normal(jax.random.key(0), (6, 5))
    np.testing.assert_allclose(relaxations.relax("softmax", logits, 2.0), jax.nn.softmax(logits / 2.0))


def test_gumbel_runs_one_op_per_edge_drawn_from_the_softmax_and_passes_its_gradient():
    logits = jnp.asarray(np.random.default_rng(0).normal(size=(6, 5)), jnp.float32)
    draws = jax.vmap(lambda k: relaxations.relax("gumbel", logits, 1.0, k))(
        jax.random.split(jax.random.key(1), 4000))
    assert bool(jnp.all(jnp.sum(draws, -1) == 1.0)) and bool(jnp.all((draws == 0) | (draws == 1)))
    # Gumbel-max: each op is drawn with its softmax probability.
    np.testing.assert_allclose(draws.mean(0), jax.nn.softmax(logits), atol=0.03)
    # Straight-through: the gradient is the soft sample's, finite and reaching every logit.
    target = jax.random.normal(jax.random.key(2), (6, 5))
    grad = jax.grad(lambda l: jnp.sum(relaxations.relax("gumbel", l, 1.0, jax.random.key(3)) * target))(logits)
    assert bool(jnp.all(jnp.isfinite(grad))) and bool(jnp.all(grad != 0))
    with pytest.raises(ValueError, match="unknown relaxation"):
        relaxations.relax("dirichlet_typo", logits, 1.0)


def test_free_ops_enter_the_relaxed_mixture_at_unit_scale():
    x = 5.0 + 3.0 * jax.random.normal(jax.random.key(0), (8, 6, 6, 4))
    weights = np.zeros((6, 5), np.float32)
    weights[:, 0] = 1.0  # none everywhere ...
    for edge in (search_space.EDGES.index((1, 0)), search_space.EDGES.index((3, 1))):  # ... but in -> 1 -> out by skips
        weights[edge] = np.eye(5)[search_space.OPS.index("skip_connect")]
    cell = Cell(4, normalize_free_ops=True)
    params = cell.init(jax.random.key(1), x, jnp.asarray(weights))
    y = cell.apply(params, x, jnp.asarray(weights))
    np.testing.assert_allclose(jnp.mean(y, (0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(jnp.var(y, (0, 1, 2)), 1.0, atol=1e-3)
    plain = Cell(4).apply(params, x, jnp.asarray(weights))
    np.testing.assert_allclose(plain, x, rtol=1e-6)  # without it the skips pass x as it is


def test_dirichlet_draws_mixtures_around_its_mean_with_gradients_of_the_expectation():
    logits = jnp.asarray(np.random.default_rng(0).normal(size=(6, 5)), jnp.float32)
    keys = jax.random.split(jax.random.key(1), 8000)
    draws = jax.vmap(lambda k: relaxations.relax("dirichlet", logits, 1.0, k))(keys)
    np.testing.assert_allclose(jnp.sum(draws, -1), 1.0, atol=1e-5)
    assert bool(jnp.all(draws >= 0)) and bool(jnp.all(draws < 1))  # mixtures, not one-hot cells
    mean = relaxations.mean("dirichlet", logits, 1.0)
    np.testing.assert_allclose(draws.mean(0), mean, atol=0.01)
    np.testing.assert_allclose(relaxations.mean("dirichlet", jnp.zeros((6, 5)), 1.0), 0.2)
    np.testing.assert_allclose(relaxations.mean("gumbel", logits, 1.0), jax.nn.softmax(logits))
    # The reparameterised gradient of E[f(w)] against central finite differences of the same
    # Monte-Carlo expectation (common random numbers), on a few logits.
    target = jax.random.normal(jax.random.key(2), (6, 5))

    @jax.jit
    def expected(l):
        w = jax.vmap(lambda k: relaxations.relax("dirichlet", l, 1.0, k))(keys)
        return jnp.mean(jnp.sum((w - 0.2) ** 2 * target, axis=(1, 2)))

    grad = jax.jit(jax.grad(expected))(logits)
    for edge, op in [(0, 0), (2, 3), (5, 4)]:
        eps = jnp.zeros_like(logits).at[edge, op].set(0.05)
        fd = (expected(logits + eps) - expected(logits - eps)) / 0.1
        np.testing.assert_allclose(grad[edge, op], fd, rtol=0.1, atol=2e-3)

"""Mechanics of the gradient-based search methods at tiny sizes: GDAS, DrNAS, SDARTS-RS and
DARTS-PT's selection, each on its own rule (no supernet), then the shared loop once."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.stats import dirichlet as dirichlet_dist

from dimo.search import darts_pt

from dimo.search import drnas

from dimo.search import gdas

from dimo.search import sdarts
from dimo.space import search_space
from dimo.search.budget import Budget


def _alpha(seed=0):
    return jax.random.normal(jax.random.key(seed), (search_space.NUM_EDGES, search_space.NUM_OPS))


def test_gdas_runs_one_op_per_edge_while_every_logit_gets_a_gradient():
    rule, alpha = gdas.rule(), _alpha()
    weights = rule.mixture(alpha, jax.random.key(1), 0.0)
    np.testing.assert_array_equal(np.sort(np.asarray(weights), -1)[:, :-1], 0.0)  # one-hot forward
    np.testing.assert_array_equal(np.max(np.asarray(weights), -1), 1.0)
    probe = jax.random.normal(jax.random.key(2), weights.shape)
    grad = jax.grad(lambda a: jnp.sum(rule.mixture(a, jax.random.key(1), 0.0) * probe))(alpha)
    assert np.all(np.abs(np.asarray(grad)) > 0)
    # The temperature anneals from TAU_MAX to TAU_MIN over the architecture's steps.
    assert gdas.temperature(0.0) == gdas.TAU_MAX and np.isclose(gdas.temperature(1.0), gdas.TAU_MIN)


def test_drnas_concentration_gradients_match_finite_differences():
    # E[sum_i c_i z_i^2] under Dir(beta) has a closed form; the reparameterised samples'
    # gradient with respect to the logits must match its finite differences.
    c = jnp.arange(1.0, search_space.NUM_OPS + 1)
    alpha = 0.5 * _alpha(3)[:1]

    def exact(alpha):
        beta = drnas.relaxations.concentration(alpha, 1.0)
        b0 = jnp.sum(beta, -1, keepdims=True)
        return jnp.sum(c * beta * (beta + 1) / (b0 * (b0 + 1)))

    def sampled(alpha, keys):
        draws = jax.vmap(lambda k: drnas.rule().mixture(alpha, k, 0.0))(keys)
        return jnp.mean(jnp.sum(c * jnp.square(draws), -1))

    keys = jax.random.split(jax.random.key(4), 50_000)
    estimate = np.asarray(jax.grad(sampled)(alpha, keys))
    eps = 1e-3
    finite_differences = np.array([[(exact(alpha.at[0, j].add(eps)) - exact(alpha.at[0, j].add(-eps))) / (2 * eps)
                                     for j in range(search_space.NUM_OPS)]])
    np.testing.assert_allclose(estimate, finite_differences, atol=0.02 * np.abs(finite_differences).max())
    np.testing.assert_allclose(jax.grad(exact)(alpha), finite_differences, rtol=1e-2, atol=1e-4)


def test_drnas_anchor_is_the_kl_to_the_flat_dirichlet():
    beta = drnas.relaxations.concentration(_alpha(5), 1.0)
    assert float(drnas.anchor_regularizer(jnp.zeros((search_space.NUM_EDGES, search_space.NUM_OPS)))) == pytest.approx(0.0, abs=1e-6)
    ones = jnp.ones(search_space.NUM_OPS)
    draws = jax.random.dirichlet(jax.random.key(6), beta[0], (100_000,))
    monte_carlo = np.mean(jax.vmap(lambda z: dirichlet_dist.logpdf(z, beta[0]) - dirichlet_dist.logpdf(z, ones))(draws))
    assert float(drnas.dirichlet_kl(beta[0], ones)) == pytest.approx(float(monte_carlo), rel=0.02)
    assert float(drnas.anchor_regularizer(_alpha(5))) == pytest.approx(
        drnas.ANCHOR_SCALE * float(jnp.sum(drnas.dirichlet_kl(beta, jnp.ones_like(beta)))))


def test_sdarts_smooths_only_the_weight_step():
    rule, alpha = sdarts.rule(), _alpha()
    softmax = jax.nn.softmax(alpha, -1)
    np.testing.assert_allclose(rule.mixture(alpha, jax.random.key(1), 0.0), softmax)
    a, b = (rule.weight_mixture(alpha, jax.random.key(k), 0.0) for k in (1, 2))
    assert float(jnp.max(jnp.abs(a - softmax))) <= sdarts.EPSILON and not np.allclose(a, b)
    assert float(jnp.max(jnp.abs(a - softmax))) > sdarts.EPSILON / 2


def test_darts_pt_keeps_the_op_whose_removal_hurts_most_not_the_heaviest():
    # A hand-built supernet: skip_connect holds the largest weight on every edge, but the
    # accuracy rests on edge e's convolution (op 3) through a steep, saturating response.
    weights = jnp.tile(jnp.array([0.1, 0.5, 0.1, 0.2, 0.1]), (search_space.NUM_EDGES, 1))
    need = np.array([0, 0.05, 0.0, 0.9, 0.05])  # what each op contributes to accuracy

    def accuracy(w):
        return float(np.sum(np.tanh(5 * np.asarray(w)) @ need))

    finetuned = []
    edges = [4, 0, 2]
    out, decided = darts_pt.select(accuracy, lambda w, left: finetuned.append((w, left)), weights, edges)
    assert list(decided) == edges and all(op == 3 for op, _ in decided.values())
    # Fine-tuned between decisions (not after the last), with the edges fixed so far.
    assert [left for _, left in finetuned] == [2, 1]
    np.testing.assert_array_equal(np.asarray(finetuned[0][0])[4], np.eye(search_space.NUM_OPS)[3])
    np.testing.assert_array_equal(np.asarray(out)[1], np.asarray(weights)[1])  # undecided stays
    assert int(np.argmax(np.asarray(weights)[4])) == 1  # the softmax argmax would have kept skip
    # An edge no removal hurts keeps its heaviest op, not the first (none).
    _, decided = darts_pt.select(lambda w: 0.5, lambda w, left: None, weights, [1])
    assert decided[1][0] == 1


def test_darts_pt_selection_stops_at_the_budget():
    class Clock:
        now = 0.0

        def __call__(self):
            return self.now

    clock = Clock()

    def accuracy(w):
        clock.now += 1.0  # 5 evaluations, 5 s, per edge
        return float(np.sum(np.asarray(w)[:, 3]))

    _, decided = darts_pt.select(accuracy, lambda w, left: None, _alpha(), list(range(search_space.NUM_EDGES)),
                                 Budget(12.0, clock=clock))
    assert len(decided) == 2  # 6 s per edge (base + 5 removals): a third would end at 18 s


def test_the_warm_up_trains_the_weights_alone_then_the_architecture_moves():
    from datasets_meta import load
    from dimo.search import discrete
    from dimo.search import gradient_search

    setup = discrete.SearchSetup(steps=8, channels=4, batch_size=16)
    result, state = gradient_search.search(load("digits", image_size=8), setup, gdas.rule(), warmup_steps=4)
    initial = np.asarray(result["initial_arch_weights"])
    assert state.steps == 8 and state.selections.shape == (8, search_space.NUM_EDGES, search_space.NUM_OPS)
    for selection in state.selections[:4]:  # frozen while only the weights train
        np.testing.assert_array_equal(selection, initial)
    assert np.abs(state.selections[-1] - initial).max() > 1e-3
    with pytest.raises(ValueError, match="warmup_steps"):
        gradient_search.search(load("digits", image_size=8), setup, gdas.rule(), warmup_steps=8)

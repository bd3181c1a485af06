"""DARTS-PT (Wang et al., 2021): DARTS's supernet, then perturbation-based selection.

DARTS-PT's finding is that the magnitude of a softmax weight does not say how much the
supernet needs its op: parameter-free ops can hold large weights while the supernet's
accuracy rests on a convolution. So the cell is not the argmax of the weights. After the
supernet is trained (first-order DARTS, ``dimo.search.darts``), edges are decided one at a time in
a seeded random order: each op of the edge is removed from the mixture in turn (its weight
set to 0), the supernet's accuracy on a fixed validation sample measured, and the edge keeps
the op whose removal hurts most (ties go to the larger weight). The edge is then fixed to
that op and the supernet's weights fine-tuned before the next edge, as the paper fine-tunes
between decisions.

Without a budget, fine-tuning takes ``setup.steps // 12`` steps per decision (half the
supernet's steps over the six edges). With a wall-clock budget the supernet gets
``SUPERNET_SHARE`` of it; each decision then fine-tunes in chunks of ``FINETUNE_STEPS`` for
its equal share of what is left. Edges the budget leaves undecided keep the softmax argmax
(``decided`` in the result says how many were decided by perturbation).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dimo.inner.teacher_loss import cross_entropy
from dimo.search import darts, gradient_search
from dimo.search.budget import Budget, run_units
from dimo.space import search_space

SUPERNET_SHARE = 0.7
FINETUNE_STEPS = gradient_search.DARTS_CHUNK
EVAL_EXAMPLES = 1000
_TIE_BREAK = 0.01  # a decided edge's row: its op, then the softmax's order for a connected fallback


def removal_drops(accuracy, weights, edge: int) -> np.ndarray:
    """[ops] how much ``accuracy(weights)`` falls when each op of ``edge`` is removed."""
    base = accuracy(weights)
    return np.array([base - accuracy(weights.at[edge, op].set(0.0)) for op in range(weights.shape[1])])


def select(accuracy, finetune, weights, edges, budget: Budget | None = None):
    """Perturbation-based selection over ``edges`` in order: each edge keeps the op whose
    removal drops ``accuracy`` most (ties: the larger weight), is fixed to it, and
    ``finetune(weights, edges_left)`` runs before the next. Returns (weights with decided
    rows one-hot, {edge: (op, drops)})."""
    decided = {}

    def decide(i):
        nonlocal weights
        edge = int(edges[i])
        drops = removal_drops(accuracy, weights, edge)
        op = max(range(weights.shape[1]), key=lambda o: (drops[o], float(weights[edge, o])))
        weights = weights.at[edge].set(jax.nn.one_hot(op, weights.shape[1], dtype=weights.dtype))
        decided[edge] = (op, drops)
        if i + 1 < len(edges):  # fine-tuning after the last decision would inform nothing
            finetune(weights, len(edges) - i - 1)

    run_units(budget or Budget(None), decide, max_units=len(edges))
    return weights, decided


def search(dataset, setup) -> dict:
    budget = Budget(setup.budget_s)
    supernet_budget = Budget(setup.budget_s * SUPERNET_SHARE, start=budget.start) if budget.limited else budget
    result, state = gradient_search.search(dataset, setup, darts.rule(1), budget=supernet_budget)
    loop, task = state.loop, state.task
    x, y = loop.batch(jax.random.key(setup.seed + 1), task.val, task, EVAL_EXAMPLES)
    params = state.params
    w_opt = optax.sgd(setup.weight_lr, momentum=0.9)

    @jax.jit
    def accuracy(params, weights):
        return jnp.mean(jnp.argmax(loop.model.apply({"params": params}, x, weights), -1) == y)

    @functools.partial(jax.jit, static_argnums=3)
    def finetune_steps(params, weights, key, steps):
        def step(carry, key):
            params, opt_state = carry
            batch = loop.batch(key, task.train, task, setup.batch_size)
            grads = jax.grad(lambda p: cross_entropy(loop.model.apply({"params": p}, batch[0], weights),
                                                     batch[1]))(params)
            updates, opt_state = w_opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None
        (params, _), _ = jax.lax.scan(step, (params, w_opt.init(params)), jax.random.split(key, steps))
        return params

    finetune_key, finetuned = jax.random.key(setup.seed + 2), 0

    def finetune(weights, edges_left):
        def chunk(steps):
            nonlocal params, finetune_key, finetuned
            finetune_key, key = jax.random.split(finetune_key)
            params = jax.block_until_ready(finetune_steps(params, weights, key, steps))
            finetuned += steps

        if not budget.limited:
            return chunk(max(setup.steps // (2 * search_space.NUM_EDGES), 1))
        # This decision's share of what is left (the next decisions' evaluations included).
        share = Budget(budget.left() / (edges_left + 1), clock=budget.clock)
        run_units(share, lambda _: chunk(FINETUNE_STEPS), max_units=None)

    softmax = jax.nn.softmax(state.alpha, axis=-1)
    edges = np.random.default_rng(setup.seed).permutation(search_space.NUM_EDGES)
    _, decided = select(lambda w: float(accuracy(params, w)), finetune, softmax, edges, budget)
    scores = np.array(softmax)
    for edge, (op, _) in decided.items():
        scores[edge] = (1 - _TIE_BREAK) * np.eye(search_space.NUM_OPS)[op] + _TIE_BREAK * scores[edge]
    result.update(method="darts-pt", genotype=str(search_space.discretize(scores)), search_s=budget.elapsed(),
                  budget_s=setup.budget_s, steps=state.steps + finetuned,
                  supernet_genotype=result["genotype"], decided=len(decided),
                  # {"target<-source": accuracy drop of removing each op, in search_space.OPS order}
                  removal_drops={"{}<-{}".format(*search_space.EDGES[e]): d.tolist() for e, (_, d) in decided.items()})
    return result

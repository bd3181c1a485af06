"""The alternating weight/architecture loop that DARTS and its successors share.

Architecture logits ``alpha`` and supernet weights ``w`` are updated in alternation, one
step each per search step, as NAS-Bench-201 runs DARTS. A method is an ``ArchRule``: how
``alpha`` becomes the mixture the supernet runs (``mixture``: DARTS's softmax, GDAS's
sampled one-hot, DrNAS's Dirichlet draw), optionally another mixture for the weight step
(``weight_mixture``: SDARTS's smoothing), a regulariser on ``alpha`` (DrNAS's anchor) and
the distribution a cell is discretized from (``selection``). ``darts``, ``gdas``, ``drnas``,
``sdarts`` and ``darts_pt`` are small modules that define one each.

First order: ``grad_alpha L_val(w, alpha)``. Second order, the bilevel formulation:
``grad_alpha L_val(w - xi * grad_w L_train(w, alpha), alpha)``, differentiated by
``jax.grad`` through the unrolled weight step.

Schedules at this machine's budget. DARTS's own schedule (50 CIFAR epochs of ~391 steps,
Adam at 3e-4 on the architecture) lets Adam move each logit by up to ~5.9; at a few
hundred steps the same rate would move it by under 0.1 and leave the mixture uniform.
So the architecture rate is ``ARCH_TRAVEL / steps`` unless given: the same possible
travel as DARTS's schedule, whatever the budget. The weights follow DARTS's cosine decay
from ``weight_lr`` to ``weight_lr / 25`` (0.025 -> 0.001 in DARTS). ``progress`` (0 -> 1
over the architecture's steps) drives annealed temperatures.

Budgets: with ``setup.budget_s`` the search runs in chunks of ``DARTS_CHUNK`` steps. The
first ``WARMUP_CHUNKS`` train the weights only (architecture frozen: a warm-up, as PC-DARTS
has) and the last of them measures the speed; the schedules then span the steps that fit in
what is left, and the last chunk runs only the steps that fit (later steps of its program
are idle), so a search ends within about one step of its budget, not one chunk.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from datasets_meta import Dataset
from dimo.inner.teacher_loss import cross_entropy
from dimo.inner.types import make_task
from dimo.inner.unroll import InnerConfig, InnerLoop
from dimo.search.budget import Budget
from dimo.space import search_space
from dimo.space.supernet import Supernet

# How far Adam may move each architecture logit over DARTS's own schedule: 3e-4 x 50 x 391.
ARCH_TRAVEL = 3e-4 * 50 * 391
# Search steps per compiled chunk when a wall-clock budget decides how many chunks run.
DARTS_CHUNK = 50
# Weights-only chunks before the architecture moves, budget allowing; the last one's time
# decides how many chunks fit.
WARMUP_CHUNKS = 2


def _zero(alpha):
    return jnp.zeros([], alpha.dtype)


@dataclasses.dataclass(frozen=True)
class ArchRule:
    """One gradient-based method: functions of the logits ``alpha`` [edges, ops]."""

    name: str
    mixture: Callable  # (alpha, key, progress) -> [edges, ops] weights the supernet runs
    selection: Callable  # alpha -> [edges, ops] distribution a cell is discretized from
    weight_mixture: Callable | None = None  # the weight step's mixture (default: ``mixture``)
    regularizer: Callable = _zero  # alpha -> scalar added to the architecture's loss


@dataclasses.dataclass
class SearchState:
    """What a search leaves: enough to go on from it (DARTS-PT's selection does), and the
    selection distribution after every step, [steps, edges, ops] (how the mixture moved)."""

    loop: InnerLoop
    task: object
    params: dict
    alpha: jax.Array
    steps: int
    selections: np.ndarray


def _cosine(step, total, peak):
    """DARTS's weight schedule, from ``peak`` to ``peak / 25`` over ``total`` steps (traced)."""
    progress = jnp.minimum(step / total, 1.0)
    return peak * (1 / 25 + (1 - 1 / 25) * 0.5 * (1 + jnp.cos(jnp.pi * progress)))


def search(dataset: Dataset, setup, rule: ArchRule, order: int = 1, budget: Budget | None = None,
           warmup_steps: int = 0):
    """``rule``'s search for ``setup.steps`` steps, or for as many as ``budget`` (default:
    ``setup.budget_s``) allows. Without a budget the first ``warmup_steps`` of the steps
    train the weights alone (with one, ``WARMUP_CHUNKS`` chunks do). Returns ``(result
    dict, SearchState)``."""
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order}")
    if not 0 <= warmup_steps < setup.steps:
        raise ValueError(f"warmup_steps must be in [0, steps={setup.steps}), got {warmup_steps}")
    budget = budget or Budget(setup.budget_s)
    task = make_task(dataset)
    loop = InnerLoop(Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage,
                              normalize_free_ops=setup.normalize_free_ops),
                     InnerConfig(batch_size=setup.batch_size, loss="ce", optimizer="sgd"))
    init_key, alpha_key, data_key = jax.random.split(jax.random.key(setup.seed), 3)
    alpha = 1e-3 * jax.random.normal(alpha_key, (search_space.NUM_EDGES, search_space.NUM_OPS))
    example = jnp.zeros((1,) + dataset.image_shape)
    # Jitted: run eagerly, the init compiles ~100 one-op programs (~6 s here); bit-identical.
    params = jax.jit(loop.model.init)(init_key, example, jax.nn.softmax(alpha))["params"]
    # Directions only; the rates (cosine for weights, ARCH_TRAVEL / total for the
    # architecture) are applied per step, since with a budget the total is known late.
    w_opt = optax.chain(optax.add_decayed_weights(3e-4), optax.trace(decay=0.9))
    a_opt = optax.chain(optax.add_decayed_weights(1e-3), optax.scale_by_adam(b1=0.5, b2=0.999))
    run = _chunk_program(loop, task, setup, rule, order, data_key, w_opt, a_opt)

    initial = np.asarray(rule.selection(alpha))
    carry = (params, alpha, w_opt.init(params), a_opt.init(alpha), _schedule(setup, setup.steps))
    if budget.limited:
        carry, outputs, done, warmup_s = _run_on_budget(run, carry, setup, budget)
    else:
        outputs, warmup_s = [], []
        if warmup_steps:
            carry, chunk_out = run(carry[:4] + (_schedule(setup, np.inf, arch_steps=0),), jnp.arange(warmup_steps))
            outputs.append(chunk_out)
            carry = carry[:4] + (_schedule(setup, setup.steps, arch_steps=setup.steps - warmup_steps),)
        carry, chunk_out = run(carry, jnp.arange(warmup_steps, setup.steps))
        outputs, done = outputs + [chunk_out], setup.steps
    params, alpha = carry[0], carry[1]
    selected = np.asarray(rule.selection(alpha))
    selections = np.concatenate([np.asarray(o[1]) for o in outputs])
    losses = np.concatenate([np.asarray(o[0]) for o in outputs])
    result = {"method": rule.name, "genotype": str(search_space.discretize(selected)),
              "arch_weights": selected.tolist(), "initial_arch_weights": initial.tolist(),
              "arch_lr": float(carry[4]["arch_lr"]), "final_train_loss": float(losses[-1]),
              "steps": done, "budget_s": budget.seconds, "search_s": budget.elapsed(),
              "warmup_chunk_s": warmup_s}
    return result, SearchState(loop, task, params, alpha, done, selections)


def _schedule(setup, total, arch_steps=None) -> dict:
    """Weight cosine over ``total`` steps; the architecture rate spreads ARCH_TRAVEL over its
    last ``arch_steps`` (default all of them; 0 freezes the architecture)."""
    arch_steps = total if arch_steps is None else arch_steps
    rate = setup.arch_lr if setup.arch_lr is not None else ARCH_TRAVEL / max(arch_steps, 1)
    return {"total": jnp.float32(total), "arch_lr": jnp.float32(rate if arch_steps else 0.0),
            # progress stays 0 while the architecture is frozen (the warm-up)
            "arch_start": jnp.float32(total - arch_steps if arch_steps else np.inf),
            "arch_steps": jnp.float32(max(arch_steps, 1) if np.isfinite(arch_steps) else 1.0)}


def _chunk_program(loop, task, setup, rule: ArchRule, order: int, data_key, w_opt, a_opt):
    """The jitted scan over a chunk of search steps: per step, the training loss and the
    selection distribution (how the mixture moves)."""
    weight_mixture = rule.weight_mixture or rule.mixture

    def loss(params, weights, batch):
        x, y = batch
        return cross_entropy(loop.model.apply({"params": params}, x, weights), y)

    def search_step(carry, step):
        params, alpha, w_state, a_state, schedule = carry
        keys = jax.random.split(jax.random.fold_in(data_key, step), 4)
        train = loop.batch(keys[0], task.train, task, setup.batch_size)
        val = loop.batch(keys[1], task.val, task, setup.batch_size)
        weight_lr = _cosine(step, schedule["total"], setup.weight_lr)
        progress = jnp.clip((step - schedule["arch_start"]) / schedule["arch_steps"], 0.0, 1.0)

        def arch_loss(alpha):
            weights = rule.mixture(alpha, keys[2], progress)
            if order == 2:  # one virtual weight step, xi = the current weight lr
                w_grad = jax.grad(loss)(params, weights, train)
                virtual = jax.tree.map(lambda p, g: p - weight_lr * g, params, w_grad)
                return loss(virtual, weights, val) + rule.regularizer(alpha)
            return loss(params, weights, val) + rule.regularizer(alpha)

        a_direction, a_state = a_opt.update(jax.grad(arch_loss)(alpha), a_state, alpha)
        alpha = alpha - schedule["arch_lr"] * a_direction
        weights = jax.lax.stop_gradient(weight_mixture(alpha, keys[3], progress))
        train_loss, w_grad = jax.value_and_grad(loss)(params, weights, train)
        w_direction, w_state = w_opt.update(w_grad, w_state, params)
        params = jax.tree.map(lambda p, d: p - weight_lr * d, params, w_direction)
        return (params, alpha, w_state, a_state, schedule), (train_loss, rule.selection(alpha))

    def idle_step(carry, step):
        return carry, (jnp.full([], jnp.nan, jnp.float32), rule.selection(carry[1]))

    def planned_step(carry, step):
        # Steps at or past the planned total change nothing: a budget's last chunk runs only
        # the steps that fit, with the one compiled chunk program.
        return jax.lax.cond(step < carry[4]["total"], search_step, idle_step, carry, step)

    return jax.jit(lambda carry, steps: jax.lax.scan(planned_step, carry, steps))


def _run_on_budget(run, carry, setup, budget: Budget):
    """Chunks of ``DARTS_CHUNK`` steps while the budget allows: first the weights alone, then
    every step that fits. Returns (carry, per-chunk outputs, steps done, warm-up chunk seconds)."""
    outputs, done, warmup_s = [], 0, []
    steps = lambda n: jnp.arange(done, done + n)  # noqa: E731
    # Warm-up: weights only, at the peak rate (an unbounded total keeps the cosine at its start).
    carry = carry[:4] + (_schedule(setup, np.inf, arch_steps=0),)
    run = run.lower(carry, steps(DARTS_CHUNK)).compile()
    while len(warmup_s) < WARMUP_CHUNKS and (not warmup_s or budget.allows(warmup_s[-1])):
        tick = time.perf_counter()
        carry, chunk_out = run(carry, steps(DARTS_CHUNK))
        jax.block_until_ready(chunk_out[0])
        warmup_s.append(max(time.perf_counter() - tick, 1e-6))
        outputs.append(chunk_out)
        done += DARTS_CHUNK
    # The last warm-up chunk times the rest: the first execution of a fresh program can run
    # slower. Every step that fits is planned; the last chunk runs only those left.
    step_s = warmup_s[-1] / DARTS_CHUNK
    planned = max(int(budget.left() // step_s), 0)  # none when the warm-up spent the budget
    end = done + planned
    carry = carry[:4] + (_schedule(setup, end, arch_steps=planned),)
    while done < end and budget.allows((active := min(DARTS_CHUNK, end - done)) * step_s):
        tick = time.perf_counter()
        carry, chunk_out = run(carry, steps(DARTS_CHUNK))
        jax.block_until_ready(chunk_out[0])
        if active == DARTS_CHUNK:  # the latest full chunk estimates the next
            step_s = max(time.perf_counter() - tick, 1e-6) / DARTS_CHUNK
        outputs.append(jax.tree.map(lambda a, n=active: a[:n], chunk_out))
        done += active
    return carry, outputs, done, warmup_s

"""Baselines on the same supernet and data: DARTS and random search.

* **DARTS** (Liu et al., 2019), as NAS-Bench-201 runs it: architecture logits ``alpha``
  and supernet weights ``w`` updated in alternation, one step each per search step.
  First order: ``grad_alpha L_val(w, alpha)``. Second order, the bilevel formulation:
  ``grad_alpha L_val(w - xi * grad_w L_train(w, alpha), alpha)``, differentiated by
  ``jax.grad`` through the unrolled weight step.
* **Random search**: distinct connected genotypes in a seeded random order, each trained
  from scratch for ``candidate_steps`` (default ``steps / num_candidates``, the same total
  in inner steps), best by accuracy on the whole validation split. Candidates are trained as supernets with
  one-hot weights (equal to the discrete network, see tests/test_supernet.py), which lets
  all of them share one compiled program.

Schedules at this machine's budget. DARTS's own schedule (50 CIFAR epochs of ~391 steps,
Adam at 3e-4 on the architecture) lets Adam move each logit by up to ~5.9; at a few
hundred steps the same rate would move it by under 0.1 and leave the mixture uniform.
So the architecture rate is ``ARCH_TRAVEL / steps`` unless given: the same possible
travel as DARTS's schedule, whatever the budget. The weights follow DARTS's cosine decay
from ``weight_lr`` to ``weight_lr / 25`` (0.025 -> 0.001 in DARTS).

Budgets: with ``budget_s`` (``dimo search --budget``) a search runs until its wall clock,
compile included, would pass the budget (``dimo.budget``): random search tries as many
candidates as fit, DARTS as many chunks of steps, with its schedules spanning them.

Selection and reporting are apart: methods select on the validation split (random
search) or on their architecture weights (DARTS) and never report validation accuracy
as the result; ``dimo search`` trains the selected cell under the cell table's protocol
and reports its test accuracy.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from datasets_meta import Dataset
from dimo import evaluate
from dimo.budget import Budget, BudgetedScorer, OutOfBudget, run_units
from dimo import search_space as ss
from dimo.supernet import Supernet
from dimo.teacher_loss import cross_entropy
from dimo.unroll import InnerConfig, InnerLoop, Recipe, make_task


@dataclasses.dataclass(frozen=True)
class SearchSetup:
    steps: int = 300  # budget in inner (weight) steps, when budget_s is None
    channels: int = 8
    cells_per_stage: int = 1
    batch_size: int = 64
    weight_lr: float = 0.05
    arch_lr: float | None = None  # None: ARCH_TRAVEL / steps
    num_candidates: int = 5  # random search, when budget_s is None
    candidate_steps: int | None = None  # random search: steps per candidate (None: steps / num_candidates)
    budget_s: float | None = None  # wall-clock budget, compile included (dimo.budget)
    seed: int = 0

    @classmethod
    def from_config(cls, config, **overrides) -> "SearchSetup":
        """The search network at a DiMO config's sizes (``config.model``), so a search and
        the proposals it is compared with train the same network."""
        return cls(channels=config.model.channels, cells_per_stage=config.model.cells_per_stage, **overrides)

    @property
    def evaluations_without_budget(self) -> int | None:
        """The count that bounds a discrete search when no wall-clock budget does."""
        return None if self.budget_s else self.num_candidates

    @property
    def steps_per_candidate(self) -> int:
        return self.candidate_steps or max(self.steps // self.num_candidates, 1)


# How far Adam may move each architecture logit over DARTS's own schedule: 3e-4 x 50 x 391.
ARCH_TRAVEL = 3e-4 * 50 * 391
# Search steps per compiled chunk when a wall-clock budget decides how many chunks run.
DARTS_CHUNK = 50


def _cosine(step, total, peak):
    """DARTS's weight schedule, from ``peak`` to ``peak / 25`` over ``total`` steps (traced)."""
    progress = jnp.minimum(step / total, 1.0)
    return peak * (1 / 25 + (1 - 1 / 25) * 0.5 * (1 + jnp.cos(jnp.pi * progress)))


def darts(dataset: Dataset, setup: SearchSetup, order: int = 1) -> dict:
    """DARTS for ``setup.steps`` steps, or, with ``setup.budget_s``, for as many as fit.

    With a budget the search runs in chunks of ``DARTS_CHUNK`` steps. The first chunk
    trains the weights only (architecture frozen: a warm-up, as PC-DARTS has) and measures
    the speed; the schedules then span the steps that fit in what is left, so the
    architecture can travel ``ARCH_TRAVEL`` whatever the budget.
    """
    if order not in (1, 2):
        raise ValueError(f"DARTS order must be 1 or 2, got {order}")
    budget = Budget(setup.budget_s)
    task = make_task(dataset)
    loop = InnerLoop(Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage),
                     InnerConfig(batch_size=setup.batch_size, loss="ce", optimizer="sgd"))
    key = jax.random.key(setup.seed)
    init_key, alpha_key, data_key = jax.random.split(key, 3)
    alpha = 1e-3 * jax.random.normal(alpha_key, (ss.NUM_EDGES, ss.NUM_OPS))
    example = jnp.zeros((1,) + dataset.image_shape)
    params = loop.model.init(init_key, example, jax.nn.softmax(alpha))["params"]
    # Directions only; the rates (cosine for weights, ARCH_TRAVEL / total for the
    # architecture) are applied per step, since with a budget the total is known late.
    w_opt = optax.chain(optax.add_decayed_weights(3e-4), optax.trace(decay=0.9))
    a_opt = optax.chain(optax.add_decayed_weights(1e-3), optax.scale_by_adam(b1=0.5, b2=0.999))

    def loss(params, alpha, batch):
        x, y = batch
        return cross_entropy(loop.model.apply({"params": params}, x, jax.nn.softmax(alpha)), y)

    def search_step(carry, step):
        params, alpha, w_state, a_state, schedule = carry
        train_key, val_key = jax.random.split(jax.random.fold_in(data_key, step))
        train = loop.batch(train_key, task.train, task, setup.batch_size)
        val = loop.batch(val_key, task.val, task, setup.batch_size)
        weight_lr = _cosine(step, schedule["total"], setup.weight_lr)
        if order == 1:
            a_grad = jax.grad(loss, 1)(params, alpha, val)
        else:
            def unrolled_val_loss(alpha):  # one virtual weight step, xi = the current weight lr
                w_grad = jax.grad(loss)(params, alpha, train)
                virtual = jax.tree.map(lambda p, g: p - weight_lr * g, params, w_grad)
                return loss(virtual, alpha, val)
            a_grad = jax.grad(unrolled_val_loss)(alpha)
        a_direction, a_state = a_opt.update(a_grad, a_state, alpha)
        alpha = alpha - schedule["arch_lr"] * a_direction
        train_loss, w_grad = jax.value_and_grad(loss)(params, alpha, train)
        w_direction, w_state = w_opt.update(w_grad, w_state, params)
        params = jax.tree.map(lambda p, d: p - weight_lr * d, params, w_direction)
        return (params, alpha, w_state, a_state, schedule), train_loss

    run = jax.jit(lambda carry, steps: jax.lax.scan(search_step, carry, steps))

    def schedule(total, arch_steps=None):
        """Weight cosine over ``total`` steps; the architecture rate spreads ARCH_TRAVEL
        over ``arch_steps`` (default all of them; 0 freezes the architecture)."""
        arch_steps = total if arch_steps is None else arch_steps
        rate = setup.arch_lr if setup.arch_lr is not None else ARCH_TRAVEL / max(arch_steps, 1)
        return {"total": jnp.float32(total), "arch_lr": jnp.float32(rate if arch_steps else 0.0)}

    initial = np.asarray(jax.nn.softmax(alpha))
    carry = (params, alpha, w_opt.init(params), a_opt.init(alpha), schedule(setup.steps))
    losses, done = [], 0
    if not budget.limited:
        carry, chunk_losses = run(carry, jnp.arange(setup.steps))
        losses, done = [chunk_losses], setup.steps
    else:
        steps = lambda n: jnp.arange(done, done + n)  # noqa: E731
        # Warm-up: weights only, at the peak rate (an unbounded total keeps the cosine at its start).
        carry = carry[:4] + (schedule(np.inf, arch_steps=0),)
        run = run.lower(carry, steps(DARTS_CHUNK)).compile()
        tick = time.perf_counter()
        carry, chunk_losses = run(carry, steps(DARTS_CHUNK))
        jax.block_until_ready(chunk_losses)
        chunk_s = max(time.perf_counter() - tick, 1e-6)
        losses, done = [chunk_losses], DARTS_CHUNK
        chunks = max(int(budget.left() // chunk_s), 0)  # none when the warm-up spent the budget
        carry = carry[:4] + (schedule(done + DARTS_CHUNK * chunks, arch_steps=DARTS_CHUNK * chunks),)

        def chunk(_):
            nonlocal carry, done
            carry, chunk_losses = run(carry, steps(DARTS_CHUNK))
            jax.block_until_ready(chunk_losses)
            done += DARTS_CHUNK
            return chunk_losses

        if chunks:
            losses += run_units(budget, chunk, max_units=chunks)
    alpha = np.asarray(jax.nn.softmax(carry[1]))
    losses = np.concatenate([np.asarray(l) for l in losses])
    return {"method": f"darts-{'first' if order == 1 else 'second'}-order", "genotype": str(ss.discretize(alpha)),
            "arch_weights": alpha.tolist(), "initial_arch_weights": initial.tolist(),
            "arch_lr": float(carry[4]["arch_lr"]), "final_train_loss": float(losses[-1]),
            "steps": done, "budget_s": setup.budget_s, "search_s": budget.elapsed()}


def random_cells(seed: int):
    """Distinct connected cells in a seeded random order (a cell whose output cannot be
    reached from its input is never worth a candidate's training)."""
    rng, seen = np.random.default_rng(seed), set()
    while len(seen) < ss.NUM_CELLS:
        index = int(rng.integers(0, ss.NUM_CELLS))
        if index not in seen:
            seen.add(index)
            genotype = ss.Genotype.from_index(index)
            if genotype.connected:
                yield genotype


def candidate_scorer(dataset: Dataset, setup: SearchSetup):
    """``score(genotype, steps, seed_offset)``: the validation accuracy (whole split,
    training statistics) of ``genotype`` trained from scratch for ``steps`` SGD steps.

    Cells train as supernets with one-hot weights (equal to the discrete network, see
    tests/test_supernet.py), so all cells share one compiled program per step count.
    """
    task = make_task(dataset)
    programs = {}

    def program(steps: int):
        if steps not in programs:
            loop = InnerLoop(Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage),
                             InnerConfig(steps=steps, batch_size=setup.batch_size, val_batch_size=500,
                                         optimizer="sgd", loss="ce", learning_rate=setup.weight_lr * 2,
                                         remat=False))

            @jax.jit
            def train(arch_weights, key):
                recipe = Recipe(arch_weights, jnp.ones([]), jnp.asarray(5e-4))
                state = loop.init(key, {"optimizer": None, "teacher": None}, recipe, task)
                return loop.unroll({"optimizer": None, "teacher": None}, recipe, task, state, steps)[0].params

            programs[steps] = loop, train
        return programs[steps]

    def score(genotype: ss.Genotype, steps: int, seed_offset: int = 0) -> float:
        loop, train = program(steps)
        recipe = Recipe(jnp.asarray(genotype.one_hot()), jnp.ones([]), jnp.asarray(5e-4))
        params = train(recipe.arch_weights, jax.random.key(setup.seed * 1000 + seed_offset))
        # Selection only: the whole validation split, normalised with training statistics.
        return evaluate.accuracy_on(loop, params, recipe, dataset, "val")

    return score


def random_search(dataset: Dataset, setup: SearchSetup) -> dict:
    """Random search: ``num_candidates`` cells, or, with ``setup.budget_s``, as many as fit."""
    scorer = budgeted_scorer(dataset, setup, max_evaluations=setup.evaluations_without_budget)
    try:
        for genotype in random_cells(setup.seed):
            scorer(genotype, setup.steps_per_candidate)
    except OutOfBudget:
        pass
    return scorer.result("random")


def budgeted_scorer(dataset: Dataset, setup: SearchSetup, max_evaluations: int | None = None) -> BudgetedScorer:
    """The scorer a discrete search evaluates cells with, bounded by ``setup``'s wall-clock
    budget and by ``max_evaluations`` (None: unbounded in count)."""
    return BudgetedScorer(candidate_scorer(dataset, setup), Budget(setup.budget_s), max_evaluations=max_evaluations)

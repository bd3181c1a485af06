"""The search setup every method shares, and random search on the same supernet and data.

* ``SearchSetup``: sizes, budget and seed of a search, the same for every method of
  ``dimo.search.registry`` (gradient-based ones in ``dimo.search.gradient_search``).
* **Random search**: distinct connected genotypes in a seeded random order, each trained
  from scratch for ``candidate_steps`` (default ``steps / num_candidates``, the same total
  in inner steps), best by accuracy on the whole validation split. Candidates are trained as supernets with
  one-hot weights (equal to the discrete network, see tests/test_supernet.py), which lets
  all of them share one compiled program (``candidate_scorer``, which the other discrete
  searches use too).

Budgets: with ``budget_s`` (``dimo search --budget``) a search runs until its wall clock,
compile included, would pass the budget (``dimo.search.budget``): random search tries as many
candidates as fit.

Selection and reporting are apart: methods select on the validation split (discrete
searches) or on their architecture weights (gradient-based ones) and never report
validation accuracy as the result; ``dimo search`` trains the selected cell under the cell
table's protocol and reports its test accuracy.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from datasets_meta import Dataset
from dimo.evaluation import evaluate
from dimo.inner.types import Recipe, make_task
from dimo.inner.unroll import InnerConfig, InnerLoop
from dimo.search.budget import Budget, BudgetedScorer, OutOfBudget
from dimo.space import search_space
from dimo.space.supernet import Supernet


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
    budget_s: float | None = None  # wall-clock budget, compile included (dimo.search.budget)
    seed: int = 0
    # Gradient searches: a non-affine normalisation after skip and pooling in the mixture,
    # so an op's weight is not confounded with its output's scale (dimo.space.supernet).
    normalize_free_ops: bool = False

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


def random_cells(seed: int):
    """Distinct connected cells in a seeded random order (a cell whose output cannot be
    reached from its input is never worth a candidate's training)."""
    rng, seen = np.random.default_rng(seed), set()
    while len(seen) < search_space.NUM_CELLS:
        index = int(rng.integers(0, search_space.NUM_CELLS))
        if index not in seen:
            seen.add(index)
            genotype = search_space.Genotype.from_index(index)
            if genotype.connected:
                yield genotype


# Candidates train in chunks of this many steps, one compiled program for every rung length.
SCORE_CHUNK = 50
_NO_META = {"optimizer": None, "teacher": None}


def _recipe(arch_weights) -> Recipe:
    return Recipe(arch_weights, jnp.ones([]), jnp.asarray(5e-4))


# Module-level programs with the loop static and the task an argument (not a constant baked
# into the program): every search, seed and rung of one process shares them.
@functools.partial(jax.jit, static_argnums=0)
def _init_candidate(loop: InnerLoop, arch_weights, key, task):
    return loop.init(key, _NO_META, _recipe(arch_weights), task)


@functools.partial(jax.jit, static_argnums=0)
def _train_chunk(loop: InnerLoop, arch_weights, state, active, task):
    def step(state, i):  # steps past `active` leave the state as it is
        return jax.lax.cond(i < active, lambda s: loop.step(_NO_META, _recipe(arch_weights), task, s)[0],
                            lambda s: s, state), None

    return jax.lax.scan(step, state, jnp.arange(SCORE_CHUNK))[0]


def candidate_scorer(dataset: Dataset, setup: SearchSetup):
    """``score(genotype, steps, seed_offset)``: the validation accuracy (whole split,
    training statistics) of ``genotype`` trained from scratch for ``steps`` SGD steps.

    Cells train as supernets with one-hot weights (equal to the discrete network, see
    tests/test_supernet.py), in chunks of ``SCORE_CHUNK`` steps whose last one may stop early,
    so all cells and all step counts (successive halving's rungs) share one compiled program.
    """
    task = make_task(dataset)
    loop = InnerLoop(Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage),
                     InnerConfig(steps=SCORE_CHUNK, batch_size=setup.batch_size, val_batch_size=500,
                                 optimizer="sgd", loss="ce", learning_rate=setup.weight_lr * 2, remat=False))

    def score(genotype: search_space.Genotype, steps: int, seed_offset: int = 0) -> float:
        arch_weights = jnp.asarray(genotype.one_hot())
        state = _init_candidate(loop, arch_weights, jax.random.key(setup.seed * 1000 + seed_offset), task)
        for done in range(0, steps, SCORE_CHUNK):
            state = _train_chunk(loop, arch_weights, state, jnp.int32(min(SCORE_CHUNK, steps - done)), task)
        # Selection only: the whole validation split, normalised with training statistics.
        return evaluate.accuracy_on(loop, state.params, _recipe(arch_weights), dataset, "val")

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

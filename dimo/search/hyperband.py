"""Hyperband (Li et al., 2018): successive halving in brackets that trade breadth for depth.

With a most-trained length ``R`` steps and ``eta``, bracket ``s`` (``s = s_max .. 0``,
``s_max = floor(log_eta(R / r_min))``) starts ``ceil((s_max + 1) / (s + 1) * eta**s)``
random cells at ``R / eta**s`` steps and halves them (``dimo.search.successive_halving``): the
first bracket tries many cells briefly, the last a few cells at full length, so the
search does not bet on whether short training ranks cells well. Brackets repeat until
the budget ends; the answer is the best cell at the longest training reached.
"""

from __future__ import annotations

import math

from datasets_meta import Dataset
from dimo.search import discrete
from dimo.search.budget import OutOfBudget
from dimo.search.successive_halving import successive_halving


def brackets(max_steps: int, min_steps: int, eta: int = 3) -> list[tuple[int, int]]:
    """[(cells, first-rung steps)] of one Hyperband sweep, most exploratory first.

    >>> brackets(900, 100)
    [(9, 100), (5, 300), (3, 900)]
    """
    s_max = int(math.floor(math.log(max_steps / min_steps, eta) + 1e-9))
    return [(int(math.ceil((s_max + 1) / (s + 1) * eta ** s)), max(int(max_steps // eta ** s), 1))
            for s in range(s_max, -1, -1)]


def hyperband(score, cells, max_steps: int, min_steps: int, eta: int = 3, sweeps: int | None = 1) -> int:
    """Runs brackets (``sweeps`` sweeps, or until ``score`` raises ``OutOfBudget`` when
    None); ``score(genotype, steps)``, ``cells`` an iterator of fresh cells. Returns the
    number of brackets completed."""
    done, sweep = 0, 0
    try:
        while sweeps is None or sweep < sweeps:
            for n, steps in brackets(max_steps, min_steps, eta):
                successive_halving([next(cells) for _ in range(n)], lambda g, s, rung: score(g, s), steps, eta)
                done += 1
            sweep += 1
    except OutOfBudget:
        pass
    return done


def search(dataset: Dataset, setup: discrete.SearchSetup, eta: int = 3) -> dict:
    """Hyperband with the longest training ``setup.steps_per_candidate`` and the shortest
    a ninth of it (three brackets at eta 3)."""
    scorer = discrete.budgeted_scorer(dataset, setup)  # without a budget: one sweep of brackets
    longest = setup.steps_per_candidate
    completed = hyperband(scorer, discrete.random_cells(setup.seed), longest, max(longest // eta ** 2, 1), eta,
                          sweeps=None if setup.budget_s else 1)
    return scorer.result("hyperband", brackets_completed=completed, eta=eta)

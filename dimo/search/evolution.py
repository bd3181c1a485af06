"""Regularised (aging) evolution over cells (Real et al., 2019), on the shared cell scorer.

A population of ``population_size`` cells, first drawn at random; then, repeatedly, the
best of ``sample_size`` members drawn at random is mutated (one edge's op changed to
another, the child kept connected), the child is trained and scored on the validation
split and joins the population, and the *oldest* member leaves it, whatever its score.
Aging rather than culling the worst is the method's point: a cell stays only as long as
its descendants keep being good, which guards against one lucky evaluation.
"""

from __future__ import annotations

import collections

import numpy as np

from datasets_meta import Dataset
from dimo.search import discrete
from dimo.search.budget import OutOfBudget
from dimo.space import search_space


def mutate(genotype: search_space.Genotype, rng: np.random.Generator) -> search_space.Genotype:
    """One edge's op replaced by a different op; redrawn until the cell is connected."""
    while True:
        ops = list(genotype.ops)
        edge = int(rng.integers(search_space.NUM_EDGES))
        ops[edge] = search_space.OPS[int(rng.choice([i for i in range(search_space.NUM_OPS) if search_space.OPS[i] != ops[edge]]))]
        child = search_space.Genotype(tuple(ops))
        if child.connected:
            return child


def aging_evolution(score, rng: np.random.Generator, population_size: int, sample_size: int,
                    first_cells) -> collections.deque:
    """Runs until ``score`` raises ``OutOfBudget``; returns the final population, a deque of
    (genotype, score), oldest first. ``score(genotype)``; ``first_cells`` an iterator of
    cells for the initial population."""
    population = collections.deque()
    try:
        while True:
            if len(population) < population_size:
                child = next(first_cells)
            else:
                sample = [population[int(i)] for i in rng.choice(len(population), sample_size, replace=False)]
                child = mutate(max(sample, key=lambda member: member[1])[0], rng)
            population.append((child, score(child)))
            if len(population) > population_size:
                population.popleft()  # the oldest, not the worst
    except OutOfBudget:
        return population


def search(dataset: Dataset, setup: discrete.SearchSetup, population_size: int = 8,
           sample_size: int = 3) -> dict:
    scorer = discrete.budgeted_scorer(dataset, setup, setup.evaluations_without_budget)
    rng = np.random.default_rng(setup.seed)
    aging_evolution(lambda g: scorer(g, setup.steps_per_candidate), rng, population_size, sample_size,
                    discrete.random_cells(setup.seed))
    return scorer.result("evolution", population_size=population_size, sample_size=sample_size)

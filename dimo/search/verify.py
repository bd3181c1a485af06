"""``dimo propose --verify N``: DiMO's most probable cells, checked on the target dataset.

A proposal is one draw from what DiMO believes; a user with a few minutes can afford to
check more of that belief. ``verify`` takes the ``n`` most probable distinct connected cells
under the decoded architecture distribution (``search_space.most_probable``, one per pruned
form) and picks among them by successive halving on the target dataset's validation split
(``dimo.search.successive_halving``; each cell trained from scratch with SGD, as random search's
candidates are, ``dimo.search.discrete.candidate_scorer``). The test split is never read.

``protocol="C"`` trains each candidate as the top judge does (``dimo.evaluation.judge``: its
image size, network, SGD and weight decay), shortened to the rung's length with the cosine ending
there; the first rung then defaults to a ninth of the judge's 4,000 steps, so that 3 to 26
candidates take rungs of 444 and 1,332 steps (#36, hypothesis 4: verification with the top
judge's protocol, its cost counted).
"""

from __future__ import annotations

import dataclasses
import time

import jax

from datasets_meta import Dataset
from dimo.evaluation import judge
from dimo.search import discrete
from dimo.search.successive_halving import successive_halving
from dimo.space import search_space


def judge_scorer(dataset: Dataset, protocol: str, seed: int = 0):
    """``score(genotype, steps, seed_offset)``: the validation accuracy of ``genotype`` trained
    under the top judge's ``protocol`` for ``steps`` steps (``judge.train``; its cosine ends there).
    The dataset's test split is replaced by its validation split, so the trainings read no test image."""
    judge.describe(protocol)  # an unknown protocol is an error before any training
    blind = dataclasses.replace(dataset, test_images=dataset.val_images, test_labels=dataset.val_labels)

    def score(genotype: search_space.Genotype, steps: int, seed_offset: int = 0) -> float:
        # Seeds as the short halving's (discrete.candidate_scorer): distinct within a run; another
        # run's judge seeds may share a number, never the data (a carve of train) or the length.
        jax.clear_caches()  # each cell and rung length compiles programs of its own: free the last
        return judge.train(str(genotype), blind, protocol, seed * 1000 + seed_offset, steps)["val_accuracy"]

    return score


def verify(arch_weights, dataset: Dataset, n: int, setup: discrete.SearchSetup, min_steps: int | None = None,
           eta: int = 3, protocol: str | None = None) -> dict:
    """The best of the ``n`` most probable cells by successive halving; with its rungs. Each cell
    trains as ``discrete.candidate_scorer`` trains it (first rung 100 steps), or with ``protocol``
    as the top judge does (first rung the judge's steps / eta^2)."""
    if protocol is not None and min_steps is None:
        min_steps = judge.describe(protocol)["steps"] // eta ** 2
    min_steps = 100 if min_steps is None else min_steps
    if n < 1 or min_steps < 1:
        raise ValueError(f"--verify needs at least 1 cell and 1 step, got {n} cells, {min_steps} steps")
    start = time.perf_counter()
    cells = search_space.most_probable(arch_weights, n)
    order = {c: i for i, c in enumerate(cells)}
    score = (judge_scorer(dataset, protocol, setup.seed) if protocol is not None
             else discrete.candidate_scorer(dataset, setup))
    winner, rungs = successive_halving(cells, lambda c, steps, rung: score(c, steps, order[c]), min_steps, eta)
    return {"genotype": str(winner), "rank_in_distribution": order[winner] + 1, "protocol": protocol,
            "candidates": [str(c) for c in cells], "steps": sum(r["steps"] * len(r["candidates"]) for r in rungs),
            "rungs": [{"steps": r["steps"], "candidates": [str(c) for c in r["candidates"]],
                       "val_accuracy": r["scores"]} for r in rungs],
            "verify_s": time.perf_counter() - start}

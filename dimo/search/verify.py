"""``dimo propose --verify N``: DiMO's most probable cells, checked on the target dataset.

A proposal is one draw from what DiMO believes; a user with a few minutes can afford to
check more of that belief. ``verify`` takes the ``n`` most probable distinct connected cells
under the decoded architecture distribution (``search_space.most_probable``, one per pruned
form) and picks among them by successive halving on the target dataset's validation split
(``dimo.search.successive_halving``; each cell trained from scratch with SGD, as random search's
candidates are, ``dimo.search.discrete.candidate_scorer``). The test split is never read.
"""

from __future__ import annotations

import time

from datasets_meta import Dataset
from dimo.search import discrete
from dimo.search.successive_halving import successive_halving
from dimo.space import search_space


def verify(arch_weights, dataset: Dataset, n: int, setup: discrete.SearchSetup, min_steps: int = 100,
           eta: int = 3) -> dict:
    """The best of the ``n`` most probable cells by successive halving; with its rungs."""
    if n < 1 or min_steps < 1:
        raise ValueError(f"--verify needs at least 1 cell and 1 step, got {n} cells, {min_steps} steps")
    start = time.perf_counter()
    cells = search_space.most_probable(arch_weights, n)
    order = {c: i for i, c in enumerate(cells)}
    score = discrete.candidate_scorer(dataset, setup)
    winner, rungs = successive_halving(cells, lambda c, steps, rung: score(c, steps, order[c]), min_steps, eta)
    return {"genotype": str(winner), "rank_in_distribution": order[winner] + 1,
            "candidates": [str(c) for c in cells], "steps": sum(r["steps"] * len(r["candidates"]) for r in rungs),
            "rungs": [{"steps": r["steps"], "candidates": [str(c) for c in r["candidates"]],
                       "val_accuracy": r["scores"]} for r in rungs],
            "verify_s": time.perf_counter() - start}

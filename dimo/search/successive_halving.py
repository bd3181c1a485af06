"""Successive halving (Jamieson & Talwalkar, 2016): spend a little on many, more on the best.

Rung 0 scores every candidate at ``min_steps`` of training; each later rung keeps the best
``1 / eta`` of the one before (at least one) and scores them at ``eta`` times the steps,
until one rung keeps a single candidate, the winner. With 9 candidates and ``eta = 3``:
9 x m steps, then 3 x 3m, then the best of those 3 wins (18m steps in all, where training
all 9 for 3m would cost 27m). Hyperband's brackets are this loop with other (n, m) pairs.

>>> scores = {"a": [0.1], "b": [0.5, 0.2], "c": [0.3, 0.4], "d": [0.0]}
>>> winner, rungs = successive_halving(["a", "b", "c", "d"], lambda c, s, r: scores[c][r], 10, eta=2)
>>> winner, [r["steps"] for r in rungs], rungs[1]["candidates"]
('c', [10, 20], ['b', 'c'])
"""

from __future__ import annotations

from typing import Callable, Hashable, Sequence


def successive_halving(candidates: Sequence[Hashable], score: Callable[[Hashable, int, int], float],
                       min_steps: int, eta: int = 3) -> tuple[Hashable, list[dict]]:
    """(winner, rungs); ``score(candidate, steps, rung)`` is higher-better (e.g. validation
    accuracy after ``steps`` of training). Each rung records its steps, candidates, scores."""
    if eta < 2:
        raise ValueError(f"successive halving needs eta >= 2, got {eta}")
    if not candidates:
        raise ValueError("successive halving needs at least one candidate")
    survivors, rungs = list(candidates), []
    while True:
        steps = min_steps * eta ** len(rungs)
        scores = [float(score(c, steps, len(rungs))) for c in survivors]
        rungs.append({"steps": steps, "candidates": list(survivors), "scores": scores})
        ranked = [c for _, c in sorted(zip(scores, range(len(survivors))), key=lambda t: -t[0])]
        survivors = [survivors[i] for i in ranked[:max(len(survivors) // eta, 1)]]
        if len(survivors) == 1:
            return survivors[0], rungs

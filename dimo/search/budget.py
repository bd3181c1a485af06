"""Wall-clock budgets for searches, compile time included.

A search given ``budget_s`` seconds works in units (a candidate trained, a chunk of search
steps) and starts a unit only when the time measured so far says it will end nearer the
budget than stopping now would: it ends at most half a unit over its budget or under it.
("Never over" left searches up to a whole unit under: at 120 s on a machine where a 300-step
candidate took 25 s, discrete searches stopped 10-23 % short, so methods with coarse units
got less time than the rest.) The clock starts when the search starts, before anything is
compiled: a user waits for compiles too.

>>> b = Budget(None)
>>> b.allows(1e9), b.limited
(True, False)
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable


@dataclasses.dataclass
class Budget:
    seconds: float | None  # None: no limit (the search's own step counts decide)
    clock: Callable[[], float] = time.perf_counter
    start: float | None = None  # the clock's reading at the search's start (default: now)

    def __post_init__(self):
        if self.start is None:
            self.start = self.clock()

    @property
    def limited(self) -> bool:
        return self.seconds is not None

    def elapsed(self) -> float:
        return self.clock() - self.start

    def left(self) -> float:
        return float("inf") if self.seconds is None else self.seconds - self.elapsed()

    def allows(self, next_unit_s: float) -> bool:
        """Whether a unit expected to take ``next_unit_s`` seconds ends nearer the budget than
        stopping now: inside it, or over it by less than what is left (a tie stops)."""
        left = self.left()
        return next_unit_s <= left or next_unit_s - left < left


def run_units(budget: Budget, unit: Callable[[int], Any], max_units: int | None = None) -> list:
    """``[unit(0), unit(1), ...]``: at most ``max_units`` calls, and with a limited budget
    only those the budget allows, each unit's cost estimated by the one before it (the
    first always runs: it carries the compile, and a search returns at least one answer)."""
    results, last_s = [], 0.0
    while max_units is None or len(results) < max_units:
        if results and budget.limited and not budget.allows(last_s):
            break
        if max_units is None and not budget.limited:
            raise ValueError("run_units needs max_units or a limited budget")
        tick = budget.clock()
        results.append(unit(len(results)))
        last_s = budget.clock() - tick
    return results


@dataclasses.dataclass
class Curve:
    """A search's curve: best-so-far validation accuracy against seconds since its start."""
    seconds: list[float] = dataclasses.field(default_factory=list)
    best_val_accuracy: list[float] = dataclasses.field(default_factory=list)

    def add(self, seconds: float, val_accuracy: float) -> None:
        best = max(val_accuracy, self.best_val_accuracy[-1]) if self.best_val_accuracy else val_accuracy
        self.seconds.append(round(seconds, 3))
        self.best_val_accuracy.append(best)

    def to_dict(self) -> dict:
        return {"seconds": self.seconds, "best_val_accuracy": self.best_val_accuracy}


class OutOfBudget(Exception):
    """The next evaluation would end farther from the search's budget than stopping now."""


@dataclasses.dataclass
class BudgetedScorer:
    """``score(genotype, steps)`` for searches over discrete cells, timed against a budget.

    Wraps ``score(genotype, steps, seed_offset)`` (``dimo.search.discrete.candidate_scorer``).
    Before a call it estimates the call's time by the last call at the same step count
    (else the last call at any count, scaled by steps) and raises ``OutOfBudget`` when that
    would pass the budget; the first call always runs. Every evaluation is kept in
    ``history`` and the best-so-far ``curve``; ``max_evaluations`` bounds a search without
    a budget.
    """
    score: Callable[..., float]
    budget: Budget
    max_evaluations: int | None = None
    history: list = dataclasses.field(default_factory=list)
    curve: Curve = dataclasses.field(default_factory=Curve)
    _seconds: dict = dataclasses.field(default_factory=dict)

    def estimate(self, steps: int) -> float:
        if steps in self._seconds:
            return self._seconds[steps]
        if not self.history:
            return 0.0
        last = self.history[-1]
        return last["seconds"] * steps / last["steps"]

    def __call__(self, genotype, steps: int) -> float:
        if self.max_evaluations is not None and len(self.history) >= self.max_evaluations:
            raise OutOfBudget(f"{self.max_evaluations} evaluations done")
        if self.history and not self.budget.allows(self.estimate(steps)):
            raise OutOfBudget(f"{self.budget.elapsed():.0f} of {self.budget.seconds:g} s spent")
        tick = self.budget.clock()
        value = float(self.score(genotype, steps, len(self.history)))
        self._seconds[steps] = self.budget.clock() - tick
        self.history.append({"genotype": str(genotype), "steps": steps, "val_accuracy": value,
                             "seconds": self._seconds[steps]})
        self.curve.add(self.budget.elapsed(), value)
        return value

    def best(self) -> dict:
        """The best evaluation among those at the largest step count reached (a cell
        trained longer is judged on firmer ground than one scored after a short rung)."""
        if not self.history:
            raise OutOfBudget("the budget ended before the first evaluation")
        longest = max(h["steps"] for h in self.history)
        return max((h for h in self.history if h["steps"] == longest), key=lambda h: h["val_accuracy"])

    def result(self, method: str, **extra) -> dict:
        """``dimo search``'s result dict for a search that evaluated through this scorer."""
        from dimo.space import search_space

        best = self.best()
        return {"method": method, "genotype": best["genotype"],
                "arch_weights": search_space.Genotype.from_string(best["genotype"]).one_hot().tolist(),
                "candidates": self.history, "steps": sum(h["steps"] for h in self.history),
                "budget_s": self.budget.seconds, "search_s": self.budget.elapsed(),
                "curve": self.curve.to_dict(), **extra}

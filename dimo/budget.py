"""Wall-clock budgets for searches, compile time included.

A search given ``budget_s`` seconds works in units (a candidate trained, a chunk of search
steps) and starts a unit only when the time measured so far says it will end inside the
budget, so it stops at or a little under its budget rather than after it. The clock starts
when the search starts, before anything is compiled: a user waits for compiles too.

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
        """Whether a unit expected to take ``next_unit_s`` seconds ends inside the budget."""
        return next_unit_s <= self.left()


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

"""Wall-clock budgets of searches (dimo.search.budget), on a fake clock so the checks are exact."""

import itertools

import pytest

from dimo.search import discrete

from dimo.space import search_space
from dimo.search.budget import Budget, Curve, run_units


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _units(clock, costs):
    def unit(i):
        clock.now += costs[i]
        return i
    return unit


def test_a_budget_ends_as_near_its_seconds_as_its_units_allow():
    clock = FakeClock()
    budget = Budget(10.0, clock=clock)
    done = run_units(budget, _units(clock, [3.0] * 10))
    # 3 + 3 + 3 = 9 s; a fourth unit, estimated at 3 s by the third, would end 2 s over
    # rather than 1 s under.
    assert done == [0, 1, 2] and budget.elapsed() == pytest.approx(9.0)
    clock = FakeClock()
    budget = Budget(11.0, clock=clock)
    # 8 s spent: a third 4 s unit ends 1 s over rather than 3 s under, so it runs.
    assert run_units(budget, _units(clock, [4.0] * 10)) == [0, 1, 2] and budget.elapsed() == pytest.approx(12.0)
    clock = FakeClock()
    budget = Budget(10.0, clock=clock)
    # A tie (2 s under against 2 s over) stops.
    assert run_units(budget, _units(clock, [4.0] * 10)) == [0, 1] and budget.elapsed() == pytest.approx(8.0)


def test_the_first_unit_runs_even_past_the_budget_and_the_last_cost_is_the_estimate():
    clock = FakeClock()
    # The first unit carries the compile (50 s against a 20 s budget): one answer anyway.
    assert run_units(Budget(20.0, clock=clock), _units(clock, [50.0, 1.0])) == [0]
    clock = FakeClock()
    # A slow first unit (compile) is the estimate of the second only; from then on the
    # latest unit's cost is: 40 s + 12 x 5 s fill the 100 s exactly.
    done = run_units(Budget(100.0, clock=clock), _units(clock, [40.0] + [5.0] * 20))
    assert len(done) == 13 and clock.now - 100.0 == pytest.approx(100.0)


def test_without_a_budget_the_unit_count_decides():
    clock = FakeClock()
    assert run_units(Budget(None, clock=clock), _units(clock, [1e6] * 5), max_units=4) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="max_units"):
        run_units(Budget(None), lambda i: i)


def test_a_search_curve_is_the_best_so_far():
    curve = Curve()
    for s, acc in [(1.0, 0.3), (2.0, 0.2), (3.0, 0.5), (4.0, 0.4)]:
        curve.add(s, acc)
    assert curve.to_dict() == {"seconds": [1.0, 2.0, 3.0, 4.0], "best_val_accuracy": [0.3, 0.3, 0.5, 0.5]}


def test_random_search_draws_distinct_connected_cells_reproducibly():
    first = [str(g) for g in itertools.islice(discrete.random_cells(3), 50)]
    assert first == [str(g) for g in itertools.islice(discrete.random_cells(3), 50)]
    assert len(set(first)) == 50
    assert all(search_space.Genotype.from_string(g).connected for g in first)
    assert first != [str(g) for g in itertools.islice(discrete.random_cells(4), 50)]

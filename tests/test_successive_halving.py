"""Successive halving's mechanics on hand-made scores (no training)."""

import pytest

from dimo.search.successive_halving import successive_halving


def test_each_rung_keeps_the_top_fraction_at_eta_times_the_steps():
    # A candidate's score is its name: the top third survives each rung.
    calls = []

    def score(c, steps, rung):
        calls.append((c, steps, rung))
        return c

    winner, rungs = successive_halving(list(range(27)), score, min_steps=10, eta=3)
    assert winner == 26
    assert [r["steps"] for r in rungs] == [10, 30, 90]
    assert [sorted(r["candidates"]) for r in rungs] == [list(range(27)), list(range(18, 27)), [24, 25, 26]]
    assert len(calls) == 27 + 9 + 3


def test_a_later_rung_overrules_an_earlier_one():
    scores = {"fast": [0.9, 0.3], "slow": [0.5, 0.8], "bad": [0.1], "worse": [0.0]}
    winner, rungs = successive_halving(list(scores), lambda c, s, r: scores[c][r], 5, eta=2)
    assert winner == "slow" and rungs[1]["candidates"] == ["fast", "slow"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="eta"):
        successive_halving([1, 2], lambda c, s, r: c, 1, eta=1)
    with pytest.raises(ValueError, match="at least one"):
        successive_halving([], lambda c, s, r: 0, 1)

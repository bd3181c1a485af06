"""Mechanics of the discrete search methods on hand-made scores (no training), and the
budgeted scorer they share, on a fake clock."""

import itertools

import numpy as np
import optuna
import pytest

from dimo.search import discrete as discrete_search

from dimo.search import evolution

from dimo.search import hyperband

from dimo.search import tpe
from dimo.space import search_space
from dimo.search.budget import Budget, BudgetedScorer, OutOfBudget


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_scorer_stops_a_search_before_an_evaluation_would_pass_the_budget():
    clock = FakeClock()

    def score(genotype, steps, offset):
        clock.now += steps / 100  # 1 s per 100 steps
        return steps / 1000

    scorer = BudgetedScorer(score, Budget(10.0, clock=clock))
    cell = search_space.Genotype.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|")
    assert [scorer(cell, 300) for _ in range(3)] == [0.3, 0.3, 0.3]  # 9 s spent
    with pytest.raises(OutOfBudget):
        scorer(cell, 300)  # estimated 3 s, 1 s left
    scorer(cell, 100)  # estimated from the 300-step ones: 1 s, fits exactly
    # The answer is the best at the longest training reached, not the best number seen.
    assert scorer.best()["steps"] == 300 and len(scorer.history) == 4
    assert scorer.result("x")["curve"]["best_val_accuracy"] == [0.3, 0.3, 0.3, 0.3]


def test_mutation_changes_exactly_one_edge_and_keeps_the_cell_connected():
    rng = np.random.default_rng(0)
    parent = search_space.Genotype.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|")
    for _ in range(200):
        child = evolution.mutate(parent, rng)
        assert child.connected and sum(a != b for a, b in zip(child.ops, parent.ops)) == 1


def test_aging_evolution_removes_the_oldest_not_the_worst():
    cells = discrete_search.random_cells(0)
    first = next(cells)
    scores, calls = {first: 1.0}, []

    def score(g):
        if len(calls) == 12:
            raise OutOfBudget("done")
        calls.append(g)
        return scores.get(g, 0.1 * len(calls) % 0.5)

    population = evolution.aging_evolution(score, np.random.default_rng(0), population_size=5, sample_size=2,
                                           first_cells=itertools.chain([first], cells))
    assert len(population) == 5 and len(calls) == 12
    # The best cell ever seen was the first one evaluated; it aged out all the same, and the
    # population is exactly the last five evaluated, oldest first.
    assert first not in [g for g, _ in population]
    assert [g for g, _ in population] == calls[-5:]
    # After the random start, each child is one mutation away from a cell evaluated before it.
    def distance(a, b):
        return sum(x != y for x, y in zip(a.ops, b.ops))
    assert all(any(distance(calls[i], calls[j]) == 1 for j in range(i)) for i in range(5, 12))


def test_hyperband_runs_its_brackets_of_successive_halving():
    assert hyperband.brackets(900, 100) == [(9, 100), (5, 300), (3, 900)]
    assert hyperband.brackets(27, 1) == [(27, 1), (12, 3), (6, 9), (4, 27)]
    evaluations = []

    def score(g, steps):
        evaluations.append(steps)
        return g.index / search_space.NUM_CELLS

    done = hyperband.hyperband(score, discrete_search.random_cells(0), max_steps=900, min_steps=100, sweeps=1)
    # Bracket 1: 9 x 100, then 3 x 300; bracket 2: 5 x 300, then 1 kept; bracket 3: 3 x 900.
    assert done == 3
    assert evaluations == [100] * 9 + [300] * 3 + [300] * 5 + [900] * 3


def _scored_until(evaluations: int, value):
    """A synthetic scorer (``value(genotype)``) whose budget ends after ``evaluations`` calls."""
    calls = []

    def score(g):
        if len(calls) == evaluations:
            raise OutOfBudget("done")
        calls.append(g)
        return value(g)

    return score, calls


def test_tpe_runs_through_optunas_study_api_and_records_a_failed_trial_at_the_budget():
    convs = lambda g: sum(op.startswith("nor_conv") for op in g.ops) / search_space.NUM_EDGES  # noqa: E731
    score, calls = _scored_until(30, convs)
    study = tpe.tpe(score, num_classes=10, seed=0, startup_trials=10)
    states = [t.state for t in study.trials]
    assert states[-1] == optuna.trial.TrialState.FAIL and states.count(optuna.trial.TrialState.COMPLETE) >= 30
    assert all(len(t.params) == search_space.NUM_EDGES for t in study.trials)
    # Disconnected cells were told chance accuracy without a call to the scorer.
    told = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(told) - len(calls) == sum(v == 0.1 for v in told) - sum(convs(g) == 0.1 for g in calls)
    # TPE exploits: its later connected proposals score higher than its random start.
    assert np.mean([convs(g) for g in calls[-10:]]) > np.mean([convs(g) for g in calls[:10]])


def test_nao_learns_a_decodable_code_and_its_predictor_proposes_better_cells():
    from dimo.search import nao

    convs = lambda g: sum(op == "nor_conv_3x3" for op in g.ops) / search_space.NUM_EDGES  # noqa: E731
    score, calls = _scored_until(30, convs)
    out = nao.nao(score, seed=0, initial=10, epochs=60)
    genotypes = [g for g, _ in out["history"]]
    assert genotypes == calls and len(set(genotypes)) == 30 and all(g.connected for g in genotypes)
    assert len(out["proposed_by_predictor"]) >= 10  # the predictor, not the random fallback, proposed
    # Gradient ascent in the code: the proposals score above the random start, and the model fits.
    proposed = [convs(g) for g, _ in out["history"] if str(g) in out["proposed_by_predictor"]]
    assert np.mean(proposed) > np.mean([convs(g) for g in genotypes[:10]])
    assert out["fit_losses"][-1] < out["fit_losses"][0]

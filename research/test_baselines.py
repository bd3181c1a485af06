"""The baselines' mechanics: the grid, the choice on validation, the transferred cell."""

import pytest

from research import baselines


def test_the_grids_span_two_decades_in_seven_points_and_three_decays():
    for rates in baselines.LEARNING_RATES.values():
        assert len(rates) == 7 and rates[-1] / rates[0] == pytest.approx(100)
    assert len(baselines.WEIGHT_DECAYS) == 3


def test_tuning_chooses_on_validation_and_reports_both_choices():
    calls = []

    def train(optimizer, lr, wd, setup, seed):
        calls.append((lr, wd, seed, setup["schedule"], setup["warmup_steps"]))
        accuracy = 1 - abs(lr - 0.1) - wd  # best at 0.1, the smallest decay
        loss = abs(lr - 0.2154) + wd  # a loss that prefers the next rate up
        return {"val_accuracy": accuracy + 0.001 * seed, "val_loss": loss, "test_accuracy": 0.0}

    out = baselines.tuned(train, "sgd", steps=200, tuning_seeds=(0, 1))
    assert len(calls) == 7 * 3 * 2 and {c[3:] for c in calls} == {("cosine", 10)}
    assert out["chosen"]["learning_rate"] == pytest.approx(0.1) and out["chosen"]["weight_decay"] == 5e-5
    assert out["chosen_by_val_loss"]["learning_rate"] == pytest.approx(0.2154, abs=1e-3)
    assert not out["on_the_grid_edge"]
    assert all("test_accuracy" not in s for s in out["grid"])  # nothing chosen or kept from test


def test_the_transferred_cell_is_the_best_mean_over_the_meta_training_tables():
    tables = {"a": {"g1": 0.9, "g2": 0.8, "g3": 0.99}, "b": {"g1": 0.5, "g2": 0.7}}
    assert baselines.transferred_cell(tables) == "g2"  # g3 is judged by one table only
    assert len(baselines.trivial_cells()) == 4 and "nor_conv_3x3" in baselines.trivial_cells()[0]

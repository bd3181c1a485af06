"""The pre-registered reading of ce_life1000_shadow (research/lopt/ce_life.py)."""

import pytest

from research.lopt import ce_life

RUNS = [("kmnist", 0), ("kmnist", 1), ("fashion_mnist", 0), ("fashion_mnist", 1)]


def _row(fold, seed, h, h2, h10, variant=ce_life.VARIANT):
    figure = lambda acc: {"diff_val_accuracy": acc, "diff_val_loss": -acc}  # noqa: E731
    return {"variant": variant, "fold": fold, "seed": seed, "recipe": {"lr_scale": 1.0},
            "by_horizon": {"H": figure(h), "2H": figure(h2)}, "diagnostic": {"10H": figure(h10)}}


@pytest.mark.parametrize("tenh, early, verdict", [
    ((0.001, 0.0, 0.002, -0.001), 0.004, "supported"),      # 3 of 4 at least 0, mean above 0
    ((0.001, -0.001, 0.002, -0.001), 0.004, "not supported"),  # 2 of 4
    ((0.0, 0.0, 0.0, -0.004), 0.004, "not supported"),        # 3 of 4, but the mean is below 0
    ((0.001, 0.0, 0.002, 0.0), -0.001, "not supported"),      # level at 10H, behind at H and 2H
])
def test_the_lead_is_read_as_registered(tenh, early, verdict):
    rows = [_row(f, s, early, early, x) for (f, s), x in zip(RUNS, tenh)]
    rows.append(_row("kmnist", 0, -1.0, -1.0, -1.0, variant=ce_life.ON_TEACHER))  # another variant: not read
    out = ce_life.lead(rows)
    assert out["verdict"] == verdict
    assert out["accuracy_minus_adam_mean"]["10H"] == pytest.approx(sum(tenh) / 4)
    assert ce_life.lead(rows[:3])["verdict"] == "incomplete"


def test_a_merged_label_counts_for_each_horizon():
    row = _row("kmnist", 0, 0.01, 0.0, 0.0)
    row["by_horizon"] = {"4K=H": row["by_horizon"]["H"], "2H": row["by_horizon"]["2H"]}
    assert ce_life.against_adam([row])["H"]["val_accuracy"] == [0.01]


def test_only_the_registered_folds_and_seeds_are_read_once_each():
    rows = [_row(f, s, 0.01, 0.01, 0.01) for f, s in RUNS] + [_row("mnist", 0, -1.0, -1.0, -1.0)]
    assert ce_life.lead(rows)["accuracy_minus_adam_mean"]["10H"] == pytest.approx(0.01)  # mnist is not read
    with pytest.raises(ValueError, match="twice on one fold and seed"):
        ce_life.lead(rows + [_row("kmnist", 0, 0.0, 0.0, 0.0)])

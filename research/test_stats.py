"""The claim statistics of research/stats.py against hand-computed cases."""

import numpy as np
import pytest

from research import stats


def test_holm_adjusts_in_steps_and_keeps_the_input_order():
    out = stats.holm([0.04, 0.01, 0.03])
    # Sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.04 -> monotone 0.03, 0.06, 0.06.
    assert [o["p_holm"] for o in out] == pytest.approx([0.06, 0.03, 0.06])
    assert [o["rejected"] for o in out] == [False, True, False]


def test_paired_t_over_runs():
    out = stats.paired_t([0.5, 0.6, 0.7], [0.4, 0.55, 0.6])
    diff = np.array([0.1, 0.05, 0.1])
    assert out["mean_difference"] == pytest.approx(diff.mean())
    assert out["t"] == pytest.approx(diff.mean() / (diff.std(ddof=1) / np.sqrt(3)))
    with pytest.raises(ValueError, match="at least 2 runs"):
        stats.paired_t([0.5], [0.4])


def test_the_hierarchical_bootstrap_sees_run_to_run_spread_that_seeds_hide():
    # Seeds agree within each run, runs disagree: the interval must be as wide as the runs say.
    consistent = stats.hierarchical_bootstrap([[0.01, 0.01], [0.02, 0.02], [0.03, 0.03]], resamples=2000)
    assert consistent["mean_difference"] == pytest.approx(0.02) and consistent["lo95"] > 0
    split = stats.hierarchical_bootstrap([[0.05, 0.05], [-0.05, -0.05], [0.06, 0.06], [-0.04, -0.04]],
                                         resamples=2000)
    assert split["lo95"] < 0 < split["hi95"] and split["p_two_sided"] > 0.3

"""The baselines' mechanics: the transferred cell (the grid and its tuning: tests/test_schedules.py)."""

from research import baselines


def test_the_transferred_cell_is_the_best_mean_over_the_meta_training_tables():
    g1, g2, g3 = baselines.trivial_cells()[:3]
    one = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_3x3~0|none~1|none~2|"  # one network,
    same = "|avg_pool_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|nor_conv_3x3~0|none~1|none~2|"  # two strings
    tables = {"a": {g1: 0.9, g2: 0.8, g3: 0.99, one: 0.6}, "b": {g1: 0.5, g2: 0.7, same: 0.99}}
    assert baselines.transferred_cell(tables) == one  # matched by network; g3 is judged by one table only
    assert len(baselines.trivial_cells()) == 4 and "nor_conv_3x3" in baselines.trivial_cells()[0]

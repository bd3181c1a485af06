"""The baselines' mechanics: the transferred cell (the grid and its tuning: tests/test_schedules.py)."""

from research import baselines


def test_the_transferred_cell_is_the_best_mean_over_the_meta_training_tables():
    tables = {"a": {"g1": 0.9, "g2": 0.8, "g3": 0.99}, "b": {"g1": 0.5, "g2": 0.7}}
    assert baselines.transferred_cell(tables) == "g2"  # g3 is judged by one table only
    assert len(baselines.trivial_cells()) == 4 and "nor_conv_3x3" in baselines.trivial_cells()[0]

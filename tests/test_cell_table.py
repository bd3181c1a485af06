"""The cell table DiMO ships (package data) and how it judges an accuracy."""

import dataclasses

from dimo.evaluation import cell_table, evaluate


def test_the_shipped_table_is_read_from_the_package_and_judges_under_its_protocol_only():
    header, table = cell_table.read()
    assert cell_table.default_path().name == "cell_table.csv" and "spearman_seed0_vs_seed1_cifar10" in header
    assert {"cifar10", "fashion_mnist"} <= set(table) and len(table["cifar10"]) == 100
    setup = evaluate.TrainSetup(**{k: cell_table.PROTOCOL[k] for k in cell_table.MATCHED_KEYS})
    best = max(table["cifar10"].values())
    verdict = cell_table.judge("cifar10", best, setup, cell_table.PROTOCOL["image_size"])
    assert verdict["table_cells"] == 100 and verdict["table_max"] == best and verdict["table_percentile"] > 99
    assert cell_table.judge("cifar10", best, dataclasses.replace(setup, steps=500), 16) is None
    assert cell_table.judge("no_such_dataset", best, setup, 16) is None


def test_percentile_counts_ties_half():
    assert cell_table.percentile([0.1, 0.2, 0.3, 0.4], 0.35) == 75.0
    assert cell_table.percentile([0.1, 0.2, 0.3, 0.4], 0.3) == 62.5

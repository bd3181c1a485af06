"""The baselines beside every claim (research/PROTOCOL.md): trivial, transferred, tuned.

    from research import baselines
    baselines.trivial_cells()                                   # the four uniform cells
    baselines.transferred_cell(tables)                          # best over the meta-training tables
    baselines.tuned(train, "adam", steps=1000, tuning_seeds=(0, 1))   # grid tuned on validation

``train(optimizer, learning_rate, weight_decay, schedule_setup, seed) -> result`` is any function
returning ``evaluate.train_genotype``'s result (``val_accuracy``, ``val_loss``, ...), so a study
decides the cell, the dataset and the sizes; ``train_setup`` gives the schedule every tuned
baseline uses.
"""

from __future__ import annotations

from dimo.search import transferred
from dimo.space import search_space
from dimo.studies.schedules import LEARNING_RATES, WEIGHT_DECAYS, train_setup, tuned  # noqa: F401 (the grid lives with dimo ablate)

from dimo.studies.compare import UNIFORM_OPS  # noqa: E402,F401 (one list of the uniform cells)

ALL_3X3 = str(search_space.Genotype(("nor_conv_3x3",) * search_space.NUM_EDGES))  # the trivial cell


def trivial_cells() -> list[str]:
    """The uniform cells; all-``nor_conv_3x3`` is also the cell with the most parameters."""
    return [str(search_space.Genotype((op,) * search_space.NUM_EDGES)) for op in UNIFORM_OPS]


def transferred_cell(tables: dict[str, dict[str, float]]) -> str:
    """The cell a person gets without meta-learning: the best mean, over the meta-training
    datasets' tables ({dataset: {genotype: mean test accuracy}}), of the networks all of them
    judge; ``dimo propose`` shows the same cell beside its own (``dimo.search.transferred``)."""
    return transferred.best(tables)

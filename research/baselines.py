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

import numpy as np

from dimo.space import search_space

UNIFORM_OPS = ("nor_conv_3x3", "nor_conv_1x1", "skip_connect", "avg_pool_3x3")
# 7 rates over 2 decades each, centred on the rates these networks train at; 3 weight decays.
LEARNING_RATES = {"sgd": tuple(float(x) for x in np.logspace(-2, 0, 7)),
                  "adam": tuple(float(x) for x in np.logspace(-4, -2, 7))}
WEIGHT_DECAYS = (5e-5, 5e-4, 5e-3)
WARMUP_FRACTION = 0.05


def trivial_cells() -> list[str]:
    """The uniform cells; all-``nor_conv_3x3`` is also the cell with the most parameters."""
    return [str(search_space.Genotype((op,) * search_space.NUM_EDGES)) for op in UNIFORM_OPS]


def transferred_cell(tables: dict[str, dict[str, float]]) -> str:
    """The cell a person gets without meta-learning: the best mean, over the meta-training
    datasets' tables ({dataset: {genotype: mean test accuracy}}), of the cells all of them judge."""
    shared = set.intersection(*(set(t) for t in tables.values()))
    if not shared:
        raise ValueError("the tables judge no cell in common")
    return max(sorted(shared), key=lambda g: np.mean([t[g] for t in tables.values()]))


def train_setup(steps: int) -> dict:
    """The schedule of every tuned baseline: a linear warm-up, then a cosine to 0 at ``steps``."""
    return {"steps": steps, "schedule": "cosine", "warmup_steps": max(1, int(WARMUP_FRACTION * steps))}


def tuned(train, optimizer: str, steps: int, tuning_seeds=(0, 1)) -> dict:
    """Every (rate, decay) of the grid trained with ``tuning_seeds``; the choice by mean
    validation accuracy, and (reported beside it) the choice by mean validation loss."""
    grid = [(lr, wd) for lr in LEARNING_RATES[optimizer] for wd in WEIGHT_DECAYS]
    scores = []
    for lr, wd in grid:
        runs = [train(optimizer, lr, wd, train_setup(steps), seed) for seed in tuning_seeds]
        scores.append({"learning_rate": lr, "weight_decay": wd,
                       "val_accuracy": float(np.mean([r["val_accuracy"] for r in runs])),
                       "val_loss": float(np.mean([r["val_loss"] for r in runs]))})
    by_accuracy = max(scores, key=lambda s: s["val_accuracy"])
    by_loss = min(scores, key=lambda s: s["val_loss"])
    return {"optimizer": optimizer, "steps": steps, "tuning_seeds": list(tuning_seeds), "grid": scores,
            "chosen": by_accuracy, "chosen_by_val_loss": by_loss,
            "on_the_grid_edge": by_accuracy["learning_rate"] in (LEARNING_RATES[optimizer][0],
                                                                 LEARNING_RATES[optimizer][-1])}

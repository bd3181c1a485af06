"""The cell table: DiMO's own ground truth for judging a proposed cell.

A fixed, seeded sample of NAS-Bench-201 cells, each trained from scratch under one
written protocol (``PROTOCOL``: what ``dimo evaluate --steps 1000`` does at the default
config's sizes) on a few datasets with two seeds, and its test accuracies. It *judges*
proposals (a measured accuracy's percentile among the table's cells of the same dataset
and protocol); nothing that trains DiMO reads it. ``python -m research.cell_table.build``
builds it into ``dimo/evaluation/data/cell_table.csv``.

The CSV starts with ``# key: value`` lines (the protocol, the seed-to-seed and
between-dataset Spearman correlations), then one row per (dataset, cell).
"""

from __future__ import annotations

import csv
import importlib.resources
import io
from pathlib import Path

import numpy as np

# The evaluation protocol. Keys other than `steps` and `seeds` are TrainSetup fields or
# data settings; `dimo evaluate` reports a percentile only when its run matches them all.
PROTOCOL = {
    "optimizer": "sgd", "loss": "ce", "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 5e-4,
    "batch_size": 32, "channels": 8, "cells_per_stage": 1, "image_size": 16, "steps": 1000, "schedule": "constant",
    "normalisation": "statistics of 5000 training images (not of the test batch)",
    "accuracy": "whole test split", "seeds": 2,
}
MATCHED_KEYS = ("optimizer", "loss", "learning_rate", "weight_decay", "batch_size", "channels",
                "cells_per_stage", "steps", "schedule")


def default_path() -> Path:
    """The table shipped with DiMO: package data, so an installed DiMO judges as a checkout does."""
    return Path(str(importlib.resources.files("dimo.evaluation") / "data" / "cell_table.csv"))


def read(path=None, column: str = "test_mean") -> tuple[dict, dict[str, dict[str, float]]]:
    """(header, {dataset: {genotype: mean test accuracy over seeds}}) (``column="val_mean"``: the
    validation means); empty if no table."""
    path = Path(path or default_path())
    if not path.is_file():
        return {}, {}
    header, rows = {}, []
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header[key.strip()] = value.strip()
        elif line.strip():
            rows.append(line)
    table: dict[str, dict[str, float]] = {}
    for row in csv.DictReader(io.StringIO("\n".join(rows))):
        table.setdefault(row["dataset"], {})[row["genotype"]] = float(row[column])
    return header, table


def matches_protocol(setup, image_size: int) -> bool:
    """Whether a ``dimo.evaluation.evaluate.TrainSetup`` (and image size) is the table's protocol."""
    return image_size == PROTOCOL["image_size"] and all(
        getattr(setup, k) == PROTOCOL[k] for k in MATCHED_KEYS)


def percentile(accuracies, accuracy: float) -> float:
    """Percent of the table's cells below ``accuracy`` (ties count half), 0-100."""
    values = np.asarray(list(accuracies), np.float64)
    below = np.sum(values < accuracy) + 0.5 * np.sum(values == accuracy)
    return float(100.0 * below / len(values))


def judge(dataset: str, accuracy: float, setup, image_size: int, path=None) -> dict | None:
    """The table's verdict on ``accuracy`` measured on ``dataset`` under ``setup``, or None
    when there is no table for that dataset or the run is not under the table's protocol."""
    if not matches_protocol(setup, image_size):
        return None
    _, table = read(path)
    cells = table.get(dataset)
    if not cells:
        return None
    return {"table_percentile": percentile(cells.values(), accuracy), "table_cells": len(cells),
            "table_median": float(np.median(list(cells.values()))),
            "table_max": float(max(cells.values()))}


def train_and_judge(genotype: str, dataset, table: dict | None = None) -> dict:
    """``genotype`` trained under ``PROTOCOL`` with its seeds on ``dataset`` (loaded at the
    protocol's image size): test accuracies, their mean and its percentile among ``table``'s
    cells of the dataset (default: the table on disk)."""
    from dimo.evaluation import evaluate as evaluate_lib
    from dimo.space import search_space

    table = read()[1] if table is None else table
    keys = {k: PROTOCOL[k] for k in MATCHED_KEYS}
    tests = [evaluate_lib.train_genotype(search_space.Genotype.from_string(genotype), dataset, evaluate_lib.TrainSetup(seed=s, **keys),
                               progress=False)["test_accuracy"] for s in range(PROTOCOL["seeds"])]
    mean = float(np.mean(tests))
    cells = table.get(dataset.name, {})
    return {"test_accuracy_per_seed": tests, "test_accuracy_mean": mean,
            "table_percentile": percentile(cells.values(), mean) if cells else None,
            "table_cells": len(cells)}

"""The transferred cell: the baseline every DiMO proposal stands beside.

    transferred.beside(["fashion_mnist", "kmnist"], proposed)   # {"genotype": ..., "taught_by": [...], ...} or None

What a person gets without meta-learning: the best network of the top-judge tables (32x32,
4,000 steps of SGD with a cosine, 3 seeds a cell) of the datasets a system was meta-trained on,
by the mean over those tables of its mean test accuracy, among the networks every one of them
judges. Only meta-training datasets' tables teach it, never the dataset asked about (the caller
passes the predictor's teachers, ``dimo.search.predictor.teachers``). ``dimo propose`` prints it beside
its own cell because, judged on the held-out datasets, it has been the stronger of the two
(README, *Results*): a user should see both and can train both.

The tables are package data (``dimo/evaluation/data/top_judge.csv``, beside the cell table),
written from the study's complete stage-2 tables by ``python -m research.comparison.transferred
--package``.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import numpy as np

from dimo.space import search_space


def default_path() -> Path:
    return Path(str(importlib.resources.files("dimo.evaluation") / "data" / "top_judge.csv"))


def read(datasets, path=None) -> dict[str, dict[str, float]]:
    """{dataset: {genotype: mean test accuracy}} of the shipped top-judge tables, for those of
    ``datasets`` they judge (possibly none)."""
    from dimo.evaluation import cell_table

    table = cell_table.read(path or default_path())[1]
    return {d: table[d] for d in datasets if table.get(d)}


def best(tables: dict[str, dict[str, float]]) -> str:
    """The best mean over ``tables`` ({dataset: {genotype: accuracy}}) of the networks all of them
    judge (cells are matched by their pruned network: two strings of one network train alike);
    the first table's string of it, ties to the first in its order."""
    forms = [{search_space.Genotype.from_string(g).pruned(): g for g in t} for t in tables.values()]
    shared = set.intersection(*(set(f) for f in forms)) if forms else set()
    if not shared:
        raise ValueError("the tables judge no cell in common")
    means = {form: np.mean([t[f[form]] for t, f in zip(tables.values(), forms)]) for form in shared}
    chosen = max(sorted(shared, key=lambda form: forms[0][form]), key=lambda form: means[form])
    return forms[0][chosen]


def beside(teachers, proposed: str | None = None, path=None) -> dict | None:
    """The transferred cell the tables of ``teachers`` teach (a system's meta-training datasets
    other than the one asked about: ``dimo.search.predictor.teachers``), each table's figure for
    it and, where a table judges the network of ``proposed`` too, that figure beside; None when
    no table teaches."""
    tables = read(teachers, path)
    if not tables:
        return None
    genotype = best(tables)
    return {"genotype": genotype, "taught_by": list(tables), "test_accuracy": _figures(tables, genotype),
            "proposed_test_accuracy": _figures(tables, proposed) if proposed else {}}


def _figures(tables: dict[str, dict[str, float]], genotype: str) -> dict[str, float]:
    """Each table's mean test accuracy of ``genotype``'s network, for the tables that judge it."""
    form = search_space.Genotype.from_string(genotype).pruned()
    out = {}
    for dataset, table in tables.items():
        out.update({dataset: a for g, a in table.items() if search_space.Genotype.from_string(g).pruned() == form})
    return out

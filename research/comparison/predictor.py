"""A performance predictor fitted to meta-training datasets' cell tables (issue #36, hypothesis 3).

    from research.comparison import predictor
    model = predictor.fit(predictor.stage1_tables(["kmnist"]))   # never the dataset it will rank for
    best = predictor.best(model, candidates)                    # DiMO's most probable cells, reranked

DiMO's decoder is meta-trained on 200-step unrolls, which favour cells that learn fastest; the
cell tables of the meta-training datasets say which cells end best after a full training. Here a
ridge regression on a cell's pruned form (its [6, 5] one-hot, the network it actually computes)
predicts the cell's validation accuracy in the 1,000-step table, as a z-score within each dataset
so that datasets of different difficulty teach alike. It reranks the decoder's candidates rather
than replacing them: the candidates carry what DiMO read from the target, the predictor what the
meta-training tables say about finished trainings. Only meta-training datasets' tables may teach
(``research.protocol.check_meta_training``), and meta-validation fits it without the fold's.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge

from dimo.space import search_space
from research import protocol

ALPHA = 1.0  # ridge penalty: fixed, not tuned (100 cells a table, 30 features)


def features(genotypes) -> np.ndarray:
    """[n, 30]: each cell's pruned form as a flattened one-hot (cells computing one network agree)."""
    cells = [search_space.Genotype.from_string(str(g)).pruned() for g in genotypes]
    return np.stack([c.one_hot().reshape(-1) for c in cells])


def stage1_tables(datasets, path=None) -> dict[str, dict[str, float]]:
    """{dataset: {genotype: validation mean}} from the 1,000-step cell table, meta-training datasets only."""
    from research.cell_table.top_judge import stage1_rows

    protocol.check_meta_training(datasets)
    tables = {d: {r["genotype"]: float(r["val_mean"]) for r in stage1_rows(d, path)} for d in datasets}
    empty = [d for d, t in tables.items() if not t]
    if empty:
        raise ValueError(f"the cell table has no rows for {', '.join(empty)}; fit on datasets it judges")
    return tables


def fit(tables: dict[str, dict[str, float]]) -> Ridge:
    """Ridge regression of each table's z-scored accuracies on the cells' features, pooled."""
    xs, ys = [], []
    for table in tables.values():
        values = np.array(list(table.values()))
        xs.append(features(table))
        ys.append((values - values.mean()) / max(values.std(), 1e-12))
    return Ridge(alpha=ALPHA).fit(np.concatenate(xs), np.concatenate(ys))


def best(model: Ridge, candidates) -> tuple[str, list[float]]:
    """The candidate with the highest prediction (ties: the earlier, i.e. the more probable), and
    every candidate's prediction."""
    predicted = model.predict(features(candidates))
    return str(candidates[int(np.argmax(predicted))]), [float(p) for p in predicted]

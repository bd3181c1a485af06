"""What the shipped cell table can and cannot rank: noise at its top, and where the uniform cells sit.

    python -m research.cell_table.noise [--top 20]

For each dataset: the seed-to-seed Spearman correlation over all cells and over the ``--top``
cells by mean, the spread of the top 10 means, the noise of a two-seed mean (the standard
deviation of seed0 - seed1 over all cells, halved: the standard error of a mean of two), and
each uniform cell's mean and percentile among the table's cells.
"""

from __future__ import annotations

import argparse
import csv
import io

import numpy as np
from scipy.stats import spearmanr

from dimo.evaluation import cell_table
from dimo.space import search_space


def rows(path=None) -> list[dict]:
    text = "".join(line for line in open(path or cell_table.default_path()) if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(text)))


def noise(table: list[dict], dataset: str, top: int) -> dict:
    mine = [r for r in table if r["dataset"] == dataset]
    mean = np.array([float(r["test_mean"]) for r in mine])
    seed0, seed1 = (np.array([float(r[f"test_seed{s}"]) for r in mine]) for s in (0, 1))
    best = np.argsort(-mean)[:top]
    out = {"cells": len(mine), "spearman_all": float(spearmanr(seed0, seed1).statistic),
           f"spearman_top{top}": float(spearmanr(seed0[best], seed1[best]).statistic),
           "top10_spread": float(np.ptp(np.sort(mean)[-10:])),
           "two_seed_mean_se": float(np.std(seed0 - seed1, ddof=1) / 2), "median": float(np.median(mean)),
           "best": float(mean.max())}
    for op in search_space.OPS[1:]:
        uniform = "|" + "|+|".join("|".join(f"{op}~{j}" for j in range(i)) for i in (1, 2, 3)) + "|"
        hit = [float(r["test_mean"]) for r in mine if r["genotype"] == uniform]
        if hit:
            out[f"all_{op}"] = {"mean": hit[0], "percentile": cell_table.percentile(mean, hit[0])}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args(argv)
    table = rows()
    for dataset in dict.fromkeys(r["dataset"] for r in table):
        print(dataset)
        for key, value in noise(table, dataset, args.top).items():
            print(f"  {key:<28} {value}")
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

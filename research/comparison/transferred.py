"""The transferred cell: what a person gets without meta-learning (research/comparison/PROTOCOL.md).

    python -m research.comparison.transferred      # writes results/comparison/transferred_cell.json

The best cell of the meta-training datasets' complete top-judge tables (stage 2, protocol C):
among the cells every table judges, the one with the highest mean over the tables of its mean
test accuracy (``research.baselines.transferred_cell``). Only meta-training tables may teach,
so a held-out dataset is refused; a table still being built is refused too (its best cell may
not be trained yet).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dimo.evaluation import cell_table
from dimo.infra.manifest import write_manifest
from research import baselines, protocol

REPO = Path(__file__).resolve().parents[2]
TABLES = REPO / "results" / "cell_table"
OUT = REPO / "results" / "comparison" / "transferred_cell.json"
DATASETS = ("fashion_mnist", "kmnist")  # the meta-training datasets with stage-2 tables (PROTOCOL.md)


def read_tables(datasets, folder: Path = TABLES, judge: str = "C") -> dict[str, dict[str, float]]:
    """{dataset: {genotype: mean test accuracy}} from complete stage-2 tables."""
    protocol.check_meta_training(datasets)
    tables = {}
    for dataset in datasets:
        path = folder / f"top_judge_{dataset}_{judge}_stage2.csv"
        if not path.is_file():
            raise ValueError(f"no stage-2 table for {dataset} ({path}): build it with python -m "
                             f"research.cell_table.top_judge --dataset {dataset} --protocol {judge}")
        header, table = cell_table.read(path)
        if header.get("status") != "complete":
            raise ValueError(f"{path.name} is {header.get('status', 'of unknown status')}: finish it first")
        tables[dataset] = table[dataset]
    return tables


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    try:
        tables = read_tables([d.strip() for d in args.datasets.split(",") if d.strip()])
        genotype = baselines.transferred_cell(tables)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    shared = sorted(set.intersection(*(set(t) for t in tables.values())))
    result = {"genotype": genotype, "tables": sorted(tables),
              "shared_cells": {g: {d: tables[d][g] for d in tables} for g in shared}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    write_manifest(out, judge="top judge C, stage 2", rule="research.baselines.transferred_cell")
    print(f"transferred cell: {genotype} (best mean over {', '.join(tables)} of {len(shared)} cells all judge)")
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

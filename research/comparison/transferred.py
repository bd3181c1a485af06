"""The transferred cell: what a person gets without meta-learning (research/comparison/PROTOCOL.md).

    python -m research.comparison.transferred      # writes results/comparison/transferred_cell.json
    python -m research.comparison.transferred --package   # the tables dimo propose reads (package data)

The best cell of the meta-training datasets' complete top-judge tables (stage 2, protocol C):
among the cells every table judges, the one with the highest mean over the tables of its mean
test accuracy (``research.baselines.transferred_cell``). Only meta-training tables may teach,
so a held-out dataset is refused; a table still being built is refused too (its best cell may
not be trained yet).

``--package`` writes the same tables, rows of the cell, its parameters and its mean and standard
error of test accuracy, to ``dimo/evaluation/data/top_judge.csv`` (``dimo.search.transferred``
reads it, so an installed DiMO shows the transferred cell beside its proposal). The header keeps
each table's protocol and bar figures, prefixed by its dataset.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from dimo.evaluation import cell_table
from dimo.infra.manifest import write_manifest
from research import baselines, protocol
from research.cell_table import noise

REPO = Path(__file__).resolve().parents[2]
TABLES = REPO / "results" / "cell_table"
OUT = REPO / "results" / "comparison" / "transferred_cell.json"
PACKAGE = REPO / "dimo" / "evaluation" / "data" / "top_judge.csv"
COLUMNS = ("dataset", "genotype", "params", "test_mean", "test_se")
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


def package(datasets, out: Path = PACKAGE, folder: Path = TABLES, judge: str = "C") -> Path:
    """The complete stage-2 tables of ``datasets`` as one CSV ``cell_table.read`` reads, with a manifest."""
    read_tables(datasets, folder, judge)  # refuses a held-out dataset and an incomplete table
    header, rows = [f"# judge: top judge {judge}, stage 2 (research/PROTOCOL.md)", f"# datasets: {','.join(datasets)}"], []
    for dataset in datasets:
        path = folder / f"top_judge_{dataset}_{judge}_stage2.csv"
        lines = path.read_text().splitlines()
        header += [f"# {dataset}.{line[1:].strip()}" for line in lines if line.startswith("#")
                   and not line[1:].strip().startswith("dataset:")]
        rows += [{k: row[k] for k in COLUMNS} for row in noise.rows(path)]
    body = io.StringIO()
    writer = csv.DictWriter(body, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(header) + "\n" + body.getvalue())
    write_manifest(out, judge=f"top judge {judge}, stage 2", tables=[f"results/cell_table/top_judge_{d}_{judge}_stage2.csv"
                                                                   for d in datasets])
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--out", default=None, help=f"default {OUT.relative_to(REPO)} ({PACKAGE.relative_to(REPO)} with --package)")
    p.add_argument("--package", action="store_true", help="write the tables dimo propose reads instead")
    args = p.parse_args(argv)
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    try:
        if args.package:
            print(f"wrote {package(datasets, Path(args.out or PACKAGE))}")
            return 0
        tables = read_tables(datasets)
        genotype = baselines.transferred_cell(tables)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    shared = sorted(set.intersection(*(set(t) for t in tables.values())))
    result = {"genotype": genotype, "tables": sorted(tables),
              "shared_cells": {g: {d: tables[d][g] for d in tables} for g in shared}}
    out = Path(args.out or OUT)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    write_manifest(out, judge="top judge C, stage 2", rule="research.baselines.transferred_cell")
    print(f"transferred cell: {genotype} (best mean over {', '.join(tables)} of {len(shared)} cells all judge)")
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

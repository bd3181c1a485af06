"""Build the cell table (``dimo.evaluation.cell_table``): a fixed sample of cells trained under one protocol.

    DIMO_DATA_DIR=../shared/data python -m research.cell_table.build            # resumes by itself
    python -m research.cell_table.build --summarize                              # CSV from runs so far

The sample: ``--cells`` distinct connected cells drawn uniformly with a fixed seed, plus the
four uniform cells (every edge ``nor_conv_3x3``, ``nor_conv_1x1``, ``skip_connect``,
``avg_pool_3x3``). Each is trained under ``dimo.evaluation.cell_table.PROTOCOL`` on every dataset with
every seed, cell by cell, so a partial table already covers whole cells. Every finished
training is appended (and fsynced) to ``results/cell_table/cell_table_runs.csv``; a killed run
continues where it stopped. At the end (or with ``--summarize``) the table is written to
``dimo/evaluation/data/cell_table.csv``: protocol, seed-to-seed Spearman correlation per dataset (the
instrument's own noise), the Spearman correlation between datasets, and a row per cell.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

from dimo.evaluation import cell_table
from dimo.evaluation.judge import append_run, read_runs
from dimo.infra.looks import record as record_look
from dimo.infra.manifest import git_revision, write_manifest
from dimo.space import search_space

REPO = Path(__file__).resolve().parents[2]

RUN_FIELDS = ("dataset", "genotype", "seed", "val_accuracy", "test_accuracy", "final_train_loss",
              "params", "train_s")
from dimo.studies.compare import UNIFORM_OPS  # noqa: E402 (one list of the uniform cells)
SAMPLE_SEED = 2026
TABLE_CELLS = 100  # the shipped table's sample (96 + the 4 uniform cells), whatever --cells trains


def sample_cells(count: int, seed: int = SAMPLE_SEED) -> list[search_space.Genotype]:
    """``count`` distinct connected non-uniform cells in a fixed random order, then the uniform ones."""
    uniform = [search_space.Genotype((op,) * search_space.NUM_EDGES) for op in UNIFORM_OPS]
    rng = np.random.default_rng(seed)
    cells: list[search_space.Genotype] = []
    for index in rng.permutation(search_space.NUM_CELLS):
        cell = search_space.Genotype.from_index(int(index))
        if cell.connected and cell not in uniform:
            cells.append(cell)
            if len(cells) == count:
                break
    return cells + uniform


def table_datasets(runs: list[dict], requested: list[str]) -> list[str]:
    """Every dataset with runs, those already in the table first: a build of new datasets keeps
    the others' rows (and the between-dataset figures of the first two)."""
    present = list(dict.fromkeys(r["dataset"] for r in runs))
    return present + [d for d in requested if d not in present]


def summarize(runs: list[dict], datasets: list[str], seeds: int, out: Path, expected: int | None = None) -> dict:
    """Writes the table CSV from finished runs; returns the header figures. With ``expected``
    cells a dataset, one still being built is named in the header but judges nothing yet: a
    percentile among the cells that happen to be done would not be the table's."""
    from scipy.stats import spearmanr

    by = {}
    for r in runs:
        by.setdefault((r["dataset"], r["genotype"]), {})[r["seed"]] = r
    complete = {k: v for k, v in by.items() if len(v) >= seeds}
    header = {k: str(v) for k, v in cell_table.PROTOCOL.items()}
    rows = []
    building = [d for d in datasets if expected and sum(k[0] == d for k in complete) < expected]
    for dataset in building:
        header[f"cells_{dataset}"] = f"{sum(k[0] == dataset for k in complete)} of {expected} (being built)"
    datasets = [d for d in datasets if d not in building]
    for dataset in datasets:
        cells = {g: v for (d, g), v in complete.items() if d == dataset}
        if len(cells) >= 3:
            a = [cells[g][0]["test_accuracy"] for g in cells]
            b = [cells[g][1]["test_accuracy"] for g in cells]
            header[f"spearman_seed0_vs_seed1_{dataset}"] = f"{spearmanr(a, b).statistic:.3f}"
        header[f"cells_{dataset}"] = str(len(cells))
        for g, per_seed in cells.items():
            tests = [per_seed[s]["test_accuracy"] for s in range(seeds)]
            vals = [per_seed[s]["val_accuracy"] for s in range(seeds)]
            rows.append({"dataset": dataset, "genotype": g, "params": per_seed[0]["params"],
                         **{f"test_seed{s}": f"{t:.4f}" for s, t in enumerate(tests)},
                         "test_mean": f"{np.mean(tests):.4f}", "val_mean": f"{np.mean(vals):.4f}"})
    if len(datasets) >= 2:
        means = {d: {r["genotype"]: float(r["test_mean"]) for r in rows if r["dataset"] == d}
                 for d in datasets}
        shared = sorted(set(means[datasets[0]]).intersection(means[datasets[1]]))
        if len(shared) >= 3:
            rho = spearmanr([means[datasets[0]][g] for g in shared], [means[datasets[1]][g] for g in shared])
            header[f"spearman_{datasets[0]}_vs_{datasets[1]}"] = f"{rho.statistic:.3f}"
            # Does one cell serve both? Each dataset's best cell, ranked in the other's table.
            for mine, other in (datasets[:2], datasets[1::-1]):
                best = max(shared, key=means[mine].get)
                pct = cell_table.percentile([means[other][g] for g in shared], means[other][best])
                header[f"best_{mine}_cell_percentile_in_{other}"] = f"{pct:.1f}"
    write_table(out, header, rows, ["dataset", "genotype", "params", *[f"test_seed{s}" for s in range(seeds)],
                                    "test_mean", "val_mean"])
    return header


def write_table(out: Path, header: dict, rows: list[dict], fields) -> None:
    """``# key: value`` header lines, then the CSV rows; replaced whole, never half-written."""
    tmp = out.with_suffix(f".{os.getpid()}.tmp")  # two processes finishing at once each write their own
    with tmp.open("w", newline="") as f:
        f.writelines(f"# {k}: {v}\n" for k, v in header.items())
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="cifar10,fashion_mnist")
    p.add_argument("--cells", type=int, default=96, help="random connected cells besides the 4 uniform ones")
    p.add_argument("--data_dir", default=None, help="raw data folder (default $DIMO_DATA_DIR)")
    p.add_argument("--runs", default=str(REPO / "results" / "cell_table" / "cell_table_runs.csv"))
    p.add_argument("--out", default=str(REPO / "dimo" / "evaluation" / "data" / "cell_table.csv"),
                   help="the table DiMO ships (package data, read by dimo evaluate)")
    p.add_argument("--summarize", action="store_true", help="only write the table from the runs so far")
    args = p.parse_args(argv)
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    seeds = cell_table.PROTOCOL["seeds"]
    runs_path, out = Path(args.runs), Path(args.out)
    if args.summarize:
        runs = read_runs(runs_path)
        print(summarize(runs, table_datasets(runs, datasets), seeds, out, TABLE_CELLS))
        return 0

    import jax
    from tqdm.auto import tqdm

    from datasets_meta import DatasetError, load
    from dimo.evaluation import evaluate
    from dimo.infra import runtime

    runtime.enable_compilation_cache()
    revision = git_revision()  # the code that trains: the checkout may move during the run
    try:
        loaded = {d: load(d, args.data_dir, image_size=cell_table.PROTOCOL["image_size"]) for d in datasets}
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    done = {(r["dataset"], r["genotype"], r["seed"]) for r in read_runs(runs_path)}
    todo = [(g, d, s) for g in sample_cells(args.cells) for d in datasets for s in range(seeds)
            if (d, str(g), s) not in done]
    keys = {k: cell_table.PROTOCOL[k] for k in cell_table.MATCHED_KEYS}
    for name in sorted({d for _, d, _ in todo}):  # reading a held-out test split is a look: said before
        record_look(name, {}, config=cell_table.PROTOCOL, git_revision=revision,
                    what=f"cell table, stage 1: {sum(d == name for _, d, _ in todo)} trainings' test accuracies "
                         f"(a judge; no choice made); the figures: {out.name}")
    start, previous = time.perf_counter(), None
    for genotype, name, seed in tqdm(todo, desc="cell table", dynamic_ncols=True,
                                     initial=len(done), total=len(done) + len(todo)):
        if genotype != previous:
            # Each cell compiles programs of its own; kept, their code exhausts the process's
            # memory mappings after ~130 cells ("LLVM ERROR: Unable to allocate section memory").
            jax.clear_caches()
            previous = genotype
        result = evaluate.train_genotype(genotype, loaded[name], evaluate.TrainSetup(seed=seed, **keys), progress=False)
        append_run(runs_path, {**result, "dataset": name}, RUN_FIELDS)
    runs = read_runs(runs_path)
    header = summarize(runs, table_datasets(runs, datasets), seeds, out, TABLE_CELLS)
    # Appended: the runs (and so the table) come from several commands, one per dataset group.
    write_manifest(runs_path, protocol=cell_table.PROTOCOL, append=True, git_revision=revision)
    write_manifest(out, protocol=cell_table.PROTOCOL, append=True, git_revision=revision)
    print(f"{len(todo)} trainings in {time.perf_counter() - start:.0f} s; table {out}")
    for k, v in header.items():
        if k.startswith(("spearman", "cells", "best_")):
            print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

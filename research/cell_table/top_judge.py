"""The top judge: stage 2 of the cell table, trained under a higher-fidelity protocol with 3+ seeds.

    DIMO_DATA_DIR=../shared/data python -m research.cell_table.top_judge --dataset fashion_mnist \\
        --protocol A --cells pilot            # the protocol pilot (research/PROTOCOL.md)
    DIMO_DATA_DIR=../shared/data python -m research.cell_table.top_judge --dataset cifar10 --protocol B
    python -m research.cell_table.top_judge --dataset cifar10 --protocol B --summarize

The stage-1 table (``dimo/evaluation/data/cell_table.csv``) picks the cells: its best by
**validation** mean, the four uniform cells (all-``nor_conv_3x3`` is also the cell with the
most parameters) and, with ``--claimed``, the cells claims judge. Each is trained under the
protocol with every seed; every finished training is appended (and fsynced) to
``results/cell_table/top_judge_runs.csv``, so a killed run resumes. The summary
``results/cell_table/top_judge_<dataset>_<protocol>_<cells>.csv`` has the reliability figures in
its header (seed-to-seed Spearman, standard error against the top-10 spread, the bar of
research/PROTOCOL.md) and a row per cell with its per-seed test accuracies and its percentile's
bootstrap interval. Building a held-out dataset's table is a look (``results/held_out_looks.jsonl``).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

from dimo.evaluation import cell_table
from dimo.evaluation.judge import COMMON, PROTOCOLS, TrainingLog, read_runs
from dimo.infra.looks import record as record_look
from dimo.infra.manifest import git_revision, manifest_path, write_manifest
from dimo.space import search_space
from research.cell_table import build

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "results" / "cell_table"
RUNS = RESULTS / "top_judge_runs.csv"
CLAIMED = Path(__file__).with_name("claimed_cells.json")  # python -m research.cell_table.claimed_cells
BAR = {"spearman": 0.7, "se_over_spread": 1 / 3}
# How many of stage 1's best cells by validation mean. Stage 2 judges the 20 best, the fallback
# research/PROTOCOL.md pre-registers when the compute does not fit (its note of 2026-12-02 says why).
CELL_SETS = {"pilot": 10, "stage2": 20}


def stage1_rows(dataset: str, path=None) -> list[dict]:
    """The stage-1 table's rows of ``dataset`` (genotype, params, test_mean, val_mean)."""
    with open(path or cell_table.default_path(), newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    return [r for r in rows if r["dataset"] == dataset]


def judged_cells(dataset: str, cell_set: str, claimed=(), path=None) -> list[str]:
    """Stage 1's best cells by validation mean, all-3x3 and all-1x1 (pilot) or the four uniform
    cells (stage 2), then the claimed cells; each once, in that order."""
    rows = sorted(stage1_rows(dataset, path), key=lambda r: -float(r["val_mean"]))
    if not rows:
        raise ValueError(f"the stage-1 table has no {dataset} rows: build them first "
                         f"(python -m research.cell_table.build --datasets {dataset})")
    uniform = build.UNIFORM_OPS[:2] if cell_set == "pilot" else build.UNIFORM_OPS
    fixed = [str(search_space.Genotype((op,) * search_space.NUM_EDGES)) for op in uniform]
    claimed = [str(search_space.Genotype.from_string(c)) for c in claimed]
    if cell_set == "pilot":  # as pre-registered and run: strings, duplicates of one network kept
        return list(dict.fromkeys([r["genotype"] for r in rows[:CELL_SETS[cell_set]]] + fixed + claimed))
    # Stage 2 judges networks: cells with one pruned form train alike (3 of the pilot's 12 gave
    # identical accuracies), so the N best are N distinct networks, and a later string of a
    # network already judged adds nothing (its figures are that network's).
    forms, cells = set(), []
    for genotype in [r["genotype"] for r in rows] + fixed + claimed:
        form = search_space.Genotype.from_string(genotype).pruned()
        best_done = len(cells) >= CELL_SETS[cell_set]
        if form not in forms and (not best_done or genotype in fixed or genotype in claimed):
            forms.add(form)
            cells.append(genotype)
    return cells


def stands_for(cells: list[str], claimed=()) -> dict[str, list[str]]:
    """Judged cell -> the claimed strings (not judged themselves) whose network it is: a claim's
    cell dropped as a second string of a judged network is found under that network's row."""
    forms = {search_space.Genotype.from_string(c).pruned(): c for c in cells}
    out: dict[str, list[str]] = {}
    for c in claimed:
        c = str(search_space.Genotype.from_string(c))
        judged = forms.get(search_space.Genotype.from_string(c).pruned())
        if c not in cells and judged is not None:
            out.setdefault(judged, []).append(c)
    return out


def reliability(per_cell: dict[str, list[float]]) -> dict:
    """The two figures the bar reads, over the judged cells (each with the same seeds)."""
    from scipy.stats import spearmanr

    seeds = min(len(v) for v in per_cell.values())
    matrix = np.array([v[:seeds] for v in per_cell.values()])  # [cells, seeds]
    pairs = [spearmanr(matrix[:, a], matrix[:, b]).statistic for a, b in itertools.combinations(range(seeds), 2)]
    means = np.sort(matrix.mean(1))[::-1]
    se = float(np.median(matrix.std(1, ddof=1) / np.sqrt(seeds)))
    spread = float(means[0] - means[min(9, len(means) - 1)])
    spearman = float(np.mean(pairs))
    return {"cells": len(matrix), "seeds": seeds, "spearman_seed_pairs_mean": spearman,
            "spearman_seed_pairs": [float(p) for p in pairs], "se_of_cell_mean_median": se,
            "top10_spread": spread, "se_over_spread": se / spread if spread > 0 else float("inf"),
            "bar_spearman_met": spearman >= BAR["spearman"],
            "bar_resolution_met": spread > 0 and se <= BAR["se_over_spread"] * spread}


def _resampled_means(values: np.ndarray, resamples: int, rng) -> np.ndarray:
    """[resamples, cells] means of each cell's seeds drawn with replacement ([cells, seeds] in)."""
    picks = rng.integers(values.shape[1], size=(resamples,) + values.shape)
    return np.take_along_axis(np.broadcast_to(values, picks.shape), picks, axis=2).mean(2)


def _percentiles(table: np.ndarray, mine: np.ndarray) -> np.ndarray:
    """cell_table.percentile, row by row: percent of ``table[r]`` below ``mine[r]``, ties half."""
    below = (table < mine[:, None]).sum(1) + 0.5 * (table == mine[:, None]).sum(1)
    return 100.0 * below / table.shape[1]


def percentile_interval(per_cell: dict[str, list[float]], accuracies, resamples: int = 2000,
                        seed: int = 0) -> tuple[float, float, float]:
    """Percentile of the mean of ``accuracies`` among the cells' means, and its 95% bootstrap
    interval (each cell's seeds and the judged figure's seeds resampled)."""
    rng = np.random.default_rng(seed)
    table = np.array(list(per_cell.values()), np.float64)
    mine = np.asarray(accuracies, np.float64)[None]
    point = cell_table.percentile(table.mean(1), mine.mean())
    draws = _percentiles(_resampled_means(table, resamples, rng), _resampled_means(mine, resamples, rng)[:, 0])
    return point, float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def table_percentiles(per_cell: dict[str, list[float]], resamples: int = 2000, seed: int = 0) -> dict:
    """{genotype: (percentile, lo95, hi95)} of every cell in its own table, one bootstrap for all."""
    table = np.array(list(per_cell.values()), np.float64)
    draws = _resampled_means(table, resamples, np.random.default_rng(seed))
    means = table.mean(1)
    out = {}
    for j, genotype in enumerate(per_cell):
        pct = _percentiles(draws, draws[:, j])
        out[genotype] = (cell_table.percentile(means, means[j]), float(np.percentile(pct, 2.5)),
                         float(np.percentile(pct, 97.5)))
    return out


def per_cell_tests(runs: list[dict], dataset: str, protocol: str, cells: list[str], seeds: int) -> dict:
    by = {}
    for r in runs:
        if r["dataset"] == dataset and r["protocol"] == protocol:
            by.setdefault(r["genotype"], {})[int(r["seed"])] = float(r["test_accuracy"])
    return {g: [by[g][s] for s in range(seeds)] for g in cells if len(by.get(g, {})) >= seeds}


def summarize(runs, dataset, protocol, cells, seeds, out: Path, claimed=()) -> dict:
    per_cell = per_cell_tests(runs, dataset, protocol, cells, seeds)
    if len(per_cell) < 3:
        return {"cells_done": len(per_cell)}
    figures = reliability(per_cell)
    # A table still being trained says so: its figures are over the cells done, not the judged set.
    status = ("complete" if len(per_cell) == len(cells)
              else f"being built: {len(per_cell)} of {len(cells)} judged cells done; figures over those")
    header = {"dataset": dataset, "protocol": protocol, "status": status, **COMMON, **PROTOCOLS[protocol],
              "seeds": seeds,
              **{k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in figures.items()},
              "bar": f"Spearman >= {BAR['spearman']} and SE <= {BAR['se_over_spread']:.3f} x top-10 spread"}
    # Strings of one network tie on every seed and help a rank correlation (the pilots judge
    # strings): the same figures over distinct networks, the first string of each.
    forms = {}
    for g in per_cell:
        forms.setdefault(search_space.Genotype.from_string(g).pruned(), g)
    if 3 <= len(forms) < len(per_cell):
        distinct = reliability({g: per_cell[g] for g in forms.values()})
        header.update({f"distinct_networks_{k}": (f"{distinct[k]:.4f}" if isinstance(distinct[k], float)
                                                  else distinct[k])
                       for k in ("cells", "spearman_seed_pairs_mean", "se_over_spread")})
    params = {r["genotype"]: r["params"] for r in runs if r["dataset"] == dataset}
    rows, percentiles, aliases = [], table_percentiles(per_cell), stands_for(cells, claimed)
    for g, tests in sorted(per_cell.items(), key=lambda kv: -np.mean(kv[1])):
        pct, lo, hi = percentiles[g]
        rows.append({"dataset": dataset, "genotype": g, "params": params.get(g, ""),
                     **{f"test_seed{s}": f"{t:.4f}" for s, t in enumerate(tests)},
                     "test_mean": f"{np.mean(tests):.4f}", "test_se": f"{np.std(tests, ddof=1) / np.sqrt(seeds):.4f}",
                     "percentile": f"{pct:.1f}", "percentile_lo95": f"{lo:.1f}", "percentile_hi95": f"{hi:.1f}",
                     "stands_for": ";".join(aliases.get(g, []))})
    build.write_table(out, header, rows, list(rows[0]))
    return figures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True)
    p.add_argument("--protocol", choices=tuple(PROTOCOLS), required=True)
    p.add_argument("--cells", choices=tuple(CELL_SETS), default="stage2")
    p.add_argument("--claimed", default="", help="comma-separated genotypes claims judge on this dataset "
                   "(default with --cells stage2: the dataset's in claimed_cells.json)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--data_dir", default=None, help="raw data folder (default $DIMO_DATA_DIR)")
    p.add_argument("--summarize", action="store_true", help="only write the summary from the runs so far")
    p.add_argument("--reverse", action="store_true", help="take the cells from the last: a second process on the "
                   "same dataset meets the first in the middle (the shared log keeps either from repeating one)")
    args = p.parse_args(argv)
    if args.seeds < 3:
        p.error("--seeds must be at least 3 (research/PROTOCOL.md: fewer cells, never fewer seeds)")
    claimed = [c for c in args.claimed.split(",") if c.strip()]
    if args.cells == "stage2" and not claimed and CLAIMED.is_file():  # research/PROTOCOL.md's claimed cells
        claimed = list(json.loads(CLAIMED.read_text()).get(args.dataset, {}))
    try:
        cells = judged_cells(args.dataset, args.cells, claimed)
    except (ValueError, search_space.GenotypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = RESULTS / f"top_judge_{args.dataset}_{args.protocol}_{args.cells}.csv"
    revision = git_revision()  # the code that trained: HEAD may move during a long run
    if not args.summarize:
        from datasets_meta import DatasetError, load

        try:
            dataset = load(args.dataset, args.data_dir, image_size=PROTOCOLS[args.protocol]["image_size"])
        except DatasetError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        train(args, cells, dataset, revision)
    runs = read_runs(RUNS)
    figures = summarize(runs, args.dataset, args.protocol, cells, args.seeds, out, claimed)
    if out.is_file():
        write_manifest(out, protocol={**COMMON, **PROTOCOLS[args.protocol]}, cells=cells, append=True,
                       git_revision=revision)
        write_manifest(RUNS, append=True, git_revision=revision)
    print({k: v for k, v in figures.items() if k != "spearman_seed_pairs"})
    return 0


def train(args, cells: list[str], dataset, revision) -> None:
    from tqdm.auto import tqdm

    from dimo.infra import runtime

    runtime.enable_compilation_cache()
    protocol = PROTOCOLS[args.protocol]
    log = TrainingLog(RUNS)
    todo = [g for g in cells if any((args.dataset, args.protocol, g, s) not in log.done for s in range(args.seeds))]
    if todo:  # reading a held-out test split is a look: said before, so a killed run counts too
        trainings = sum((args.dataset, args.protocol, g, s) not in log.done for g in todo for s in range(args.seeds))
        record_look(args.dataset, {}, config=protocol, git_revision=revision,
                    what=f"top judge (stage 2) {args.protocol}/{args.cells}: {trainings} trainings' test accuracies")
    if not manifest_path(RUNS).is_file():  # from its first row on, the log says what wrote it
        RUNS.touch()
        write_manifest(RUNS, protocol={**COMMON, **protocol})
    todo = todo[::-1] if args.reverse else todo
    start = time.perf_counter()
    for genotype in tqdm(todo, desc=f"top judge {args.dataset} {args.protocol}", unit="cell", dynamic_ncols=True):
        # --reverse takes the seeds from the last too: where the two processes meet, on one cell,
        # they train different seeds (the shared log keeps either from repeating the other's).
        seeds = range(args.seeds)
        log.judge(genotype, dataset, args.protocol, seeds[::-1] if args.reverse else seeds)
    print(f"{len(todo)} cells in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    from research import script

    script.run(main)

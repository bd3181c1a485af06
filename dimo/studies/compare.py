"""``dimo compare``: DiMO's answers beside every search method, on one budget, judged alike.

Entries (each with ``seeds`` repetitions where it has a seed):

* DiMO's methods (``dimo.search.dimo_method``): ``propose``, the decoded cell of the
  meta-trained run(s) (no search; its seconds are the proposal's own wall time), and
  ``propose-verify``, the N most probable cells under the decoded distribution by successive
  halving on the target's validation split (seeded);
* every other search method of ``dimo.search.registry`` with ``budget_s`` seconds of wall
  clock, compile included (seeded).

All of them are reached through ``dimo.search.registry.run``.

Every chosen cell is then trained under the cell table's protocol with the table's seeds
(``dimo.evaluation.cell_table.train_and_judge``; a cell chosen twice is trained once) and its mean
test accuracy placed among the table's cells. Rows: method, seed, cell, test accuracy,
percentile, search seconds, and for gradient-based methods the final mixture's mass on
parameter-free ops; ``summarize`` gives each method's mean and spread over seeds.
Run it on an otherwise idle machine: budgets are wall clock.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dimo.search import registry as search_methods

PARAMETER_FREE_OPS = ("none", "skip_connect", "avg_pool_3x3")


def compare(runs, dataset, budget_s: float, seeds: int = 1, methods=search_methods.METHODS,
            verify: int = 9, candidate_steps: int = 300, verify_steps: int = 100, data_dir=None,
            progress: bool = True) -> dict:
    """Runs the comparison on ``dataset`` (a ``datasets_meta.Dataset`` at the table's image
    size) for the meta-trained ``runs`` (``dimo.meta.trained.Trained``, several seeds of one recipe
    allowed)."""
    from tqdm.auto import tqdm

    from dimo.evaluation import cell_table
    from dimo.search import discrete

    config = runs[0].config
    _, table = cell_table.read()
    units = [("propose", 0)] + [("propose-verify", s) for s in range(seeds) if verify]
    units += [(m, s) for m in methods for s in range(seeds)]
    rows, judged = [], {}
    bar = tqdm(units, desc="compare", unit="run", disable=not progress)
    for method, seed in bar:
        bar.set_postfix_str(f"{method} seed {seed}")
        setup = discrete.SearchSetup.from_config(config, seed=seed, budget_s=budget_s,
                                                 candidate_steps=candidate_steps)
        result = search_methods.run(method, dataset, setup, runs=runs, data_dir=data_dir, verify=verify,
                                    verify_steps=verify_steps)
        bar.set_postfix_str(f"{method} seed {seed}: training its cell")
        if result.genotype not in judged:
            judged[result.genotype] = cell_table.train_and_judge(result.genotype, dataset, table)
        row = {"method": method, "seed": seed, "genotype": result.genotype, "search_s": float(result.search_s),
               **judged[result.genotype]}
        if method in search_methods.GRADIENT_METHODS:  # the final mixture (discrete searches have none)
            row["arch_weights"] = result.arch_weights
            row["parameter_free_mass"] = parameter_free_mass(result.arch_weights)
        rows.append(row)
    return {"dataset": dataset.name, "budget_s": budget_s, "seeds": seeds, "verify": verify,
            "candidate_steps": candidate_steps,
            # names, not paths: the command line (in the manifest) holds the paths
            "meta_training_runs": [Path(r.workdir).name for r in runs],
            "seen_in_meta_training": any(r.seen(dataset.name) for r in runs),
            "protocol": cell_table.PROTOCOL, "rows": rows, "summary": summarize(rows),
            "table": sorted(table.get(dataset.name, {}).values())}


def parameter_free_mass(arch_weights) -> float:
    """Mean over edges of the weight on ops without parameters (none, skip, pooling): the
    collapse NAS-Bench-201 reports for DARTS shows as this mass growing."""
    from dimo.space import search_space

    free = [search_space.OPS.index(op) for op in PARAMETER_FREE_OPS]
    return float(np.mean(np.sum(np.asarray(arch_weights)[:, free], -1)))


def summarize(rows: list[dict]) -> list[dict]:
    """One line per method in order of appearance: mean and sample std over its seeds of the
    test accuracy (each seed's the mean over the table's training seeds), percentile and
    search seconds."""
    out = []
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        acc = [r["test_accuracy_mean"] for r in mine]
        pct = [r["table_percentile"] for r in mine if r["table_percentile"] is not None]
        free = [r["parameter_free_mass"] for r in mine if "parameter_free_mass" in r]
        out.append({"method": method, "runs": len(mine), "test_accuracy": float(np.mean(acc)),
                    "test_accuracy_std": float(np.std(acc, ddof=1)) if len(acc) > 1 else 0.0,
                    "table_percentile": float(np.mean(pct)) if pct else None,
                    "search_s": float(np.mean([r["search_s"] for r in mine])),
                    "parameter_free_mass": float(np.mean(free)) if free else None,
                    "cells": sorted({r["genotype"] for r in mine})})
    return out


def markdown(result: dict) -> str:
    seen = " (seen in meta-training)" if result["seen_in_meta_training"] else ""
    lines = [f"`dimo compare` on {result['dataset']}{seen}: budget {result['budget_s']:g} s a search, "
             f"{result['seeds']} seed(s); cells trained under the cell table's protocol "
             f"({result['protocol']['steps']} steps, {result['protocol']['seeds']} training seeds)", "",
             "| method | seeds | test accuracy (mean ± std over seeds) | table percentile | search s | "
             "parameter-free mass | cells |", "|---|---|---|---|---|---|---|"]
    for s in result["summary"]:
        pct = "n/a" if s["table_percentile"] is None else f"{s['table_percentile']:.1f}"
        cells = "<br>".join(f"`{c.replace('|', chr(92) + '|')}`" for c in s["cells"])
        free = "" if s["parameter_free_mass"] is None else f"{s['parameter_free_mass']:.2f}"
        lines.append(f"| {s['method']} | {s['runs']} | {s['test_accuracy']:.4f} ± {s['test_accuracy_std']:.4f} | "
                     f"{pct} | {s['search_s']:.1f} | {free} | {cells} |")
    return "\n".join(lines)


def plot(result: dict, path) -> None:
    """Test accuracy against search seconds (log scale), one point per method and seed, over
    the cell table's distribution of the dataset (band: 5th-95th percentile, line: median)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    table = np.asarray(result["table"])
    if table.size:
        low, median, high = np.percentile(table, [5, 50, 95])
        ax.axhspan(low, high, color="0.85", label=f"cell table, 5th-95th percentile ({table.size} cells)")
        ax.axhline(median, color="0.5", lw=0.8, ls="--", label="cell table median")
        ax.axhline(table.max(), color="0.5", lw=0.8, ls=":", label="cell table best")
    markers, colors = "os^vD<>phX*P", plt.get_cmap("tab20").colors
    for i, method in enumerate(dict.fromkeys(r["method"] for r in result["rows"])):
        mine = [r for r in result["rows"] if r["method"] == method]
        ax.scatter([max(r["search_s"], 1e-2) for r in mine], [r["test_accuracy_mean"] for r in mine],
                   marker=markers[i % len(markers)], color=colors[(2 * i) % 20 + (i >= 10)], s=40,
                   label=method, zorder=3)
    ax.set_xscale("log")
    ax.set_xlabel("search seconds (log; compile included)")
    ax.set_ylabel("test accuracy, table protocol (mean of its seeds)")
    ax.set_title(f"{result['dataset']}: budget {result['budget_s']:g} s", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: points stay visible
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

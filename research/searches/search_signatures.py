"""The gradient-based searches' signatures: how each one's mixture moves over a search.

    DIMO_DATA_DIR=../shared/data python -m research.searches.search_signatures --dataset cifar10 \\
        --methods darts,gdas,drnas,sdarts --steps 1600 [--seed 0] [--warmup 0] [--normalize_free_ops] [--arch_lr R] [--out results/searches/search_signatures.json]

NAS-Bench-201 reports first-order DARTS drifting to parameter-free ops (the all-skip cell) as
its search lengthens, and GDAS and DrNAS not doing so. Each method here runs ``--steps``
search steps (no wall-clock budget, so the trajectory does not depend on the machine's load)
at the default sizes; the mass of the selection distribution on parameter-free ops (none,
skip, pooling; 0.6 for the uniform mixture) is read after every step, and the selected cell's
count of parameter-free edges is reported at every ``--every`` steps' mixture. Prints one
line per method and writes the curves to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys

from dimo.infra.manifest import write_manifest
from dimo.search.registry import GRADIENT_METHODS

# DARTS-PT is DARTS's mixture followed by a selection: its trajectory is DARTS's.
GRADIENT_RULES = tuple(m for m in GRADIENT_METHODS if m != "darts-pt")


def trajectory(method: str, dataset, steps: int, seed: int, every: int, warmup: int = 0,
               normalize_free_ops: bool = False, arch_lr: float | None = None) -> dict:
    from dimo.configs import default
    from dimo.search import darts, discrete, drnas, gdas, gradient_search, sdarts
    from dimo.space import search_space
    from dimo.studies import compare

    rules = {"darts": (darts.rule(1), 1), "darts2": (darts.rule(2), 2), "gdas": (gdas.rule(), 1),
             "drnas": (drnas.rule(), 1), "sdarts": (sdarts.rule(), 1)}
    rule, order = rules[method]
    setup = discrete.SearchSetup.from_config(default.get_config(), steps=steps, seed=seed,
                                              normalize_free_ops=normalize_free_ops, arch_lr=arch_lr)
    result, state = gradient_search.search(dataset, setup, rule, order=order, warmup_steps=warmup)
    marks = list(range(every - 1, steps, every))
    def free_edges(genotype: search_space.Genotype) -> int:
        return sum(op in compare.PARAMETER_FREE_OPS for op in genotype.ops)

    cells = [search_space.discretize(state.selections[i]) for i in marks]
    return {"method": result["method"], "steps": steps, "warmup_steps": warmup, "seed": seed,
            "normalize_free_ops": normalize_free_ops, "arch_lr": result["arch_lr"],
            "search_s": result["search_s"],
            "genotype": result["genotype"],
            "mass_at": [int(i + 1) for i in marks],
            "parameter_free_mass": [compare.parameter_free_mass(state.selections[i]) for i in marks],
            "cells": [str(c) for c in cells], "parameter_free_edges": [free_edges(c) for c in cells]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--methods", default="darts,gdas,drnas,sdarts")
    p.add_argument("--steps", type=int, default=1600)
    p.add_argument("--every", type=int, default=200, help="report the mixture every this many steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warmup", type=int, default=0,
                   help="the first this many steps train the weights alone (architecture frozen)")
    p.add_argument("--normalize_free_ops", action="store_true",
                   help="normalise skip and pooling outputs in the mixture (tests the scale confound)")
    p.add_argument("--arch_lr", type=float, default=None,
                   help="the architecture's rate (default: its travel spread over the steps)")
    p.add_argument("--data_dir", default=None)
    p.add_argument("--out", default="results/searches/search_signatures.json")
    args = p.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in GRADIENT_RULES]
    if bad or args.steps < args.every or args.every < 1 or not 0 <= args.warmup < args.steps \
            or (args.arch_lr is not None and args.arch_lr <= 0):
        print(f"error: --methods among {', '.join(GRADIENT_RULES)} (got {bad}), --steps >= --every >= 1, "
              f"0 <= --warmup < --steps, --arch_lr > 0", file=sys.stderr)
        return 2
    from dimo.infra import runtime
    from research.proposals.judge_proposals import ev_dataset

    runtime.enable_compilation_cache()
    dataset = ev_dataset(args.dataset, args.data_dir)
    rows = []
    for method in methods:
        row = trajectory(method, dataset, args.steps, args.seed, args.every, args.warmup,
                         args.normalize_free_ops, args.arch_lr)
        rows.append({"dataset": dataset.name, **row})
        print(f"{row['method']:<20} parameter-free mass " + " ".join(f"{m:.2f}" for m in row["parameter_free_mass"])
              + f"  edges {row['parameter_free_edges']}  final {row['genotype']}  ({row['search_s']:.0f} s)",
              flush=True)
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=1)
    write_manifest(args.out)
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

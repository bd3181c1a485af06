"""The search baselines on a wall-clock budget, judged against the cell table like proposals.

    DIMO_DATA_DIR=../shared/data python -m research.searches.judge_searches --dataset cifar10 \\
        --methods random,darts --budget 600 [--candidate_steps 1000] [--seed 0]
    python -m research.searches.judge_searches --report       # every row so far

Each method runs ``dimo search``'s code with ``--budget`` seconds (compile included) at the
default config's sizes; the cell it selects (on the validation split, or by its architecture
weights) is then trained under the cell table's protocol with the table's seeds, and its
mean test accuracy ranked in the table (``research.proposals.judge_proposals.judge_cell``, the same
judge as DiMO's proposals). One JSON line per method is appended to ``--out``. Run it on an
otherwise idle machine: the budget is wall clock, and jobs beside it shrink the search.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dimo.infra.manifest import write_manifest
from dimo.search.registry import METHODS


def judge_search(method: str, dataset_name: str, budget_s: float, candidate_steps: int, seed: int,
                 data_dir=None) -> dict:
    from dimo.configs import default
    from dimo.evaluation import cell_table
    from dimo.search import discrete
    from dimo.search import registry as search_methods
    from research.proposals.judge_proposals import ev_dataset, judge_cell

    config = default.get_config()
    dataset = ev_dataset(dataset_name, data_dir)
    setup = discrete.SearchSetup.from_config(config, seed=seed, candidate_steps=candidate_steps, budget_s=budget_s)
    result = search_methods.run(method, dataset, setup)
    _, table = cell_table.read()
    row = {"method": result["method"], "dataset": dataset.name, "seed": seed, "budget_s": budget_s,
           "search_s": result["search_s"], "steps": result["steps"], "genotype": result["genotype"],
           **judge_cell(result["genotype"], dataset, table)}
    if "candidates" in result:
        row["candidates"] = len(result["candidates"])
        row["candidate_steps"] = candidate_steps
    return row


def report(path: str) -> str:
    from dimo.evaluation import cell_table
    from research.proposals.judge_proposals import judged_columns

    _, table = cell_table.read()
    lines = ["| method | dataset | seed | budget s | search s | steps | cell | test (2 seeds) | table percentile |",
             "|---|---|---|---|---|---|---|---|---|"]
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        what = f"{r['steps']}" + (f" ({r['candidates']} cells x {r['candidate_steps']})" if "candidates" in r else "")
        lines.append(f"| {r['method']} | {r['dataset']} | {r['seed']} | {r['budget_s']:g} | {r['search_s']:.0f} | "
                     f"{what} | {judged_columns(r['genotype'], r, table.get(r['dataset'], {}))} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--methods", default="random,darts")
    p.add_argument("--budget", type=float, default=600.0, help="seconds of search each, compile included")
    p.add_argument("--candidate_steps", type=int, default=1000,
                   help="random search: training steps per candidate (1000: the table's protocol length)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data_dir", default=None)
    p.add_argument("--out", default="results/searches/searches.jsonl")
    p.add_argument("--report", action="store_true", help="print the rows so far as a table")
    args = p.parse_args(argv)
    if args.report:
        print(report(args.out))
        return 0
    if args.budget <= 0 or args.candidate_steps <= 0:
        print("error: --budget and --candidate_steps must be positive", file=sys.stderr)
        return 2
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        print(f"error: unknown --methods {unknown}; choose from {', '.join(METHODS)}", file=sys.stderr)
        return 2
    from dimo.infra import runtime

    runtime.enable_compilation_cache()
    for method in methods:
        row = judge_search(method, args.dataset, args.budget, args.candidate_steps, args.seed, args.data_dir)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        write_manifest(args.out, append=True)
        print(f"{row['method']:<22} {row['genotype']}  {row['search_s']:.0f} s, {row['steps']} steps  "
              f"test {row['test_accuracy_mean']:.4f}  percentile {row['table_percentile']:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

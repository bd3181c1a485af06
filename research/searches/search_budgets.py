"""How near its wall-clock budget each search method ends (issue #16: within 10 %).

    DIMO_DATA_DIR=../shared/data python -m research.searches.search_budgets --dataset cifar10 --budget 120 \\
        [--methods random,darts,...] [--out results/searches/search_budgets.json]

Runs every method of ``dimo.search.registry`` once with ``--budget`` seconds (compile
included) at the default sizes, as ``dimo compare`` runs them (300-step candidates for the
discrete searches), without training the chosen cells afterwards, and prints each one's
seconds and its distance from the budget. Run it on an otherwise idle machine: budgets are
wall clock.
"""

from __future__ import annotations

import argparse
import json
import sys

from dimo.infra.manifest import write_manifest
from dimo.search.registry import METHODS


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--budget", type=float, default=120.0)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--candidate_steps", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data_dir", default=None)
    p.add_argument("--out", default="results/searches/search_budgets.json")
    args = p.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or args.budget <= 0 or args.candidate_steps < 1:
        print(f"error: --methods among {', '.join(METHODS)} (got {bad}), --budget > 0, --candidate_steps >= 1",
              file=sys.stderr)
        return 2
    from dimo.configs import default
    from dimo.infra import runtime
    from dimo.search import discrete as discrete_search
    from dimo.search import registry as search_methods
    from research.proposals.judge_proposals import ev_dataset

    runtime.enable_compilation_cache()
    dataset = ev_dataset(args.dataset, args.data_dir)
    setup = discrete_search.SearchSetup.from_config(default.get_config(), seed=args.seed, budget_s=args.budget,
                                              candidate_steps=args.candidate_steps)
    rows = []
    for method in methods:
        result = search_methods.run(method, dataset, setup)
        row = {"method": method, "budget_s": args.budget, "search_s": result["search_s"],
               "off_by": result["search_s"] / args.budget - 1, "steps": result["steps"],
               "evaluations": len(result.get("candidates", [])) or None,
               "warmup_chunk_s": result.get("warmup_chunk_s")}
        rows.append(row)
        print(f"{method:<11} {row['search_s']:7.1f} s of {args.budget:g}  ({100 * row['off_by']:+.1f} %)  "
              f"{row['steps']} steps", flush=True)
    with open(args.out, "w") as f:
        json.dump({"dataset": dataset.name, "rows": rows}, f, indent=1)
    write_manifest(args.out)
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

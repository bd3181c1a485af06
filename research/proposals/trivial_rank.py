"""Where the trivial cell sits in DiMO's decoded distribution.

    DIMO_DATA_DIR=../shared/data python -m research.proposals.trivial_rank \\
        results/comparison/recommended_ce/systems/seed0 results/comparison/recommended_ce/systems/seed1 \\
        results/comparison/recommended_ce/systems/seed2     # results/proposals/trivial_rank.{json,md}

``dimo propose --rank 9`` can only choose among the decoder's 9 likeliest cells, and in none of
the four meta-validation runs of the recommended recipe was all-``nor_conv_3x3`` among them
(research/comparison/README.md, ``v0_ce_200+rank9top``). This says how far down it is. For each
run and dataset, the run proposes from a support set of the dataset's training split (no test
split is read), and the script reports:

- all-``nor_conv_3x3``'s rank among connected cells, one per pruned form, where 1 is the decoded
  cell;
- its log-probability below the decoded cell's;
- the probability of ``nor_conv_3x3`` on each of the 6 edges.

It measures how strongly the decoder, meta-trained on K-step unrolls, prefers cheaper ops to the
cell that the judge's tables put first (#36's hypothesis 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dimo.infra.manifest import write_manifest
from dimo.space import search_space
from research.baselines import ALL_3X3

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "results" / "proposals" / "trivial_rank.json"
DATASETS = "digits,mnist,fashion_mnist,kmnist,cifar10,tiny_imagenet20"


def standing(arch_weights, cell: str = ALL_3X3) -> dict:
    """``cell``'s rank among the connected cells of the distribution (one per pruned form, 1 = the
    decoded cell), its log-probability below the decoded cell's, and each edge's probability of
    ``cell``'s op there."""
    weights = np.asarray(arch_weights, np.float64)
    target = search_space.Genotype.from_string(cell)
    ordered = search_space.most_probable(weights, search_space.NUM_OPS ** search_space.NUM_EDGES)
    forms = [g.pruned() for g in ordered]

    def log_p(genotype) -> float:
        return float(sum(np.log(weights[e, search_space.OPS.index(op)]) for e, op in enumerate(genotype.ops)))

    return {"rank": forms.index(target.pruned()) + 1, "of": len(forms),
            "log_prob_below_decoded": log_p(ordered[0]) - log_p(target),
            "edge_probabilities": [float(weights[e, search_space.OPS.index(op)]) for e, op in enumerate(target.ops)],
            "decoded": str(ordered[0])}


def rows(workdirs, datasets, data_dir=None) -> list[dict]:
    from dimo.meta import propose, trained

    out = []
    for workdir in workdirs:
        system = trained.load(workdir)
        for dataset in datasets:
            proposal = propose.propose(system, dataset, data_dir, seed=0)
            out.append({"run": Path(workdir).name, "dataset": dataset,
                        "seen_in_meta_training": dataset in system.meta_training_datasets,
                        **standing(proposal["arch_weights"])})
    return out


def markdown(found: list[dict]) -> str:
    lines = ["| run | dataset | all-3x3's rank | of | log-prob below the decoded cell | P(3x3) per edge | decoded |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['run']} | {r['dataset']}{' (meta-training)' if r['seen_in_meta_training'] else ''} | {r['rank']} | "
              f"{r['of']} | {r['log_prob_below_decoded']:.2f} | {', '.join(f'{p:.2f}' for p in r['edge_probabilities'])} | "
              f"`{r['decoded']}` |" for r in found]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workdirs", nargs="+", help="meta-training runs (workdirs or kept systems)")
    p.add_argument("--datasets", default=DATASETS)
    p.add_argument("--data_dir", default=None)
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    missing = [w for w in args.workdirs if not Path(w).is_dir()]
    if missing:
        print(f"error: no such run: {', '.join(missing)}; pass workdirs or kept systems", file=sys.stderr)
        return 2
    found = rows(args.workdirs, [d.strip() for d in args.datasets.split(",") if d.strip()], args.data_dir)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": found}, indent=1) + "\n")
    write_manifest(out)
    out.with_suffix(".md").write_text(markdown(found) + "\n")
    print(markdown(found))
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

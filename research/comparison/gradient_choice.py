"""The best gradient method, chosen on a meta-training dataset (research/comparison/PROTOCOL.md).

    DIMO_DATA_DIR=../shared/data python -m research.comparison.gradient_choice     # 1 h of searches alone, then ~45 min of trainings

Each of darts, darts2, gdas, drnas, sdarts and darts-pt searches fashion_mnist for 600 s with
seed 0 (the network at the recommended config's sizes, as ``dimo compare`` sets it); each found
cell is trained under the top judge's protocol C with seeds 0, 1, 2 (the stage-2 trainings are
reused where they exist); the method whose cell has the highest mean **validation** accuracy
is the comparison's gradient baseline (ties: the earlier in the list). The six searches run first,
one at a time, and the machine must be otherwise idle while they do: the budget is wall clock.
The trainings come after them and need no idle machine (``searched`` in the record says when
the searches are over). Resumable: a method already searched (``searched``) is not searched again,
one already judged (``methods``) not trained again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dimo.infra.manifest import write_manifest

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "results" / "comparison" / "gradient_choice.json"
TRAININGS = OUT.with_name("gradient_choice_runs.csv")
TOP_JUDGE_RUNS = REPO / "results" / "cell_table" / "top_judge_runs.csv"
METHODS = ("darts", "darts2", "gdas", "drnas", "sdarts", "darts-pt")
DATASET, BUDGET_S, SEED = "fashion_mnist", 600.0, 0


def choose(entries: dict) -> str:
    """The method with the best mean validation accuracy; ties go to the earlier in ``METHODS``."""
    return max((m for m in METHODS if m in entries), key=lambda m: (entries[m]["val_accuracy_mean"], -METHODS.index(m)))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", default=None)
    args = p.parse_args(argv)
    from datasets_meta import load
    from dimo.configs import recommended
    from dimo.evaluation import judge
    from dimo.search import discrete
    from dimo.search import registry as search_methods

    config = recommended.get_config()
    record = json.loads(OUT.read_text()) if OUT.is_file() else {"dataset": DATASET, "budget_s": BUDGET_S,
                                                                 "seed": SEED, "methods": {}}
    try:
        searched = load(DATASET, args.data_dir, image_size=config.data.image_size)
        judged = load(DATASET, args.data_dir, image_size=judge.PROTOCOLS["C"]["image_size"])
    except ValueError as e:  # datasets_meta.DatasetError: one line naming the fix
        print(f"error: {e}", file=sys.stderr)
        return 2
    found = record.setdefault("searched", {})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    for method in METHODS:  # phase 1, on an idle machine: every search
        if method in found:
            continue
        setup = discrete.SearchSetup.from_config(config, seed=SEED, budget_s=BUDGET_S)
        result = search_methods.run(method, searched, setup)
        found[method] = {"genotype": result.genotype, "search_s": float(result.search_s)}
        OUT.write_text(json.dumps(record, indent=1) + "\n")  # after every search: a kill loses one
        print(f"searched {method}: {result.genotype}", flush=True)
    log = judge.TrainingLog(TRAININGS, reuse=[TOP_JUDGE_RUNS])
    for method in METHODS:  # phase 2, any machine: each found cell under C, seeds 0-2
        if method in record["methods"]:
            continue
        figures = log.judge(found[method]["genotype"], judged, "C", range(3))
        record["methods"][method] = {**found[method], "val_accuracy_per_seed": figures["val_accuracy_per_seed"],
                                     "val_accuracy_mean": float(np.mean(figures["val_accuracy_per_seed"]))}
        OUT.write_text(json.dumps(record, indent=1) + "\n")
        print(method, record["methods"][method]["val_accuracy_mean"], found[method]["genotype"], flush=True)
    record["chosen"] = choose(record["methods"])
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    write_manifest(OUT, config=config)
    write_manifest(TRAININGS, protocol="top judge C (dimo.evaluation.judge)")  # the trainings behind it
    print(f"the gradient baseline: {record['chosen']}")
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

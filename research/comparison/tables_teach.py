"""What the meta-training datasets' top-judge tables can teach about beating the trivial cell.

    python -m research.comparison.tables_teach     # results/comparison/tables_teach.{json,md}

The comparison's bar (PROTOCOL.md, point 2) asks for a cell more than one judge SE above
all-``nor_conv_3x3`` on a held-out dataset. A learner may be taught only by the meta-training
datasets, and may choose only by their validation splits. This reads their complete tables under
protocol C (seeds 0-2 of ``results/cell_table/top_judge_runs.csv``; no held-out dataset) and says,
per dataset and split: how many networks it judges, the best one and its margin over
all-``nor_conv_3x3`` in units of the table's median SE of a cell's mean, all-``nor_conv_3x3``'s
rank, how many networks lie within one SE of the best, and how well validation orders the
networks as test does (Spearman over networks): whether validation, the only split a choice may
read, points where test does.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats as sstats

from dimo.infra.manifest import write_manifest
from research import protocol
from research.baselines import ALL_3X3  # the trivial cell
from research.cell_table.top_judge import RUNS  # the top judge's per-training rows

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "results" / "comparison"
SEEDS = (0, 1, 2)


def per_network(path: Path, dataset: str) -> dict[str, dict[str, list[float]]]:
    """{genotype: {"val": [...], "test": [...]}} of the networks judged under C with every seed."""
    found: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"val": [], "test": []})
    with open(path) as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            if row["dataset"] == dataset and row["protocol"] == "C" and int(row["seed"]) in SEEDS:
                found[row["genotype"]]["val"].append(float(row["val_accuracy"]))
                found[row["genotype"]]["test"].append(float(row["test_accuracy"]))
    return {g: v for g, v in found.items() if len(v["val"]) == len(SEEDS)}


def split_summary(networks: dict, split: str) -> dict:
    means = {g: float(np.mean(v[split])) for g, v in networks.items()}
    se = float(np.median([np.std(v[split], ddof=1) / np.sqrt(len(v[split])) for v in networks.values()]))
    order = sorted(means, key=means.get, reverse=True)
    best = order[0]
    return {"best": best, "best_mean": means[best], "all_3x3_mean": means.get(ALL_3X3),
            "all_3x3_rank": order.index(ALL_3X3) + 1 if ALL_3X3 in means else None,
            "best_minus_all_3x3": means[best] - means[ALL_3X3] if ALL_3X3 in means else None,
            "se": se, "best_minus_all_3x3_in_se": (means[best] - means[ALL_3X3]) / se if ALL_3X3 in means else None,
            "within_one_se_of_best": sum(means[best] - m <= se for m in means.values())}


def summarise(path: Path = RUNS, datasets=None) -> list[dict]:
    rows = []
    for dataset in datasets or protocol.META_TRAINING:
        networks = per_network(path, dataset)
        if len(networks) < 3:
            continue
        val = [np.mean(v["val"]) for v in networks.values()]
        test = [np.mean(v["test"]) for v in networks.values()]
        by_val = split_summary(networks, "val")
        # what a choice by validation would have got on test: the validation best's test margin
        by_val["its_test_minus_all_3x3"] = (float(np.mean(networks[by_val["best"]]["test"]))
                                            - float(np.mean(networks[ALL_3X3]["test"]))) if ALL_3X3 in networks else None
        rows.append({"dataset": dataset, "networks": len(networks),
                     "spearman_val_test": float(sstats.spearmanr(val, test)[0]),
                     "validation": by_val, "test": split_summary(networks, "test")})
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| dataset | networks | split | best minus all-3x3 | in SEs | all-3x3's rank | within 1 SE of best | "
             "Spearman val-test |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for split in ("validation", "test"):
            s = r[split]
            lines.append(f"| {r['dataset']} | {r['networks']} | {split} | {s['best_minus_all_3x3']:+.4f} | "
                         f"{s['best_minus_all_3x3_in_se']:.1f} | {s['all_3x3_rank']} | {s['within_one_se_of_best']} | "
                         f"{r['spearman_val_test']:.2f} |")
    lines += ["", "(within 1 SE: the best included.) The validation best's test accuracy minus all-3x3's: "
              + "; ".join(f"{r['dataset']} {r['validation']['its_test_minus_all_3x3']:+.4f}" for r in rows), "",
              "Best network by split:"]
    lines += [f"- {r['dataset']} {split}: `{r[split]['best']}` ({r[split]['best_mean']:.4f}; all-3x3 "
              f"{r[split]['all_3x3_mean']:.4f}, SE {r[split]['se']:.4f})" for r in rows for split in ("validation", "test")]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", default=str(RUNS), help="the top judge's per-training rows")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    rows = summarise(Path(args.runs))
    if not rows:
        print(f"error: {args.runs} judges no meta-training dataset under C with seeds 0-2; run "
              f"research.cell_table.top_judge first", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tables_teach.json").write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    write_manifest(out / "tables_teach.json", inputs=[args.runs])
    text = markdown(rows)
    (out / "tables_teach.md").write_text(text + "\n")
    write_manifest(out / "tables_teach.md", inputs=[args.runs])
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The held-out comparison's statistics and bar (research/comparison/PROTOCOL.md).

    python -m research.comparison.report results/comparison/cifar10/compare.json \\
        results/comparison/tiny_imagenet20/compare.json [--meta_training_s 1154,1160,1149]

Reads the ``dimo compare --judge C`` results of the held-out datasets and, for DiMO's ``propose``
(the claim) and ``propose-verify`` (the second claim), against every baseline on each dataset:
``delta`` (DiMO's mean over runs minus the baseline's), its 95% interval and p, Holm-corrected
over one entry's baselines on one dataset. A searched baseline is paired with DiMO run by run
(seed ``r`` with run ``r``; both trained with seeds ``1000 (r + 1) + k``): a paired t-test over
runs and a hierarchical bootstrap. A fixed cell (no run of its own): a bootstrap over DiMO's
runs and seeds and the cell's seeds. The bar reads each dataset's judge standard error from its
complete stage-2 table. Writes ``results/comparison/summary.json`` and ``summary.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dimo.evaluation import cell_table
from dimo.infra.manifest import write_manifest
from research import stats

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "results" / "comparison"
ENTRIES = ("propose", "propose-verify")


def per_run(rows, method) -> dict[int, list[float]]:
    return {r["seed"]: r["test_accuracy_per_seed"] for r in rows if r["method"] == method}


def fixed_bootstrap(dimo: list[list[float]], cell: list[float], resamples: int = 10_000, seed: int = 0) -> dict:
    """DiMO's mean over runs minus a fixed cell's mean: runs then seeds resampled for DiMO, the
    cell's seeds for the cell; 95% interval and a two-sided p (twice the smaller tail beyond 0)."""
    rng = np.random.default_rng(seed)
    runs, cell = [np.asarray(r, np.float64) for r in dimo], np.asarray(cell, np.float64)
    draws = np.empty(resamples)
    for i in range(resamples):
        picked = rng.integers(len(runs), size=len(runs))
        draws[i] = (np.mean([rng.choice(runs[r], len(runs[r])).mean() for r in picked])
                    - rng.choice(cell, len(cell)).mean())
    point = float(np.mean([r.mean() for r in runs]) - cell.mean())
    tail = min(np.mean(draws <= 0), np.mean(draws >= 0))
    return {"delta": point, "lo95": float(np.percentile(draws, 2.5)), "hi95": float(np.percentile(draws, 97.5)),
            "p": float(min(1.0, 2 * tail))}


def compare_dataset(result: dict, resamples: int = 10_000) -> list[dict]:
    rows, out = result["rows"], []
    baselines = [m for m in dict.fromkeys(r["method"] for r in rows) if m not in ENTRIES]
    for entry in ENTRIES:
        dimo = per_run(rows, entry)
        if not dimo:
            continue
        order = sorted(dimo)
        mine = []
        for b in baselines:
            theirs = per_run(rows, b)
            if b.startswith("cell:"):
                figures = fixed_bootstrap([dimo[r] for r in order], theirs[None], resamples)
                kind = "fixed"
            else:
                shared = [r for r in order if r in theirs]
                t = stats.paired_t(stats.run_means([dimo[r] for r in shared]), stats.run_means([theirs[r] for r in shared]))
                boot = stats.hierarchical_bootstrap([np.subtract(dimo[r], theirs[r]) for r in shared], resamples)
                figures = {"delta": t["mean_difference"], "lo95": boot["lo95"], "hi95": boot["hi95"], "p": t["p"]}
                kind = "searched"
            mine.append({"dataset": result["dataset"], "entry": entry, "baseline": b, "kind": kind,
                         "runs": len(order), **figures})
        for row, h in zip(mine, stats.holm([r["p"] for r in mine])):
            row["p_holm"] = h["p_holm"]
        out += mine
    return out


def judge_se(dataset: str, folder: Path = REPO / "results" / "cell_table") -> float | None:
    path = folder / f"top_judge_{dataset}_C_stage2.csv"
    if not path.is_file():
        return None
    header, _ = cell_table.read(path)
    return float(header["se_of_cell_mean_median"]) if header.get("status") == "complete" else None


def acceptance(rows: list[dict], se: dict[str, float | None], entry: str = "propose") -> dict:
    mine = [r for r in rows if r["entry"] == entry]
    datasets = sorted({r["dataset"] for r in mine})
    at_least = {d: all(r["delta"] >= 0 for r in mine if r["dataset"] == d) for d in datasets}
    above = {}
    for d in datasets:
        deltas = {r["baseline"]: r["delta"] for r in mine if r["dataset"] == d}
        trivial, transferred = deltas.get("cell:all-nor_conv_3x3"), deltas.get("cell:transferred")
        above[d] = (se.get(d) is not None and trivial is not None and transferred is not None
                    and trivial > se[d] and transferred > se[d])
    whole = set(datasets) == {"cifar10", "tiny_imagenet20"} and all(se.get(d) is not None for d in datasets)
    return {"entry": entry, "at_least_every_baseline": at_least, "above_trivial_and_transferred_by_se": above,
            "judge_se": se, "whole": whole, "met": whole and all(at_least.values()) and any(above.values())}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", help="compare.json of each held-out dataset")
    p.add_argument("--meta_training_s", default="", help="the DiMO runs' meta-training seconds, comma-separated")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    try:
        results = [json.loads(Path(f).read_text()) for f in args.results]
    except (OSError, json.JSONDecodeError) as e:
        print(f"error: cannot read a comparison ({e}); pass dimo compare's compare.json files", file=sys.stderr)
        return 2
    if any(r.get("judge") in (None, "table") for r in results):
        print("error: a comparison was judged by the cell table, not a top judge: rerun it with --judge C",
              file=sys.stderr)
        return 2
    rows = [row for r in results for row in compare_dataset(r)]
    se = {r["dataset"]: judge_se(r["dataset"]) for r in results}
    cost = {r["dataset"]: {m: float(np.mean([x["search_s"] for x in r["rows"] if x["method"] == m]))
                           for m in dict.fromkeys(x["method"] for x in r["rows"]) if not m.startswith("cell:")}
            for r in results}
    meta = [float(x) for x in args.meta_training_s.split(",") if x.strip()]
    summary = {"rows": rows, "acceptance": acceptance(rows, se), "second_claim": acceptance(rows, se, ENTRIES[1]),
               "search_s": cost, "meta_training_s": {"per_run": meta, "amortised_over_held_out_datasets":
                                                     [m / len(results) for m in meta]},
               "protocol": "research/comparison/PROTOCOL.md"}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    write_manifest(out / "summary.json", inputs=args.results)
    lines = ["| dataset | entry | baseline | delta | 95% interval | p (Holm) |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['dataset']} | {r['entry']} | {r['baseline']} | {r['delta']:+.4f} | [{r['lo95']:+.4f}, "
              f"{r['hi95']:+.4f}] | {r['p_holm']:.3f} |" for r in rows]
    (out / "summary.md").write_text("\n".join(lines) + f"\n\nacceptance: {json.dumps(summary['acceptance'])}\n")
    print("\n".join(lines) + f"\n\nacceptance: {json.dumps(summary['acceptance'])}")
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

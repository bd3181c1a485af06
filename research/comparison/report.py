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
complete stage-2 table. Beside them: DiMO's mean, spread over runs (sample sd) and seconds per
run per entry, fixed cells that are one network under two names (the transferred cell is
all-``nor_conv_3x3`` on both held-out datasets: one test, listed twice as the protocol lists both),
the meta-training seconds whole and amortised over the two held-out datasets, and the ledger's
looks at each held-out test split. Writes ``results/comparison/summary.json`` and ``summary.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dimo.evaluation import cell_table
from dimo.infra.manifest import write_manifest
from research import looks, protocol, stats
from research.comparison.run import JUDGE

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


def same_networks(rows) -> dict[str, list[str]]:
    """Fixed cells that are one network under two names (here the transferred cell is
    all-``nor_conv_3x3``): their figures are the same trainings, so their deltas are one test,
    kept twice in the Holm family as the protocol lists both."""
    cells = {r["method"]: r["genotype"] for r in rows if r["method"].startswith("cell:") and "genotype" in r}
    names = {g: sorted(m for m in cells if cells[m] == g) for g in set(cells.values())}
    return {m: [o for o in names[g] if o != m] for m, g in cells.items() if len(names[g]) > 1}


def compare_dataset(result: dict, resamples: int = 10_000) -> list[dict]:
    rows, out = result["rows"], []
    baselines = [m for m in dict.fromkeys(r["method"] for r in rows) if m not in ENTRIES]
    twins = same_networks(rows)
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
                if sorted(theirs) != order:  # the protocol pairs every run r with seed r: all or none
                    raise ValueError(f"{result['dataset']}: {b} has seeds {sorted(theirs)}, {entry} runs {order}; "
                                     "the comparison is incomplete (dimo compare --resume finishes it)")
                t = stats.paired_t(stats.run_means([dimo[r] for r in order]), stats.run_means([theirs[r] for r in order]))
                boot = stats.hierarchical_bootstrap([np.subtract(dimo[r], theirs[r]) for r in order], resamples)
                figures = {"delta": t["mean_difference"], "lo95": boot["lo95"], "hi95": boot["hi95"], "p": t["p"]}
                kind = "searched"
            mine.append({"dataset": result["dataset"], "entry": entry, "baseline": b, "kind": kind,
                         "runs": len(order), **figures, **({"same_network_as": twins[b]} if b in twins else {})})
        for row, h in zip(mine, stats.holm([r["p"] for r in mine])):
            row["p_holm"] = h["p_holm"]
        out += mine
    return out


def entry_figures(result: dict, budget_s: float) -> list[dict]:
    """DiMO's entries on one dataset: the mean over runs, the runs' sample standard deviation
    (the protocol's spread), each run's figure and seconds, and whether any run's seconds exceed
    the searches' budget."""
    out = []
    for entry in ENTRIES:
        mine = sorted((r for r in result["rows"] if r["method"] == entry), key=lambda r: r["seed"])
        if not mine:
            continue
        means = stats.run_means([r["test_accuracy_per_seed"] for r in mine])
        seconds = [float(r["search_s"]) for r in mine]
        out.append({"dataset": result["dataset"], "entry": entry, "runs": len(mine), "test_accuracy": float(means.mean()),
                    "sd_over_runs": float(means.std(ddof=1)) if len(means) > 1 else None,
                    "per_run": [float(m) for m in means], "search_s_per_run": seconds,
                    "exceeds_budget": any(s > budget_s for s in seconds)})
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
    judges = sorted({str(r.get("judge")) for r in results} - {JUDGE})
    if judges:
        print(f"error: a comparison was judged by {', '.join(judges)}, the protocol's judge is {JUDGE}: rerun it "
              f"with --judge {JUDGE} (research.comparison.run)", file=sys.stderr)
        return 2
    try:
        rows = [row for r in results for row in compare_dataset(r)]
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    se = {r["dataset"]: judge_se(r["dataset"]) for r in results}
    cost = {r["dataset"]: {m: float(np.mean([x["search_s"] for x in r["rows"] if x["method"] == m]))
                           for m in dict.fromkeys(x["method"] for x in r["rows"]) if not m.startswith("cell:")}
            for r in results}
    meta = [float(x) for x in args.meta_training_s.split(",") if x.strip()]
    ledger = looks.read()
    summary = {"rows": rows, "entries": [e for r in results for e in entry_figures(r, float(r.get("budget_s", 600)))],
               "acceptance": acceptance(rows, se), "second_claim": acceptance(rows, se, ENTRIES[1]),
               "search_s": cost, "meta_training_s": {"per_run": meta, "amortised_over_held_out_datasets":
                                                     [m / len(protocol.HELD_OUT) for m in meta]},
               "held_out_looks": {r["dataset"]: looks.count(ledger, r["dataset"])["looks"] for r in results},
               "protocol": "research/comparison/PROTOCOL.md"}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    write_manifest(out / "summary.json", inputs=args.results)
    text = markdown(summary)
    (out / "summary.md").write_text(text + "\n")
    print(text)
    return 0


def markdown(summary: dict) -> str:
    lines = ["| dataset | DiMO entry | runs | test accuracy | sd over runs | per run | seconds per run |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {e['dataset']} | {e['entry']} | {e['runs']} | {e['test_accuracy']:.4f} | "
              f"{'n/a' if e['sd_over_runs'] is None else format(e['sd_over_runs'], '.4f')} | "
              f"{', '.join(f'{m:.4f}' for m in e['per_run'])} | {', '.join(f'{s:.1f}' for s in e['search_s_per_run'])}"
              f"{' (exceeds the budget)' if e['exceeds_budget'] else ''} |" for e in summary["entries"]]
    lines += ["", "| dataset | entry | baseline | delta | 95% interval | p | p (Holm) |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['dataset']} | {r['entry']} | {r['baseline']}"
              f"{' (= ' + ', '.join(r['same_network_as']) + ')' if r.get('same_network_as') else ''} | "
              f"{r['delta']:+.4f} | [{r['lo95']:+.4f}, {r['hi95']:+.4f}] | {r['p']:.3f} | {r['p_holm']:.3f} |"
              for r in summary["rows"]]
    looked = ", ".join(f"{d} {n}" for d, n in summary["held_out_looks"].items())
    second = summary["second_claim"]  # its per-dataset verdicts are empty where no row judged it
    return "\n".join(lines + ["", f"acceptance (propose): {json.dumps(summary['acceptance'])}",
                              "second claim (propose-verify): " + (json.dumps(second) if second["at_least_every_baseline"]
                                                                   else "not judged in these comparisons"),
                              f"looks at the held-out test splits behind this, in the ledger: {looked}"])


if __name__ == "__main__":
    from research import script

    script.run(main)

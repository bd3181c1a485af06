"""The judged leave-one-out study's statistics (research/lopt/PROTOCOL.md): a row per tested
dataset x horizon x baseline, the learned optimizer minus the baseline paired over meta-training
runs (t-test and hierarchical bootstrap, Holm over datasets x horizons), the bar read off those rows,
and the files a judged run's summary is (``write``). ``leave_one_out`` trains the units it reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dimo.infra.manifest import write_manifest
from research import stats

RUNS = 4  # meta-training runs per tested dataset
CLAIM_HORIZONS = ("H", "2H")
PRIMARY = "adam_schedule_tuned_meta_train"


def summary_rows(results: list[dict], resamples: int = 10_000) -> list[dict]:
    """A row per tested dataset x horizon x baseline: learned minus baseline, paired over runs."""
    rows = []
    for dataset in dict.fromkeys(r["dataset"] for r in results):
        mine = sorted((r for r in results if r["dataset"] == dataset), key=lambda r: r["run"])
        first = mine[0]["rows"]
        learned = first[0]["baseline"]
        for row in (x for x in first if x["baseline"] != learned):
            pick = lambda res, name: next(x for x in res["rows"] if x["baseline"] == name  # noqa: E731
                                          and x["horizon"] == row["horizon"])
            entry = {"held_out": dataset, "horizon": row["horizon"], "steps": row["steps"],
                     "baseline": row["baseline"], "learned": learned, "n_runs": len(mine)}
            for metric in ("test_accuracy", "val_loss"):
                ours = stats.run_means([pick(r, learned)[metric] for r in mine])
                theirs = stats.run_means([pick(r, row["baseline"])[metric] for r in mine])
                entry[f"diff_{metric}"] = float(np.mean(ours - theirs))
                entry[f"p_{metric}"] = stats.paired_t(ours, theirs)["p"] if len(mine) > 1 else None
                if len(mine) > 1:  # the 95% interval: runs, then seeds within each (paired by seed)
                    diffs = [np.subtract(pick(r, learned)[metric], pick(r, row["baseline"])[metric]) for r in mine]
                    boot = stats.hierarchical_bootstrap(diffs, resamples)
                    entry[f"diff_{metric}_ci95"] = [boot["lo95"], boot["hi95"]]
            rows.append(entry)
    for baseline in dict.fromkeys(r["baseline"] for r in rows):  # Holm over datasets x horizons
        for metric in ("test_accuracy", "val_loss"):
            family = [r for r in rows if r["baseline"] == baseline and r[f"p_{metric}"] is not None]
            for r, h in zip(family, stats.holm([r[f"p_{metric}"] for r in family]) if family else []):
                r[f"p_holm_{metric}" if metric != "test_accuracy" else "p_holm"] = h["p_holm"]
    return rows


def _is(horizon: str, label: str) -> bool:
    """Whether a (possibly merged, e.g. "K=H") horizon label is ``label``."""
    return label in horizon.split("=")


def acceptance(rows: list[dict], alpha: float = 0.05) -> dict:
    """research/lopt/PROTOCOL.md's bar against ``PRIMARY``, from the summary rows; ``met`` only
    when the study is whole (six datasets, every row over ``RUNS`` runs). ``alpha`` is criterion
    1's level (a second judged run's is 0.025); criterion 2's stays 0.05. Criterion 4, the inner
    step's cost, is the benchmark's (``lopt_over_sgd``), not read here."""
    primary = [r for r in rows if r["baseline"] == PRIMARY and any(_is(r["horizon"], h) for h in CLAIM_HORIZONS)]
    significant = lambda r, level=0.05: r.get("p_holm") is not None and r["p_holm"] < level  # noqa: E731
    datasets = sorted({r["held_out"] for r in rows})
    wins = [d for d in datasets
            if all(any(_is(r["horizon"], h) and r["diff_test_accuracy"] > 0 and significant(r, alpha)
                       for r in primary if r["held_out"] == d) for h in CLAIM_HORIZONS)]
    losses = sorted({r["held_out"] for r in primary if r["diff_test_accuracy"] < 0 and significant(r)})
    whole = len(datasets) == 6 and all(r["n_runs"] == RUNS for r in rows)
    return {"datasets_won_at_H_and_2H": wins, "datasets_significantly_worse": losses, "whole_study": whole,
            "met": whole and len(wins) >= 3 and not losses, "datasets_tested": datasets, "criterion_1_alpha": alpha,
            "not_read_here": "criterion 4, lopt_over_sgd <= 1.2 (python -m benchmarks.run)"}


def beside(first: list[dict], second: list[dict], study: str) -> list[str]:
    """Markdown lines: each tested dataset's claim rows (``PRIMARY`` at H and 2H) of the first judged
    run beside those of the run ``study``, difference in test accuracy and Holm-corrected p."""
    def cell(rows, dataset, horizon):
        row = next((r for r in rows if r["held_out"] == dataset and r["baseline"] == PRIMARY
                    and _is(r["horizon"], horizon)), None)
        if row is None:
            return "not run"
        return f"{row['diff_test_accuracy']:+.4f} (p {row['p_holm']:.3f})" if row.get("p_holm") is not None \
            else f"{row['diff_test_accuracy']:+.4f}"
    lines = [f"Beside the first judged run: learned minus {PRIMARY}, test accuracy (Holm p)", "",
             f"| held out | horizon | first run | {study} |", "|---|---|---|---|"]
    for dataset in dict.fromkeys(r["held_out"] for r in first + second):
        lines += [f"| {dataset} | {h} | {cell(first, dataset, h)} | {cell(second, dataset, h)} |"
                  for h in CLAIM_HORIZONS]
    return lines


def write(here: Path, alpha: float, study: str) -> dict:
    """The summary of the judged run kept in ``here`` (its ``runs/``): ``summary.json``, ``summary.md`` and
    a PNG of learning curves per tested dataset; criterion 1 read at ``alpha``."""
    from dimo.studies import schedules

    results = [json.loads(p.read_text()) for p in sorted((here / "runs").glob("*.json"))]
    rows = summary_rows(results)
    out = {"rows": rows, "acceptance": acceptance(rows, alpha), "protocol": "research/lopt/PROTOCOL.md",
           "study": study}
    (here / "summary.json").write_text(json.dumps(out, indent=1) + "\n")
    write_manifest(here / "summary.json", runs=[p.name for p in sorted((here / "runs").glob("*.json"))],
                   figures=[f"curves_{d}.png" for d in dict.fromkeys(r["dataset"] for r in results)])
    lines = ["| held out | horizon | baseline | diff test accuracy | p (Holm) | diff val loss | runs |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        p = "" if r.get("p_holm") is None else f"{r['p_holm']:.3f}"
        lines.append(f"| {r['held_out']} | {r['horizon']} | {r['baseline']} | {r['diff_test_accuracy']:+.4f} | {p} "
                     f"| {r['diff_val_loss']:+.4f} | {r['n_runs']} |")
    first = here.parent / "summary.json"  # a second judged run is reported beside the first (PROTOCOL.md, Changes)
    if study != "first" and first.is_file():
        lines += ["", *beside(json.loads(first.read_text())["rows"], rows, study)]
    (here / "summary.md").write_text("\n".join(lines) + f"\n\nacceptance: {json.dumps(out['acceptance'])}\n")
    for dataset in dict.fromkeys(r["dataset"] for r in results):  # every run's seeds, pooled per row
        mine = [r for r in results if r["dataset"] == dataset]
        pooled = [{**row, **{m: [v for r in mine for x in r["rows"] if (x["baseline"], x["horizon"]) ==
                                 (row["baseline"], row["horizon"]) for v in x[m]] for m in schedules.METRICS}}
                  for row in mine[0]["rows"]]
        schedules.plot({"dataset": dataset, "rows": pooled}, here / f"curves_{dataset}.png")
    return out

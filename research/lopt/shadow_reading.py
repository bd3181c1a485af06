"""The two readings pre-registered for ``ten_life1000_shadow`` (research/lopt/README.md, *After the
rate swap*), computed from the meta-validation record as they were written before the runs.

    python -m research.lopt.shadow_reading

1. **The mechanism:** the decoded ``lr_scale`` of each shadow run against ``ten_life1000``'s on the
   same fold and seed. Supported if at least twice as high in at least 3 of 4 pairs, contradicted
   if less than 1.25 times as high in at least 3 of 4, unclear otherwise.
2. **The effect:** ``ten_life1000``'s bar against the second judged run's optimizer (study
   ``ten``): at 10H the validation-loss lead negative in at least 3 of 4, its mean -0.045 or lower.

Beside them, as registered: the leads at every horizon against the judged optimizer and against
``ten_life1000`` (each variant's learned minus the same cached Adam trainings). It reads the
record only; no training runs and no held-out dataset is read.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from research import meta_runs
from research.lopt import meta_validate, pairing

VARIANT, LONG_LIFE, STUDY = "ten_life1000_shadow", "ten_life1000", "ten"
PAIRS_NEEDED = 4  # folds kmnist and fashion_mnist, seeds 0 and 1
SUPPORT_RATIO, CONTRADICT_RATIO, AGREEING = 2.0, 1.25, 3
LOSS_BAR = -0.045


def by_run(rows: list[dict], variant: str) -> dict:
    return {(r["fold"], r["seed"]): r for r in rows if r["variant"] == variant}


def mechanism(rows: list[dict]) -> dict:
    """Reading 1: per (fold, seed) the two decoded rates and their ratio, and the verdict."""
    mine, theirs = by_run(rows, VARIANT), by_run(rows, LONG_LIFE)
    pairs = [{"fold": f, "seed": s, "lr_scale": mine[f, s]["recipe"]["lr_scale"],
              "long_life_lr_scale": theirs[f, s]["recipe"]["lr_scale"],
              "ratio": mine[f, s]["recipe"]["lr_scale"] / theirs[f, s]["recipe"]["lr_scale"]}
             for f, s in sorted(set(mine) & set(theirs))]
    ratios = np.asarray([p["ratio"] for p in pairs])
    verdict = "incomplete"
    if len(pairs) >= PAIRS_NEEDED:
        verdict = ("supported" if (ratios >= SUPPORT_RATIO).sum() >= AGREEING else
                   "contradicted" if (ratios < CONTRADICT_RATIO).sum() >= AGREEING else "unclear")
    return {"pairs": pairs, "verdict": verdict}


def leads(rows: list[dict], variant: str, against: str) -> dict:
    """Per horizon (the rule's and the diagnostic ones), ``variant`` minus ``against`` in learned
    minus Adam, validation accuracy and loss, over the (fold, seed) both have: pairs and means."""
    out = {}
    for p in pairing.paired(rows, variant, against, horizons=None, diagnostic=True)["pairs"]:
        out.setdefault(p["horizon"], []).append(p)
    return {h: {"n": len(ps), **{f"{m}_mean": float(np.mean([p[m] for p in ps])) for m in ("val_accuracy", "val_loss")},
                "loss_lower": sum(p["val_loss"] < 0 for p in ps)} for h, ps in out.items()}


def effect(rows: list[dict]) -> dict:
    """Reading 2, from ``pairing.against_study``'s pairs at 10H, and its leads by horizon."""
    study = pairing.against_study(rows, VARIANT, STUDY)
    at_10h = [p["lead_val_loss"] for p in study["pairs"] if p["horizon"] == "10H"]
    verdict = "incomplete"
    if len(at_10h) >= PAIRS_NEEDED:
        met = sum(x < 0 for x in at_10h) >= AGREEING and float(np.mean(at_10h)) <= LOSS_BAR
        verdict = "met" if met else "not met"
    return {"10H_loss_leads": at_10h, "verdict": verdict, "by_horizon": study["by_horizon"]}


def main(argv=None) -> int:
    import argparse

    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    rows = meta_runs.read_records(meta_validate.OUT)
    try:
        print(json.dumps({"mechanism": mechanism(rows), "effect": effect(rows),
                          "against_long_life": leads(rows, VARIANT, LONG_LIFE)}, indent=1))
    except ValueError as e:  # a record without both variants' runs: there is nothing to read yet
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

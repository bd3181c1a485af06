"""The reading pre-registered for ``ce_life1000_shadow`` (research/lopt/README.md, *On
cross-entropy*), computed from the meta-validation record as it was written before the runs.

    python -m research.lopt.ce_life

**The lead** is *supported* if, on the 4 (fold, seed) results (folds kmnist and fashion_mnist,
seeds 0 and 1), the variant's validation accuracy minus meta-tuned scheduled Adam's is, at 10H,
at least 0 on average and in at least 3 of the 4, and at H and at 2H above 0 on average: a
cross-entropy optimizer level with or ahead of Adam from H to 10H on these folds. *Not
supported* otherwise; *incomplete* below 4 results.

Beside it, as registered and whatever they are: its figures against Adam in accuracy and loss at
every horizon, its leads over the second judged run's optimizer run on cross-entropy
(``pairing.against_study``, which meets a variant on its own loss) and over ``ten_life1000_shadow``
(the same config on the teacher), and its decoded ``lr_scale``. Reads the record only; no training
runs and no held-out dataset is read.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from research import meta_runs
from research.lopt import meta_validate, pairing

VARIANT, ON_TEACHER, STUDY = "ce_life1000_shadow", "ten_life1000_shadow", "ten"
AGREEING = 3


FOLDS, SEEDS = ("kmnist", "fashion_mnist"), (0, 1)


def registered(rows: list[dict]) -> list[dict]:
    """The variant's results on the registered folds and seeds, one per (fold, seed): a second
    line of one (fold, seed) is refused, another fold or seed is not read."""
    mine = [r for r in rows if r["variant"] == VARIANT and r["fold"] in FOLDS and r["seed"] in SEEDS]
    keys = [(r["fold"], r["seed"]) for r in mine]
    if len(set(keys)) != len(keys):
        raise ValueError(f"the record holds {VARIANT} twice on one fold and seed: {sorted(keys)}")
    return mine


def against_adam(rows: list[dict]) -> dict:
    """{horizon: the variant's validation accuracy and loss minus Adam's, per registered result}."""
    out = {}
    for r in registered(rows):
        for h, figures in pairing.by_named_horizon(r, horizons=None, diagnostic=True).items():
            for m in ("val_accuracy", "val_loss"):
                out.setdefault(h, {}).setdefault(m, []).append(figures[f"diff_{m}"])
    return out


def lead(rows: list[dict]) -> dict:
    """The registered reading of ``against_adam``."""
    figures = against_adam(rows)
    accuracy = {h: np.asarray(figures.get(h, {}).get("val_accuracy", [])) for h in ("H", "2H", "10H")}
    if any(len(a) < len(FOLDS) * len(SEEDS) for a in accuracy.values()):
        verdict = "incomplete"
    else:
        level_10h = accuracy["10H"].mean() >= 0 and (accuracy["10H"] >= 0).sum() >= AGREEING
        ahead_early = accuracy["H"].mean() > 0 and accuracy["2H"].mean() > 0
        verdict = "supported" if level_10h and ahead_early else "not supported"
    return {"verdict": verdict, "accuracy_minus_adam_mean": {h: float(a.mean()) if len(a) else None
                                                             for h, a in accuracy.items()}}


def main(argv=None) -> int:
    import argparse

    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    rows = meta_runs.read_records(meta_validate.OUT)
    try:
        print(json.dumps({"lead": lead(rows), "against_adam": against_adam(rows),
                          "lr_scale": {f"{r['fold']} {r['seed']}": r["recipe"]["lr_scale"]
                                       for r in rows if r["variant"] == VARIANT},
                          "against_judged_on_ce": pairing.against_study(rows, VARIANT, STUDY)["by_horizon"],
                          "against_on_teacher": pairing.paired(rows, VARIANT, ON_TEACHER, horizons=None,
                                                               diagnostic=True)}, indent=1))
    except ValueError as e:  # no result of the variant yet: nothing to set beside
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

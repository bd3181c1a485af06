"""Learned minus tuned Adam per horizon, and pairs of such results (research/lopt's meta-validation).

``differences`` turns one training's rows (a meta-validation result's or a leave-one-out unit's)
into the learned optimizer's validation figures minus meta-tuned Adam's at each horizon;
``paired`` sets two variants' results side by side per (fold, seed, horizon), ``against_study`` a
variant's beside a judged leave-one-out run's units. Validation figures only.
"""

from __future__ import annotations

import json

import numpy as np

BASELINE = "adam_schedule_tuned_meta_train"
HORIZONS = ("H", "2H")  # the rule's (research/lopt/PROTOCOL.md, *System*)


def differences(result: dict, labels=None) -> dict:
    """Per horizon (``labels``, default all of ``result``'s): learned minus ``BASELINE``, mean
    over seeds, validation metrics only."""
    learned = f"learned_{result['learned_loss']}"  # a unit holds learned_ce rows beside the teacher's too
    out = {}
    for label in labels if labels is not None else result["horizons"].values():
        pick = lambda name: next(r for r in result["rows"] if (r["baseline"], r["horizon"]) == (name, label))  # noqa: E731
        ours, theirs = pick(learned), pick(BASELINE)
        out[label] = {f"{who}_{m}": float(np.mean(row[m])) for who, row in (("learned", ours), ("adam", theirs))
                      for m in ("val_accuracy", "val_loss")}
        out[label].update(diff_val_accuracy=out[label]["learned_val_accuracy"] - out[label]["adam_val_accuracy"],
                          diff_val_loss=out[label]["learned_val_loss"] - out[label]["adam_val_loss"],
                          adam_learning_rate=theirs["learning_rate"], adam_weight_decay=theirs["weight_decay"])
    return out


def by_named_horizon(row: dict, horizons=HORIZONS, diagnostic: bool = False) -> dict:
    """{"H": ..., "2H": ...} of a record's row, whose labels may merge horizons ("4K=H"): those of
    ``horizons`` (None: every one), with ``diagnostic`` its diagnostic horizons too."""
    labelled = {**row["by_horizon"], **(row.get("diagnostic", {}) if diagnostic else {})}
    return {h: figures for label, figures in labelled.items() for h in label.split("=")
            if horizons is None or h in horizons}


def paired(rows: list[dict], variant: str, against: str, horizons=HORIZONS, diagnostic: bool = False) -> dict:
    """``variant`` minus ``against`` on every (fold, seed, horizon) both have (``by_named_horizon``'s
    ``horizons`` and ``diagnostic``): the pairs, how many are ahead in accuracy and lower in loss,
    the mean of each paired difference, and the (fold, seed) results either has alone."""
    named = lambda r: by_named_horizon(r, horizons, diagnostic)  # noqa: E731
    mine = {(r["fold"], r["seed"]): named(r) for r in rows if r["variant"] == variant}
    theirs = {(r["fold"], r["seed"]): named(r) for r in rows if r["variant"] == against}
    pairs = [{"fold": fold, "seed": seed, "horizon": h,
              "val_accuracy": a[h]["diff_val_accuracy"] - theirs[fold, seed][h]["diff_val_accuracy"],
              "val_loss": a[h]["diff_val_loss"] - theirs[fold, seed][h]["diff_val_loss"]}
             for (fold, seed), a in mine.items() for h in a if h in theirs.get((fold, seed), {})]
    if not pairs:
        raise ValueError(f"no fold and seed has results of both {variant} and {against}; "
                         "--summary lists the variants")
    accuracy, loss = (np.asarray([p[m] for p in pairs]) for m in ("val_accuracy", "val_loss"))
    return {"variant": variant, "against": against, "pairs": pairs, "n": len(pairs),
            "accuracy_ahead": int((accuracy > 0).sum()), "accuracy_behind": int((accuracy < 0).sum()),
            "loss_lower": int((loss < 0).sum()), "loss_higher": int((loss > 0).sum()),
            "val_accuracy_mean": float(accuracy.mean()), "val_loss_mean": float(loss.mean()),
            "unpaired": sorted([list(k) for k in set(mine) ^ set(theirs)])}


def against_study(rows: list[dict], variant: str, study: str) -> dict:
    """``variant``'s results (the rule's horizons and its diagnostic ones) beside the learned
    optimizer of the judged leave-one-out run ``study`` on the same fold and seeds: per (fold, seed,
    horizon), each one's learned minus ``BASELINE`` in validation accuracy and loss, and the
    variant's lead over the study's. The baseline is the same training in both (the shared cache),
    so the lead is the two learned optimizers' difference. The study's optimizer is read on the
    variant's inner loss (a unit holds its optimizer on the teacher and on cross-entropy), so a
    variant meta-trained on cross-entropy meets the judged optimizer on cross-entropy."""
    from research.lopt import leave_one_out

    from dimo.evaluation import judge

    pairs, unpaired = [], []
    for r in (r for r in rows if r["variant"] == variant):
        path = leave_one_out.unit_path(r["fold"], r["seed"], study)
        if not path.exists():
            unpaired.append([r["fold"], r["seed"]])
            continue
        unit = json.loads(path.read_text())
        if unit.get("seeds") != judge.run_seeds(r["seed"]):
            raise ValueError(f"{path}: its training seeds {unit.get('seeds')} are not run {r['seed']}'s")
        try:
            same_loss = {**unit, "learned_loss": r.get("learned_loss", unit["learned_loss"])}
            theirs = {h: v for label, v in differences(same_loss).items() for h in label.split("=")}
        except (KeyError, StopIteration) as e:
            raise ValueError(f"{path} is not a complete unit (no {e})") from e
        for label, mine in {**r["by_horizon"], **r.get("diagnostic", {})}.items():
            for h in (h for h in label.split("=") if h in theirs):
                pairs.append({"fold": r["fold"], "seed": r["seed"], "horizon": h,
                              **{f"{who}_{m}": d[f"diff_{m}"] for who, d in (("variant", mine), ("study", theirs[h]))
                                 for m in ("val_accuracy", "val_loss")},
                              **{f"lead_{m}": mine[f"diff_{m}"] - theirs[h][f"diff_{m}"]
                                 for m in ("val_accuracy", "val_loss")}})
    if not pairs:
        raise ValueError(f"no result of {variant} has a unit of study {study!r} on its fold and seed "
                         f"({leave_one_out.unit_path('<fold>', '<seed>', study)})")
    by_h = {h: [p for p in pairs if p["horizon"] == h] for h in dict.fromkeys(p["horizon"] for p in pairs)}
    return {"variant": variant, "study": study, "pairs": pairs, "unpaired": sorted(unpaired),
            "by_horizon": {h: {"n": len(ps), **{f"{k}_mean": float(np.mean([p[k] for p in ps]))
                                                for k in ps[0] if k.startswith(("variant_", "study_", "lead_"))}}
                           for h, ps in by_h.items()}}

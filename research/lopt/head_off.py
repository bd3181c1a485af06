"""What the learned corrections do: the judged optimizer with its head at zero (research/lopt/README.md, *The head off*).

    DIMO_DATA_DIR=../shared/data python -m research.lopt.head_off --fold kmnist --seed 0
    python -m research.lopt.head_off --summary          # the pre-registered readings

The second judged config (``scheduled_ten.py``) is a residual on Adam with a warm-up and cosine:
``step = exp(log_lr) * lr_scale * exp(head_s) * (adam + rms * head_d)``. With the head's weights
at zero it *is* that scheduled Adam, at the rate and weight decay its decoder gives the fold and
its learned ``log_lr`` (``dimo.inner.learned_optimizer``). This trains all-``nor_conv_3x3`` on the
fold's validation split with the judged system of ``fold`` and ``seed`` (kept in
``results/lopt_leave_one_out/ten/systems/``) with its head zeroed and nothing else changed, at H,
2H and 10H with the unit's seeds, and sets it beside that system's own learned optimizer and
meta-tuned Adam, both read from the unit (the same seeds, split and loss). It asks whether the
lead at H and 2H, and the 10H gap, come from what the head learned or from the decoded recipe
and the base. A diagnostic that chooses nothing; no held-out dataset is read. Each line of
``results/lopt_leave_one_out/head_off.jsonl`` is one (fold, seed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np

from research.baselines import ALL_3X3
from research import meta_runs
from research.lopt import leave_one_out, pairing, rate_swap

OUT = leave_one_out.OUT / "head_off.jsonl"
STUDY = "ten"
FOLDS = ("digits", "mnist", "fashion_mnist", "kmnist")
SEEDS = (0, 1)
HORIZONS = rate_swap.HORIZONS  # H, 2H, 10H
AGREEING = 6  # of the 8 (fold, seed) pairs


def without_head(system):
    """``system`` with its learned optimizer's head weights at zero (its GRU and ``log_lr`` kept)."""
    optimizer = dict(system.params["optimizer"])
    net = dict(optimizer["net"])
    net["head"] = jax.tree.map(jnp.zeros_like, net["head"])
    optimizer["net"] = net
    return dataclasses.replace(system, params={**system.params, "optimizer": optimizer})


def head_off(fold: str, seed: int, data_dir=None) -> dict:
    from dimo.evaluation import judge
    from dimo.meta import trained
    from dimo.space import search_space
    from dimo.studies import ablate, schedules

    unit = json.loads(leave_one_out.unit_path(fold, seed, STUDY).read_text())
    if list(judge.run_seeds(seed)) != unit["seeds"]:
        raise ValueError(f"the unit's seeds {unit['seeds']} are not run {seed}'s")
    judged = trained.load(leave_one_out.kept_dir(STUDY) / unit["meta_training_run"])
    target = schedules.load(judged, fold, data_dir)
    recipe = ablate.recipe_from_code(judged, ablate.dataset_code(judged, target))
    if not np.isclose(float(recipe.lr_scale), unit["recipe"]["lr_scale"], rtol=1e-5):
        raise ValueError(f"{unit['meta_training_run']} decodes lr_scale {float(recipe.lr_scale):.6g} for {fold} here, "
                         f"its unit {unit['recipe']['lr_scale']:.6g}: not the judged system")
    horizons = {int(s): label for s, label in unit["horizons"].items() if set(label.split("=")) & set(HORIZONS)}
    rows = schedules.learned_rows(without_head(judged), search_space.Genotype.from_string(ALL_3X3), target, recipe,
                                  horizons, unit["seeds"], unit["learned_loss"],
                                  schedules.TrainingCache(leave_one_out.CACHE))
    return {"study": STUDY, "fold": fold, "seed": seed, "run": unit["meta_training_run"],
            "recipe": unit["recipe"], "optimizer_rate": rate_swap.optimizer_rate(judged),
            "by_horizon": rate_swap.beside(rows, unit, name="head_off")}


def readings(lines: list[dict]) -> dict:
    """The two pre-registered readings over the (fold, seed) lines.

    1. H and 2H: the judged optimizer minus the head-off one in validation accuracy (``-lead``). The
       corrections *carry the lead* if at both horizons its mean is above 0 and it is above 0 in at
       least ``AGREEING`` of 8 pairs; they *cost* if at both it is below 0 mean and in ``AGREEING``;
       otherwise *no clear effect*.
    2. 10H: the corrections *make the gap* if the head-off optimizer's validation loss is below the
       judged one's in at least ``AGREEING`` of 8 pairs and by at least half the judged optimizer's
       mean 10H loss gap to Adam on those pairs (``lead <= -0.5 * (judged - Adam)``, means);
       otherwise *not*.
    Incomplete below 8 pairs."""
    def per(h):
        return [line["by_horizon"][h] for line in lines if h in line["by_horizon"]]

    complete = all(len(per(h)) >= len(FOLDS) * len(SEEDS) for h in HORIZONS)
    verdicts = {}
    for h in ("H", "2H"):
        gains = np.asarray([-f["lead_val_accuracy"] for f in per(h)])
        verdicts[h] = ("carry" if gains.mean() > 0 and (gains > 0).sum() >= AGREEING else
                       "cost" if gains.mean() < 0 and (gains < 0).sum() >= AGREEING else "no clear effect") \
            if len(gains) else "incomplete"
    first = (verdicts["H"] if verdicts["H"] == verdicts["2H"] and verdicts["H"] in ("carry", "cost")
             else "no clear effect")
    at_10h = per("10H")
    lead = np.asarray([f["lead_val_loss"] for f in at_10h])
    # judged minus Adam = head-off's (vs Adam) minus head-off's (vs judged)
    judged_gap = np.asarray([f["vs_adam_val_loss"] - f["lead_val_loss"] for f in at_10h])
    second = bool(len(lead) and (lead < 0).sum() >= AGREEING and lead.mean() <= -0.5 * judged_gap.mean())
    return {"n": len(at_10h), "H_2H": first if complete else "incomplete", "by_horizon": verdicts,
            "10H": ("corrections make the gap" if second else "not") if complete else "incomplete",
            "10H_loss_lead_mean": float(lead.mean()) if len(lead) else None,
            "10H_judged_gap_to_adam_mean": float(judged_gap.mean()) if len(lead) else None,
            "means": rate_swap.summary(lines)}


def teacher_beside_ce(pairs) -> dict:
    """Read from the units, after the head-off result (post hoc, no training): per horizon, the
    judged optimizer on its teacher loss and the same optimizer on cross-entropy (the unit's
    ``learned_ce`` rows), each minus meta-tuned Adam in validation accuracy and loss, over the
    (fold, seed) ``pairs``. The head-off optimizer trains on the teacher loss too, so this says how
    much of a gap to Adam goes with the loss rather than with the optimizer."""
    out = {}
    for fold, seed in pairs:
        unit = json.loads(leave_one_out.unit_path(fold, seed, STUDY).read_text())
        labels = [label for label in unit["horizons"].values() if set(label.split("=")) & set(HORIZONS)]
        for loss in ("teacher", "ce"):
            for label, figures in pairing.differences({**unit, "learned_loss": loss}, labels).items():
                for h in (h for h in label.split("=") if h in HORIZONS):  # a merged label counts as each
                    for m in rate_swap.METRICS:
                        out.setdefault(h, {}).setdefault(f"{loss}_minus_adam_{m}", []).append(figures[f"diff_{m}"])
    return {h: {k: {"mean": float(np.mean(v)), "per_pair": v} for k, v in figures.items()}
            for h, figures in out.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fold", choices=FOLDS)
    p.add_argument("--seed", type=int, choices=SEEDS, default=0)
    p.add_argument("--data_dir", default=None, help="default: $DIMO_DATA_DIR")
    p.add_argument("--summary", action="store_true", help="the readings over the record's lines")
    args = p.parse_args(argv)
    lines = meta_runs.read_records(OUT)
    if args.summary:
        pairs = [(x["fold"], x["seed"]) for x in lines]
        print(json.dumps({**readings(lines), "post_hoc_teacher_beside_ce": teacher_beside_ce(pairs)}, indent=1))
        return 0
    if not args.fold:
        p.error("--fold is required (or --summary)")
    return rate_swap.record_line(OUT, lines, args.fold, args.seed, lambda: head_off(args.fold, args.seed, args.data_dir))


if __name__ == "__main__":
    from research import script

    script.run(main)

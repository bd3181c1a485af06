"""A diagnostic of ``ten_life1000`` (research/lopt/README.md, *After the judged runs*): its
learned optimizer run with the judged run's decoded recipe instead of its own.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.rate_swap --fold kmnist --seed 0
    python -m research.lopt.rate_swap --summary

After a 1,000-step meta-trained life the decoder gives a rate 4.8 to 7.9 times lower than after
the judged 200-step life, and the optimizer loses most at H. This asks whether what the long
life taught the optimizer itself (its corrections, and their schedule over the life) helps once
the rate is the judged run's. The ``ten_life1000`` meta-training of ``fold`` and ``seed`` (its
workdir under ``runs/lopt_meta_validation/``) trains all-``nor_conv_3x3`` on the fold's validation
split with the recipe (rate and weight decay) that the second judged run's system decoded for
the same fold and seed, at H, 2H and 10H, with the run's seeds. Each line of
``results/lopt_leave_one_out/rate_swap.jsonl`` holds, per horizon, its validation figures
minus the judged optimizer's and minus meta-tuned Adam's, both read from that run's unit (the
same seeds and validation split). A diagnostic chosen by nothing: no held-out dataset is read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dimo.infra.manifest import write_manifest
from research.baselines import ALL_3X3
from research import meta_runs
from research.lopt import leave_one_out, meta_validate, pairing

OUT = leave_one_out.OUT / "rate_swap.jsonl"
STUDY = "ten"  # the judged run whose recipe and rows it reads
VARIANT = "ten_life1000"
HORIZONS = ("H", "2H", "10H")
METRICS = ("val_accuracy", "val_loss")


def variant_workdir(fold: str, seed: int) -> Path:
    return meta_validate.run_workdir(VARIANT, fold, seed)


def beside(rows: list[dict], unit: dict, name: str = "swapped") -> dict:
    """Per horizon: the ``name``d optimizer's validation figures (``<name>_*``), minus the unit's
    learned optimizer's (``lead_*``) and minus its meta-tuned Adam's (``vs_adam_*``), means over seeds."""
    theirs = pairing.differences(unit, [row["horizon"] for row in rows])
    out = {}
    for row in rows:
        label = row["horizon"]
        mine = {m: float(np.mean(row[m])) for m in METRICS}
        for h in (h for h in label.split("=") if h in HORIZONS):  # a merged label ("4K=H") counts as each
            out[h] = {**{f"{name}_{m}": v for m, v in mine.items()},
                      **{f"lead_{m}": mine[m] - theirs[label][f"learned_{m}"] for m in METRICS},
                      **{f"vs_adam_{m}": mine[m] - theirs[label][f"adam_{m}"] for m in METRICS}}
    return out


def optimizer_rate(system) -> float:
    """The learned optimizer's own base rate, ``exp(log_lr)``, before the decoded ``lr_scale``."""
    return float(np.exp(np.asarray(system.params["optimizer"]["log_lr"])))


def swap(fold: str, seed: int, data_dir=None) -> dict:
    from dimo.evaluation import judge
    from dimo.meta import trained
    from dimo.space import search_space
    from dimo.studies import ablate, schedules

    workdir = variant_workdir(fold, seed)
    if not workdir.exists():
        raise FileNotFoundError(f"{workdir}: no {VARIANT} run of {fold} seed {seed} here; research/lopt/README.md "
                                "names the command that meta-trains it")
    unit = json.loads(leave_one_out.unit_path(fold, seed, STUDY).read_text())
    system = trained.load(workdir)
    target = schedules.load(system, fold, data_dir)
    own = ablate.recipe_from_code(system, ablate.dataset_code(system, target))
    recipe = own._replace(lr_scale=np.float32(unit["recipe"]["lr_scale"]),
                          weight_decay=np.float32(unit["recipe"]["weight_decay"]))
    horizons = {int(s): label for s, label in unit["horizons"].items() if set(label.split("=")) & set(HORIZONS)}
    if list(judge.run_seeds(seed)) != unit["seeds"]:
        raise ValueError(f"the unit's seeds {unit['seeds']} are not run {seed}'s")
    rows = schedules.learned_rows(system, search_space.Genotype.from_string(ALL_3X3), target, recipe, horizons,
                                  unit["seeds"], system.config.inner.loss, schedules.TrainingCache(leave_one_out.CACHE))
    judged = trained.load(leave_one_out.kept_dir(STUDY) / unit["meta_training_run"])
    return {"variant": VARIANT, "study": STUDY, "fold": fold, "seed": seed,
            "own_recipe": {"lr_scale": float(own.lr_scale), "weight_decay": float(own.weight_decay)},
            "swapped_recipe": unit["recipe"],
            "optimizer_rate": {"variant": optimizer_rate(system), "study": optimizer_rate(judged)},
            "by_horizon": beside(rows, unit)}


def summary(lines: list[dict]) -> dict:
    """Per horizon, the means over lines of every figure, and how many leads are below 0 in loss."""
    out = {}
    for h in HORIZONS:
        figures = [line["by_horizon"][h] for line in lines if h in line["by_horizon"]]
        if figures:
            out[h] = {"n": len(figures), "loss_lead_negative": sum(f["lead_val_loss"] < 0 for f in figures),
                      "accuracy_lead_positive": sum(f["lead_val_accuracy"] > 0 for f in figures),
                      **{f"{k}_mean": float(np.mean([f[k] for f in figures])) for k in figures[0]}}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fold", choices=("digits", "mnist", "fashion_mnist", "kmnist"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data_dir", default=None)
    p.add_argument("--summary", action="store_true", help="the means over the record's lines")
    args = p.parse_args(argv)
    lines = meta_runs.read_records(OUT)
    if args.summary:
        print(json.dumps(summary(lines), indent=1))
        return 0
    if not args.fold:
        p.error("--fold is required (or --summary)")
    return record_line(OUT, lines, args.fold, args.seed, lambda: swap(args.fold, args.seed, args.data_dir))


def record_line(out: Path, lines: list[dict], fold: str, seed: int, measure) -> int:
    """Appends ``measure()``'s line for (fold, seed) to ``out`` with its manifest and the trainings
    cache's; one ``error:`` line and 2 if ``out`` holds it already or the measurement cannot run."""
    if any((x["fold"], x["seed"]) == (fold, seed) for x in lines):
        print(f"error: {out.name} already holds {fold} seed {seed}", file=sys.stderr)
        return 2
    try:
        line = measure()
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (KeyError, StopIteration) as e:  # a unit without a row the measurement reads
        print(f"error: the unit of {fold} run {seed} is not complete (no {e or 'row of a horizon'})", file=sys.stderr)
        return 2
    with out.open("a") as f:
        f.write(json.dumps(line) + "\n")
    write_manifest(out, append=True)
    write_manifest(leave_one_out.CACHE, append=True,  # the trainings behind it
                   protocol="research/lopt/PROTOCOL.md (dimo.studies.schedules)")
    print(json.dumps(line["by_horizon"]))
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

"""Choosing the learned optimizer's config on the leave-one-out folds' validation splits.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.meta_validate --variant NAME --config CONFIG \
        --fold mnist --seed 0 [-- --config.key=value ...]          # one result (meta-trains, resumable)
    python -m research.lopt.meta_validate --summary [--plot results/lopt_leave_one_out/meta_validation_plot.png]
    python -m research.lopt.meta_validate --paired VARIANT [--against scheduled_200]   # per fold, seed, horizon
    python -m research.lopt.meta_validate --paired VARIANT --against_study ten   # against a judged run's units

research/lopt/PROTOCOL.md's *System*: a variant is meta-trained per leave-one-out fold (one
meta-training dataset held out, ``research.protocol.meta_validation_folds``) with at least two
seeds; on the held-out fold's **validation** split, the all-``nor_conv_3x3`` cell is trained by
the learned optimizer (the recipe the run decodes for the fold) and by Adam with warm-up and a
cosine, tuned on the fold's meta-training datasets' validation splits (``dimo.studies.schedules``;
the tunings are cached with the leave-one-out study's, which needs the same ones), at H and 2H,
with the run's seeds ``1000 (seed + 1) + k``. The record keeps validation figures only:

    results/lopt_leave_one_out/meta_validation.jsonl   a line per (variant, fold, seed)

The figure of a variant is the mean over its results of (learned minus Adam) validation accuracy
and validation loss, over H and 2H; a variant replaces the current one when both improve.
``--diagnostic 10H`` also trains other horizons of the protocol, kept apart in the record
(``diagnostic``) and out of that figure: it measures, it chooses nothing. ``--against_study``
pairs a variant's results with the learned optimizer of a judged leave-one-out run on the same
fold and seeds (its units' validation figures). No held-out dataset is read.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from dimo.infra.manifest import git_revision, write_manifest
from research import meta_runs, protocol
from research.baselines import ALL_3X3
from research.lopt import H_STEPS
from research.lopt.leave_one_out import CACHE  # the study's: its tunings and meta-validation's are shared
from research.lopt.pairing import HORIZONS, against_study, differences, paired

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "results" / "lopt_leave_one_out" / "meta_validation.jsonl"
SYSTEM = "scheduled_200"  # the judged System (PROTOCOL.md, Changes, 2026-12-04)


def run_workdir(variant: str, fold: str, seed: int) -> Path:
    """Where a variant's meta-training of ``fold`` and ``seed`` runs by default."""
    return REPO / "runs" / "lopt_meta_validation" / f"{variant}_{fold}_seed{seed}"


def fold_datasets(fold: str) -> list[str]:
    """The meta-training datasets other than ``fold``; refuses a fold that is not one of them."""
    folds = {held: list(train) for train, held in protocol.meta_validation_folds()}
    if fold not in folds:
        raise ValueError(f"--fold {fold}: folds are the meta-training datasets ({', '.join(folds)}); "
                         "a held-out dataset is never read for a choice")
    return folds[fold]


def chosen_horizons(config) -> dict[int, str]:
    """{steps: label} of the protocol's horizons that name H or 2H (labels merge, e.g. "K=H")."""
    from dimo.studies import schedules

    return {s: label for s, label in schedules.lopt_horizons(config, H_STEPS).items()
            if any(h in label.split("=") for h in HORIZONS)}


def diagnostic_horizons(config, names: str) -> dict[int, str]:
    """{steps: label} of the protocol's horizons named in ``names`` ("10H", "K,4K,10H") that the
    rule's H and 2H do not already train; an unknown name is an error."""
    from dimo.studies import schedules

    every = {label: s for s, label in schedules.lopt_horizons(config, H_STEPS).items()}
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if not any(n in label.split("=") for label in every)]
    if unknown:
        raise ValueError(f"--diagnostic {','.join(unknown)}: the protocol's horizons are {', '.join(schedules.HORIZON_LABELS)}")
    rule = chosen_horizons(config)
    return {s: label for label, s in every.items() if s not in rule and any(n in label.split("=") for n in wanted)}


def validate(args, overrides) -> dict:
    from dimo.evaluation import judge
    from dimo.meta import trained
    from dimo.space import search_space
    from dimo.studies import ablate, schedules

    datasets = fold_datasets(args.fold)
    revision = git_revision()
    workdir = Path(args.workdir or run_workdir(args.variant, args.fold, args.seed))
    meta_s = meta_runs.meta_train(args.config, datasets, args.seed, workdir, overrides, args.data_dir)
    system = trained.load(workdir)
    if system.config.seed != args.seed or args.fold in system.meta_training_datasets:
        raise ValueError(f"{workdir} is a run of seed {system.config.seed} on "
                         f"{','.join(system.meta_training_datasets)}, not of seed {args.seed} without {args.fold}")
    target = schedules.load(system, args.fold, args.data_dir)
    meta = [schedules.load(system, d, args.data_dir) for d in datasets]
    recipe = ablate.recipe_from_code(system, ablate.dataset_code(system, target))
    rule, extra = chosen_horizons(system.config), diagnostic_horizons(system.config, getattr(args, "diagnostic", ""))
    result = schedules.at_horizons(system, search_space.Genotype.from_string(ALL_3X3), target, meta,
                                   {**rule, **extra}, judge.run_seeds(args.seed),
                                   schedules.TrainingCache(CACHE), recipe, tune_on_target=False,
                                   optimizers=("adam",))
    return {"variant": args.variant, "config": args.config, "overrides": list(overrides), "fold": args.fold,
            "meta_training_datasets": list(system.meta_training_datasets), "seed": args.seed, "run": workdir.name,
            "run_config": {"meta_steps": int(system.config.meta.steps), "inner_steps": int(system.config.inner.steps),
                           "lifetime": int(system.config.inner.lifetime), "loss": system.config.inner.loss,
                           "progress_horizon": int(system.config.lopt.progress_horizon),
                           "stretch_to_length": bool(system.config.lopt.stretch_to_length),
                           "base": system.config.lopt.base, "base_schedule": bool(system.config.lopt.base_schedule)},
            "horizons": {label: steps for steps, label in result["horizons"].items()},
            "learned_loss": result["learned_loss"], "recipe": result["recipe"],
            "by_horizon": differences(result, rule.values()),
            **({"diagnostic": differences(result, extra.values())} if extra else {}),
            "meta_training_s": meta_s, "git_revision": revision, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}


def summary(rows: list[dict]) -> list[dict]:
    """Per variant: the protocol's figure (both differences, mean over results and H, 2H) and spreads."""
    mean_over_horizons = lambda m: lambda r: np.mean([h[m] for h in r["by_horizon"].values()])  # noqa: E731
    return meta_runs.by_variant(rows, {m: mean_over_horizons(m) for m in ("diff_val_accuracy", "diff_val_loss")})


def plot(rows: list[dict], path: Path) -> Path:
    """Per variant, every result's learned minus tuned Adam (validation accuracy, loss) at H and 2H,
    a marker a fold, and the variant's mean; the line at 0 is the baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(dict.fromkeys(r["variant"] for r in rows))
    folds = sorted({r["fold"] for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(max(7, 1.4 * len(variants) + 3), 4.2))
    for ax, metric, label in zip(axes, ("diff_val_accuracy", "diff_val_loss"),
                                 ("validation accuracy, learned - Adam", "validation loss, learned - Adam")):
        labelled = set()
        for x, variant in enumerate(variants):
            values = []
            for i, fold in enumerate(folds):
                mine = [h[metric] for r in rows if (r["variant"], r["fold"]) == (variant, fold)
                        for h in r["by_horizon"].values()]
                values += mine
                ax.scatter(x + 0.08 * (i - (len(folds) - 1) / 2) + np.zeros(len(mine)), mine, s=14,
                           marker="os^Dv<>"[i % 7], color=f"C{i}", label=None if fold in labelled or not mine else fold)
                labelled |= {fold} if mine else set()
            ax.hlines(np.mean(values), x - 0.3, x + 0.3, color="black")
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        counts = [sum(r["variant"] == v for r in rows) for v in variants]
        ax.set_xticks(range(len(variants)), [f"{v} ({n})" for v, n in zip(variants, counts)],
                      rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7, title="fold (H and 2H, each seed)", title_fontsize=7)
    fig.suptitle("System meta-validation (research/lopt/PROTOCOL.md): a bar is a variant's mean; "
                 "(n) its results (fold x seed)", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    argv, overrides = meta_runs.split_overrides(sys.argv[1:] if argv is None else argv)
    p = meta_runs.validation_parser(__doc__, "dimo/configs/recommended.py", "mnist",
                                    "default runs/lopt_meta_validation/<variant>_<fold>_seed<seed>; another "
                                    "study's finished run of the fold and seed is reused as it is")
    p.add_argument("--paired", metavar="VARIANT", help="VARIANT minus --against per fold, seed and horizon")
    p.add_argument("--against", default=SYSTEM, help=f"the variant --paired compares with (default {SYSTEM})")
    p.add_argument("--against_study", metavar="STUDY", help="with --paired: against the learned optimizer of "
                   "the judged leave-one-out run STUDY ('' the first, 'ten' the second) on the same folds and seeds")
    p.add_argument("--diagnostic", default="", metavar="HORIZONS",
                   help="other protocol horizons to train and record apart, out of the rule's figure (e.g. 10H)")
    p.add_argument("--plot", metavar="PNG", help="draw every variant's results (with --summary)")
    args = p.parse_args(argv)
    if args.plot and not args.summary:
        p.error("--plot draws the summary: pass --summary too")
    if args.against_study is not None and not args.paired:
        p.error("--against_study pairs a variant: pass --paired VARIANT too")
    if args.diagnostic:  # checked before any meta-training
        from dimo.studies.schedules import HORIZON_LABELS

        unknown = {n.strip() for n in args.diagnostic.split(",") if n.strip()} - set(HORIZON_LABELS)
        if unknown:
            p.error(f"--diagnostic {','.join(sorted(unknown))}: the protocol's horizons are {', '.join(HORIZON_LABELS)}")
    if args.paired:
        try:
            rows = meta_runs.read_records(OUT)
            print(json.dumps(paired(rows, args.paired, args.against) if args.against_study is None
                             else against_study(rows, args.paired, args.against_study)))
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    if args.summary:
        for s in summary(meta_runs.read_records(OUT)):
            print(json.dumps(s))
        if args.plot:
            # The manifest first: a name whose manifest another result owns is refused before drawing.
            try:
                write_manifest(args.plot, config={"record": str(OUT.relative_to(REPO))})
            except ValueError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
            plot(meta_runs.read_records(OUT), args.plot)
        return 0
    if not args.variant:
        p.error("--variant is required (the name the record gives this config)")
    row = meta_runs.validate_and_record(validate, args, overrides, OUT)
    if row is None:
        return 2
    write_manifest(CACHE, append=True, protocol="research/lopt/PROTOCOL.md (dimo.studies.schedules)")  # trainings behind it
    print(json.dumps({k: row[k] for k in ("variant", "fold", "seed", "by_horizon", "meta_training_s")}))
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

"""Meta-validation of a recipe variant (research/comparison/PROTOCOL.md): the figure choices read.

    DIMO_DATA_DIR=../shared/data python -m research.comparison.meta_validate --variant v0 \\
        --config dimo/configs/default.py --fold fashion_mnist --seed 0 [-- --config.meta.steps=300 ...]
    python -m research.comparison.meta_validate --summary        # a line per variant

One (variant, fold, seed): meta-trains the config on the meta-training datasets other than the
fold (``train_meta.py``, resumed if its workdir exists), proposes a cell for the fold, trains it
under the top judge's protocol C with the run's seeds ``1000 (seed + 1) + k`` and reads its
**validation** accuracy (never the test split's, which the training log holds but nothing here
reads). The figure is its margin over all-``nor_conv_3x3``'s validation accuracy under C (seeds
0-2, from the top judge's log).

``--verify N`` measures verification (issue #36, hypothesis 4): the run's N most probable cells,
chosen among by ``dimo propose --verify``'s successive halving, the chosen cell judged as above.
The halving reads a validation split carved from the fold's *training* split (``inner_split``),
never the validation images the figure reads: choosing and scoring on one split would flatter it,
as the held-out comparison chooses on validation and scores on test. ``--workdir`` may name
another variant's finished meta-training (the record's ``run``), so verification costs no new one.

``--verify_protocol C`` trains each candidate of the halving as the top judge's protocol C does,
shortened to its rung (``dimo.search.verify.judge_scorer``; hypothesis 4 as the issue words it).

``--rank N`` measures the performance predictor (hypothesis 3): the run's N most probable cells
reranked by ``dimo.search.predictor`` fitted to the cell tables of the fold's
meta-training datasets (never the fold's own table), the top-ranked cell judged as above;
``--taught_by top_judge`` fits it to their top-judge tables (validation under C) instead of the
1,000-step table.

Each result is a line of ``results/comparison/meta_validation.jsonl``
with the variant's config and overrides, the cell, the figures and the meta-training time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from dimo.infra.manifest import git_revision, write_manifest
from research import meta_runs, protocol

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "results" / "comparison" / "meta_validation.jsonl"
TRAININGS = OUT.with_name("meta_validation_runs.csv")
TOP_JUDGE_RUNS = REPO / "results" / "cell_table" / "top_judge_runs.csv"
FOLDS = ("fashion_mnist", "kmnist")  # the meta-training datasets with stage-2 tables
from research.baselines import ALL_3X3  # noqa: E402 (the trivial cell)


def meta_training_datasets(fold: str) -> list[str]:
    if fold not in FOLDS:
        raise ValueError(f"--fold must be one of {', '.join(FOLDS)} (a meta-training dataset with a stage-2 "
                         f"table), got {fold!r}")
    return [d for d in protocol.META_TRAINING if d != fold]


def judge_on_fold(genotype: str, fold: str, seeds, data_dir) -> dict:
    """``genotype`` under C on the fold with ``seeds``: ``TrainingLog.judge``'s result, through the
    meta-validation trainings log (the top judge's read too)."""
    from datasets_meta import load
    from dimo.evaluation import judge

    dataset = load(fold, data_dir, image_size=judge.PROTOCOLS["C"]["image_size"])
    log = judge.TrainingLog(TRAININGS, reuse=[TOP_JUDGE_RUNS])
    return log.judge(genotype, dataset, "C", seeds)


def judge_validation(genotype: str, fold: str, seeds, data_dir) -> list[float]:
    return judge_on_fold(genotype, fold, seeds, data_dir)["val_accuracy_per_seed"]


def inner_split(dataset, fraction: float = 0.1, seed: int = 0):
    """``dataset`` with its validation split replaced by ``fraction`` of its training images (a
    seeded, deterministic carve) and its training split by the rest; the test split is untouched
    and the original validation images are left out, so a choice made on this view reads none of
    the images the meta-validation figure is read on."""
    import dataclasses

    order = np.random.default_rng(seed).permutation(len(dataset.train_labels))
    held = order[:max(1, int(round(fraction * len(order))))]
    kept = np.sort(order[len(held):])
    return dataclasses.replace(dataset, train_images=dataset.train_images[kept], train_labels=dataset.train_labels[kept],
                               val_images=dataset.train_images[np.sort(held)],
                               val_labels=dataset.train_labels[np.sort(held)])


def verified_cell(system, proposal: dict, fold: str, n: int, seed: int, data_dir, protocol: str | None = None) -> dict:
    """``dimo propose --verify n`` on the fold, choosing on ``inner_split``'s validation images;
    with ``protocol``, each candidate trained as the top judge trains (``verify.judge_scorer``)."""
    from datasets_meta import load
    from dimo.evaluation import judge
    from dimo.search import discrete, verify

    setup = discrete.SearchSetup.from_config(system.config, seed=seed)
    size = judge.describe(protocol)["image_size"] if protocol else system.config.data.image_size
    dataset = inner_split(load(fold, data_dir, image_size=size))
    return verify.verify(proposal["arch_weights"], dataset, n, setup, protocol=protocol)


TEACHERS = ("table", "top_judge")  # --taught_by: the 1,000-step cell table, or the top judge's tables


def top_judge_tables(datasets, runs: Path | None = None) -> dict[str, dict[str, float]]:
    """{dataset: {genotype: mean validation accuracy under C, seeds 0-2}} for those of
    ``datasets`` the top judge has judged (its stage-2 networks): validation, the split choices read."""
    from research.comparison import tables_teach

    tables = {d: {g: float(np.mean(v["val"])) for g, v in tables_teach.per_network(runs or TOP_JUDGE_RUNS, d).items()}
              for d in datasets}
    return {d: t for d, t in tables.items() if len(t) >= 3}


def ranked_cell(proposal: dict, datasets, n: int, taught_by: str = "table") -> dict:
    """The most probable ``n`` cells reranked by a predictor fitted to ``datasets``' tables: the
    1,000-step cell table's validation means (``"table"``, ``dimo propose --rank``'s) or the top
    judge's (``"top_judge"``, the protocol the figure is judged by)."""
    from dimo.search import predictor

    protocol.check_meta_training(datasets)  # only a meta-training dataset's table may teach
    model, names = (predictor.from_tables(top_judge_tables(datasets)) if taught_by == "top_judge"
                    else predictor.from_cell_table(datasets))
    if model is None:
        raise ValueError(f"--rank: no {taught_by} table of {', '.join(datasets)} to fit the predictor on")
    return {**predictor.rerank(model, proposal["arch_weights"], n), "proposed": proposal["genotype"],
            "taught_by": names, "tables": taught_by}


def validate(args, overrides) -> dict:
    from dimo.evaluation import judge
    from dimo.meta import propose, trained

    datasets = meta_training_datasets(args.fold)
    revision = git_revision()  # the code that ran: HEAD may move during an hour's run
    workdir = Path(args.workdir or REPO / "runs" / "meta_validation" / f"{args.variant}_{args.fold}_seed{args.seed}")
    meta_s = meta_runs.meta_train(args.config, datasets, args.seed, workdir, overrides, args.data_dir)
    system = trained.load(workdir)
    if system.config.seed != args.seed or args.fold in system.meta_training_datasets:
        raise ValueError(f"{workdir} is a run of seed {system.config.seed} on "
                         f"{','.join(system.meta_training_datasets)}, not of seed {args.seed} without {args.fold}")
    # The support set from the seed-0 carve's training split: none of the validation images the
    # figure is read on (judge_validation's split), whatever the run's seed.
    proposal = propose.propose(system, args.fold, args.data_dir, split_seed=0)
    genotype, checked, ranked = proposal["genotype"], None, None
    if getattr(args, "rank", 0) and getattr(args, "verify", 0):
        raise ValueError("--verify and --rank are two variants: pass one")
    if getattr(args, "rank", 0):
        ranked = ranked_cell(proposal, datasets, args.rank, getattr(args, "taught_by", "table"))
        genotype = ranked["genotype"]
    if getattr(args, "verify", 0):
        checked = verified_cell(system, proposal, args.fold, args.verify, args.seed, args.data_dir,
                                getattr(args, "verify_protocol", None))
        genotype = checked["genotype"]
    val = judge_validation(genotype, args.fold, judge.run_seeds(args.seed), args.data_dir)
    base = judge_validation(ALL_3X3, args.fold, range(3), args.data_dir)
    return {"variant": args.variant, "config": args.config, "overrides": overrides, "fold": args.fold,
            "meta_training_datasets": list(system.meta_training_datasets), "seed": args.seed, "run": workdir.name,
            "run_config": {"meta_steps": int(system.config.meta.steps), "step": int(system.step),
                           "relaxation": system.config.decoder.relaxation, "lifetime": int(system.config.inner.lifetime)},
            "genotype": genotype,
            "lr_scale": float(proposal["lr_scale"]), "val_accuracy_per_seed": val,
            "val_accuracy": float(np.mean(val)), "all_3x3_val_accuracy": float(np.mean(base)),
            "margin_over_all_3x3": float(np.mean(val) - np.mean(base)), "meta_training_s": meta_s,
            "git_revision": revision, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            **({"verify": {"n": args.verify, "protocol": checked["protocol"], "proposed": proposal["genotype"],
                           "verify_s": checked["verify_s"],
                           "rank_in_distribution": checked["rank_in_distribution"], "steps": checked["steps"],
                           "candidates": checked["candidates"], "rungs": checked["rungs"],
                           "chosen_on": "10% of the fold's training split (inner_split), seed 0"}}
               if checked else {}),
            **({"rank": ranked} if ranked else {})}


def summary(rows: list[dict]) -> list[dict]:
    """Per variant: the mean margin over folds and runs, its spread over runs, how many."""
    return meta_runs.by_variant(rows, {"margin": lambda r: r["margin_over_all_3x3"]})


def main(argv=None) -> int:
    argv, overrides = meta_runs.split_overrides(sys.argv[1:] if argv is None else argv)
    p = meta_runs.validation_parser(__doc__, "dimo/configs/default.py", "fashion_mnist",
                                    "default runs/meta_validation/<variant>_<fold>_seed<seed>; another variant's "
                                    "finished run is reused as it is")
    p.add_argument("--verify", type=int, default=0, metavar="N",
                   help="judge the cell propose --verify N chooses (on a carve of the fold's training split)")
    p.add_argument("--verify_protocol", choices=("C",), default=None,
                   help="--verify: train each candidate as the top judge's protocol does (first rung 444 steps, "
                        "then 3x; 1,332 for 3-26 cells)")
    p.add_argument("--rank", type=int, default=0, metavar="N",
                   help="judge the best of the N most probable cells by the predictor of the other tables")
    p.add_argument("--taught_by", choices=TEACHERS, default="table",
                   help="--rank's predictor: taught by the 1,000-step cell table (dimo propose's) or by the top "
                        "judge's tables (validation under C) of the fold's meta-training datasets")
    args = p.parse_args(argv)
    if args.summary:
        for s in summary(meta_runs.read_records(OUT)):
            print(json.dumps(s))
        return 0
    if not args.variant:
        p.error("--variant is required (the name the record gives this recipe)")
    if args.verify < 0 or args.rank < 0:
        p.error("--verify and --rank take a number of cells >= 1 (0 for none)")
    if args.verify and args.rank:
        p.error("--verify and --rank are two variants: pass one")
    if args.verify_protocol and not args.verify:
        p.error("--verify_protocol chooses how --verify trains its candidates: pass --verify N with it")
    if args.taught_by != "table" and not args.rank:
        p.error("--taught_by chooses --rank's predictor: pass --rank N with it")
    row = meta_runs.validate_and_record(validate, args, overrides, OUT)
    if row is None:
        return 2
    write_manifest(TRAININGS, append=True, protocol="top judge C (dimo.evaluation.judge)")  # the trainings behind it
    print(json.dumps({k: row[k] for k in ("variant", "fold", "seed", "genotype", "val_accuracy",
                                          "margin_over_all_3x3", "meta_training_s")}))
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

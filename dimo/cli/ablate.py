"""``dimo ablate``: learned optimizer/loss vs SGD/Adam/CE, and the embedding."""

from __future__ import annotations

from pathlib import Path

from dimo.infra.manifest import manifest

HELP = "learned optimizer/loss vs SGD/Adam/CE, and the embedding"


def add_arguments(parser) -> None:
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--combos", default="", help="e.g. learned/teacher,sgd/ce (default: all six, or the three on "
                             "cross-entropy when the run meta-trained no teacher: inner.loss=ce)")
    parser.add_argument("--no_embedding", action="store_true", help="skip the embedding ablation")
    parser.add_argument("--no_target_tuning", action="store_true",
                        help="tune SGD/Adam on the meta-training datasets only (skip the rows tuned on the "
                             "evaluated dataset itself)")
    parser.add_argument("--tuning_seeds", type=int, default=2,
                        help="training seeds whose mean validation accuracy picks SGD's and Adam's rates")
    parser.add_argument("--genotype", default=None, help="ablate this cell instead of the proposed one")
    parser.add_argument("--out", default=None, help="PNG of learning curves (default W/ablation_<dataset>.png)")
    parser.add_argument("--schedules", action="store_true",
                        help="research/lopt/PROTOCOL.md's baselines instead: Adam and SGD with a warm-up and a cosine, "
                             "tuned on a 7 x 3 grid (rate x decay) at each horizon K, 4K, H, 2H, 10H, beside the "
                             "learned optimizer; --seed is the first training seed")
    parser.add_argument("--horizon", type=int, default=None,
                        help="--schedules: H in inner steps (default: the config's lifetime, or K without one; "
                             "research/lopt/PROTOCOL.md fixes 200)")
    parser.add_argument("--cache", default=None, help="--schedules: finished trainings, JSON lines (resumable): a file, "
                        "or a directory of one file per dataset (default W/schedule_trainings.jsonl)")
    parser.add_argument("--vmapped", action="store_true",
                        help="--schedules: train the baselines many at once first, a grid at every horizon as one "
                             "program (dimo.studies.prefill): for a GPU or TPU; on a CPU slower than one by one")


def run(args) -> dict:
    from dimo.meta import trained
    from dimo.studies import ablate

    for flag, value in (("--seeds", args.seeds), ("--tuning_seeds", args.tuning_seeds)):
        if value < 1:
            raise ValueError(f"{flag} must be at least 1, got {value}")
    if args.vmapped and not args.schedules:
        raise ValueError("--vmapped trains the --schedules baselines: add --schedules")
    system = trained.load(args.workdir)
    if args.schedules:
        return _schedules(args, system)
    combos = None  # ablate.default_combos
    if args.combos:
        combos = tuple(tuple(c.split("/")) for c in args.combos.split(","))
        bad = [c for c in combos if c not in ablate.COMBOS]
        if bad:
            raise ValueError(f"--combos entries must be OPTIMIZER/LOSS among "
                             f"{', '.join('/'.join(c) for c in ablate.COMBOS)}; got {bad}")
    from dimo.space.search_space import Genotype

    genotype = Genotype.from_string(args.genotype) if args.genotype else None
    result = ablate.ablate(system, args.dataset, args.data_dir, seeds=args.seeds, combos=combos,
                           embedding=not args.no_embedding, genotype=genotype, first_seed=args.seed,
                           tune_on_target=not args.no_target_tuning, tuning_seeds=args.tuning_seeds)
    out = _finish(args, system, result, "ablation", ablate.plot_curves, "curves_png")
    if not args.json:
        print(ablate.format_table(result))
        for e in result.get("embedding_ablation", []):
            print(f"code: {e['code']:<28} {e['genotype']}  test {e['test_accuracy']:.3f}")
        print(f"learning curves: {out}")
    return result


def _finish(args, system, result: dict, name: str, plot, key: str) -> Path:
    """The seen-dataset warning, the plot (default W/<name>_<dataset>.png) and the manifest."""
    result["seen_in_meta_training"] = system.warn_if_seen(result["dataset"])
    out = Path(args.out or Path(args.workdir) / f"{name}_{result['dataset']}.png")
    plot(result, out)
    result[key] = str(out)
    # --json > results/...: its provenance inside; the workdir and the plot are not committed
    result["manifest"] = manifest(config=system.config, uncommitted_inputs=[str(args.workdir), str(out)])
    return out


def _schedules(args, system) -> dict:
    from dimo.space import search_space
    from dimo.studies import ablate, schedules

    seeds = range(args.seed, args.seed + args.seeds)
    if args.horizon is not None and args.horizon < 1:
        raise ValueError(f"--horizon must be at least 1 inner step, got {args.horizon}")
    if set(seeds) & set(schedules.TUNING_SEEDS):
        raise ValueError(f"--schedules: the training seeds {list(seeds)} include the tuning seeds "
                         f"{list(schedules.TUNING_SEEDS)}, which choose the baselines' rates; pass e.g. --seed 1000")
    target = schedules.load(system, args.dataset, args.data_dir)
    meta = [schedules.load(system, n.strip(), args.data_dir) for n in system.config.datasets.split(",") if n.strip()]
    recipe = ablate.recipe_from_code(system, ablate.dataset_code(system, target))
    genotype = (search_space.Genotype.from_string(args.genotype) if args.genotype
                else search_space.discretize(recipe.arch_weights))
    cache = schedules.TrainingCache(args.cache or Path(args.workdir) / "schedule_trainings.jsonl")
    horizons = schedules.lopt_horizons(system.config, args.horizon)
    if args.vmapped:  # the same trainings, into the cache at_horizons reads
        from dimo.studies import prefill

        prefill.tuning_grids(system.config, genotype, meta + ([] if args.no_target_tuning else [target]), horizons, cache)
        prefill.evaluations(system.config, genotype, target, meta, horizons, list(seeds), cache,
                            tune_on_target=not args.no_target_tuning)
    result = schedules.at_horizons(system, genotype, target, meta, horizons, seeds, cache, recipe,
                                   tune_on_target=not args.no_target_tuning)
    out = _finish(args, system, result, "schedules", schedules.plot, "plot_png")
    if not args.json:
        print(schedules.format_table(result) + f"\nplot: {out}")
    return result

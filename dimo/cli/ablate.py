"""``dimo ablate``: learned optimizer/loss vs SGD/Adam/CE, and the embedding."""

from __future__ import annotations

from pathlib import Path

from dimo.infra.manifest import manifest

HELP = "learned optimizer/loss vs SGD/Adam/CE, and the embedding"


def add_arguments(parser) -> None:
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--combos", default="", help="e.g. learned/teacher,sgd/ce (default: all six)")
    parser.add_argument("--no_embedding", action="store_true", help="skip the embedding ablation")
    parser.add_argument("--no_target_tuning", action="store_true",
                        help="tune SGD/Adam on the meta-training datasets only (skip the rows tuned on the "
                             "evaluated dataset itself)")
    parser.add_argument("--tuning_seeds", type=int, default=2,
                        help="training seeds whose mean validation accuracy picks SGD's and Adam's rates")
    parser.add_argument("--genotype", default=None, help="ablate this cell instead of the proposed one")
    parser.add_argument("--out", default=None, help="PNG of learning curves (default W/ablation_<dataset>.png)")


def run(args) -> dict:
    from dimo.meta import trained
    from dimo.studies import ablate

    for flag, value in (("--seeds", args.seeds), ("--tuning_seeds", args.tuning_seeds)):
        if value < 1:
            raise ValueError(f"{flag} must be at least 1, got {value}")
    system = trained.load(args.workdir)
    combos = ablate.COMBOS
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
    result["seen_in_meta_training"] = system.warn_if_seen(result["dataset"])
    out = Path(args.out or Path(args.workdir) / f"ablation_{result['dataset']}.png")
    ablate.plot_curves(result, out)
    result["curves_png"] = str(out)
    # --json > results/...: its provenance inside; the workdir and the plot are not committed
    result["manifest"] = manifest(config=system.config, uncommitted_inputs=[str(args.workdir), str(out)])
    if not args.json:
        print(ablate.format_table(result))
        for e in result.get("embedding_ablation", []):
            print(f"code: {e['code']:<28} {e['genotype']}  test {e['test_accuracy']:.3f}")
        print(f"learning curves: {out}")
    return result

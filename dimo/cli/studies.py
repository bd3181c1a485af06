"""``dimo ablate`` and ``dimo compare``: the subcommands that run studies of many trainings
(parsed in ``dimo.cli.main``)."""

from __future__ import annotations

import json
from pathlib import Path

from dimo.search import registry as search_methods


def cmd_ablate(args) -> dict:
    from dimo.studies import ablate
    from dimo.meta import trained

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
    if not args.json:
        print(ablate.format_table(result))
        for e in result.get("embedding_ablation", []):
            print(f"code: {e['code']:<28} {e['genotype']}  test {e['test_accuracy']:.3f}")
        print(f"learning curves: {out}")
    return result


def cmd_compare(args) -> dict:
    from dimo.studies import compare
    from dimo.cli.main import _dataset, _runs

    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else list(
        search_methods.METHODS)
    unknown = [m for m in methods if m not in search_methods.METHODS]
    if unknown:
        raise ValueError(f"--methods: unknown {unknown}; choose from {', '.join(search_methods.METHODS)}")
    for flag, value in (("--budget", args.budget), ("--seeds", args.seeds), ("--candidate_steps", args.candidate_steps)):
        if value <= 0:
            raise ValueError(f"{flag} must be positive, got {value:g}")
    runs = _runs(args.workdir)
    out = Path(args.out or runs[0].workdir / f"compare_{Path(args.dataset).name}_{args.budget:g}s")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} already holds a comparison; pass --out NEW_DIR (nothing is overwritten)")
    dataset = _dataset(args, runs[0].config.data.image_size)
    result = compare.compare(runs, dataset, args.budget, args.seeds, methods, args.verify, args.candidate_steps,
                             args.verify_steps, args.data_dir, progress=not args.json)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(json.dumps(result, indent=1, default=float))
    (out / "compare.md").write_text(compare.markdown(result) + "\n")
    compare.plot(result, out / "compare.png")
    result["out"] = str(out)
    if not args.json:
        print(compare.markdown(result) + f"\n\nwritten: {out}/compare.md, compare.json, compare.png")
    return result

"""``dimo train``: train a cell (by default the proposal for the dataset) into a network you keep."""

from __future__ import annotations

from dimo.cli import common

HELP = "train a cell (default: DiMO's proposal, with its recipe) into a model directory"


def add_arguments(parser) -> None:
    from dimo.final.config import OPTIMIZERS, PRESETS

    parser.add_argument("--out", required=True, help="the model directory to write (new, or with --resume)")
    parser.add_argument("--genotype", default=None, help="the cell; default: the system's proposal for --dataset, "
                                                         "trained with its learning-rate scale and weight decay; "
                                                         "'transferred': the cell dimo propose shows beside its own")
    parser.add_argument("--workdir", default=None, help="the meta-trained system that proposes (default: the one "
                                                        "shipped in the package)")
    parser.add_argument("--rank", type=int, default=None, metavar="N",
                        help="as dimo propose's: rerank the N most probable cells (default: the recommended "
                             "9; 0: the decoded cell), so that the cell trained is the one propose shows")
    parser.add_argument("--preset", choices=tuple(PRESETS), default="small",
                        help="small: C=16, N=1, 32x32, for a CPU; nas-bench-201: NAS-Bench-201's protocol")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                        help="wall-clock budget: as many epochs as fit, the schedule ending at 0 within it")
    length.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                        help="learned: the system's meta-learned optimizer (on cross-entropy)")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (sgd, adam)")
    for name in ("channels", "cells_per_stage", "image_size", "batch_size"):
        parser.add_argument(f"--{name}", type=int, default=None)
    parser.add_argument("--resume", action="store_true", help="continue the training in --out")


def run(args) -> dict:
    from dimo.evaluation.evaluate import learned_configs
    from dimo.final import config as final_config
    from dimo.final import train
    from dimo.infra import manifest
    from dimo.space import search_space

    cfg = final_config.preset(args.preset, epochs=args.epochs, optimizer=args.optimizer, learning_rate=args.lr,
                              channels=args.channels, cells_per_stage=args.cells_per_stage,
                              image_size=args.image_size, batch_size=args.batch_size, seed=args.seed)
    saved = train.saved_training(args.out) if args.resume else None
    if saved:  # the saved training's settings rule (the data is loaded at its size)
        cfg = final_config.FinalConfig(**saved["config"])
    if args.budget is not None and args.budget <= 0:
        raise ValueError(f"--budget must be positive seconds, got {args.budget:g}")
    system, meta, lopt_cfg, recipe = None, None, None, {"lr_scale": 1.0, "weight_decay": None}
    propose = args.genotype is None and saved is None
    if propose or cfg.optimizer == "learned":
        runs = common.load_runs(args.workdir)
        system = runs[0]
        meta, lopt_cfg = system.params["optimizer"], learned_configs(system.config)[0]
    source = {"command": manifest.this_command()}
    if args.genotype is None and saved is not None:
        # A resume continues the cell and recipe it began with, whatever the system proposes today.
        genotype = search_space.Genotype.from_string(saved["genotype"])
        recipe = {"lr_scale": saved["lr_scale"], "weight_decay": saved["weight_decay"]}
    elif propose:
        from dimo.search import predictor

        proposal = predictor.propose(runs, args.dataset, args.data_dir, args.seed, rank=args.rank)
        system.warn_if_seen(proposal["dataset"])
        genotype = search_space.Genotype.from_string(proposal["genotype"])
        recipe = {"lr_scale": proposal["lr_scale"], "weight_decay": proposal["weight_decay"]}
        source["proposal"] = {**{k: proposal[k] for k in ("genotype", "lr_scale", "weight_decay", "meta_step")},
                              "rank": proposal["ranked"]["n"] if "ranked" in proposal else 0,
                              "decoded_genotype": proposal.get("decoded_genotype", proposal["genotype"])}
        source["meta_training_datasets"] = list(system.meta_training_datasets)
    else:
        if args.rank is not None:
            raise ValueError("--rank chooses among the proposal's cells; it has no meaning with --genotype")
        genotype = search_space.Genotype.from_string(_transferred(args) if args.genotype == "transferred"
                                                     else args.genotype)
    dataset = common.load_dataset(args, cfg.image_size)
    try:
        result = train.train(genotype, dataset, cfg, args.out, budget_s=args.budget, meta=meta, lopt_cfg=lopt_cfg,
                             resume=args.resume, progress=not args.json, source=source, **recipe)
    except KeyboardInterrupt as e:  # train.Stopped: a signal, taken after a chunk and a checkpoint
        import sys

        print(f"{e or 'interrupted'}; continue it with the same command and --resume (in {args.out})",
              file=sys.stderr)
        raise SystemExit(130) from None
    if not args.json:
        last = result["history"][-1] if result["history"] else {}
        size = result["train_config"]
        print(common.table([("dataset", result["dataset"]), ("genotype", result["genotype"]),
                            ("network", f"C={size['channels']}, N={size['cells_per_stage']}, "
                                        f"{size['image_size']}x{size['image_size']}"),
                            ("training", f"{result['epochs']} epochs ({result['steps']} steps) of "
                                         f"{result['train_config']['optimizer']}, lr scale {result['lr_scale']:.3g}, "
                                         f"weight decay {result['weight_decay']:.3g}, in {result['train_s']:.1f} s"),
                            ("val accuracy", f"{result['val_accuracy']:.4f} (last epoch's check "
                                             f"{last.get('val_accuracy', float('nan')):.4f})"),
                            ("test accuracy", f"{result['test_accuracy']:.4f}"),
                            ("model", result["model_dir"]), ("curves", result["report_png"])]))
    return {k: v for k, v in result.items() if k != "history"}


def _transferred(args) -> str:
    """The transferred cell ``dimo propose`` shows for ``--dataset``: taught by the tables of the
    system's meta-training datasets other than it."""
    from datasets_meta import registry
    from dimo.search import predictor, transferred

    # The name propose reads the dataset by (a folder's stem), so both leave out the same table.
    name = registry.display_name(args.dataset)
    beside = transferred.beside(predictor.teachers(common.load_runs(args.workdir)[0], name))
    if beside is None:
        raise ValueError(f"no top-judge table of the system's meta-training datasets other than {args.dataset} "
                         "teaches a transferred cell; pass the cell itself: --genotype '<NB201 string>'")
    return beside["genotype"]

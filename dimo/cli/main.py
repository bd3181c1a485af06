"""The ``dimo`` command: use a meta-trained system, and the baselines it is measured against.

    dimo propose  --workdir W[,W2,...] --dataset cifar10 [--data_dir D] [--verify 9] [--json]
    dimo evaluate --genotype '|nor_conv_3x3~0|+...' --dataset cifar10 [--steps 500]
                  [--optimizer sgd|adam|learned --workdir W] [--json]
    dimo search   --method random|darts|darts2|gdas|drnas|sdarts|darts-pt|evolution|hyperband|tpe
                  --dataset cifar10 [--steps 300 | --budget 600] [--json]
    dimo ablate   --workdir W --dataset cifar10 [--seeds 3] [--json]
    dimo compare  --workdir W[,W2] --dataset cifar10 --budget 120 [--seeds 2] [--methods ...]

Every subcommand prints a readable table, or one JSON object on stdout with ``--json``.
Bad input ends with one ``error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dimo.cli import studies as cli_studies

from dimo.search import registry as search_methods
from dimo.configs import default as default_config


def _table(rows: list[tuple[str, object]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _probabilities(entry: dict) -> str:
    lines = ["edge      " + "  ".join(f"{op[:12]:>12}" for op in next(iter(entry.values())))]
    for edge, probs in entry.items():
        lines.append(f"{edge:<8}  " + "  ".join(f"{p:>12.3f}" for p in probs.values()))
    return "\n".join(lines)


def _runs(spec: str) -> list:
    """``--workdir``'s runs, loaded: one workdir, or several seeds of one config, comma-separated."""
    from dimo.meta import trained

    runs = [trained.load(w.strip()) for w in spec.split(",") if w.strip()]
    strip = lambda t: {k: v for k, v in t.config.to_dict().items() if k != "seed"}  # noqa: E731
    differ = [t for t in runs[1:] if strip(t) != strip(runs[0])]
    if differ:
        raise ValueError(f"--workdir runs must be seeds of one config: {differ[0].workdir}'s config.json "
                         f"differs from {runs[0].workdir}'s beyond its seed")
    return runs


def cmd_propose(args) -> dict:
    from dimo.meta import propose
    from dimo.space import search_space

    runs = _runs(args.workdir)
    system = runs[0]
    result = propose.propose_from_runs(runs, args.dataset, args.data_dir, args.seed)
    system.warn_if_seen(result["dataset"])
    out = Path(args.out or system.workdir / f"cell_{result['dataset']}.png")
    propose.draw_cell(search_space.Genotype.from_string(result["genotype"]), out,
                      f"{result['dataset']}: {result['genotype']}")
    result["cell_png"] = str(out)
    if not args.json:
        print(_table([("dataset", result["dataset"]), ("genotype", result["genotype"]),
                      ("connected", "yes" if result["connected"] else
                       "NO: no path of non-none edges from input to output; this cell outputs "
                       "zeros (meta-train longer)"),
                      ("checkpoint", "meta-step " + ", ".join(map(str, np.atleast_1d(result["meta_step"])))),
                      ("lr scale", f"{result['lr_scale']:.4g}"),
                      ("weight decay", f"{result['weight_decay']:.3g}"),
                      ("parameters", f"{result['params']:,} ({result['network']})"),
                      ("FLOPs (MACs)", f"{result['flops']:,}"),
                      ("wall time", f"{result['wall_s']:.2f} s (data {result['load_s']:.2f} s, "
                                    f"embed+decode {result['embed_decode_s']:.2f} s)"),
                      ("cell drawing", result["cell_png"])]))
        print(_probabilities(result["edge_op_probabilities"]))
    if args.verify:
        from dimo.search import discrete as baselines
        from dimo.search import verify

        config = system.config
        setup = baselines.SearchSetup.from_config(config, seed=args.seed)
        # The dataset as `dimo evaluate` and the cell table read it, not propose's view of it
        # (meta-training's channels and split seed): the check trains the cells as they will be.
        checked = verify.verify(result["arch_weights"], _dataset(args, config.data.image_size), args.verify,
                                setup, min_steps=args.verify_steps)
        result["verified"] = checked
        if not args.json:
            print(_table([("verified", checked["genotype"]),
                          ("", f"the {checked['rank_in_distribution']}. most probable of {len(checked['candidates'])} "
                               f"cells, by successive halving on the validation split ("
                               + ", ".join(f"{len(r['candidates'])} x {r['steps']}" for r in checked["rungs"])
                               + f" steps) in {checked['verify_s']:.1f} s")]))
    return result


def _dataset(args, image_size):
    from datasets_meta import load

    return load(args.dataset, args.data_dir, image_size=image_size)


def _judge(result: dict, setup, config) -> str:
    """Adds the cell table's verdict on ``result['test_accuracy']`` to ``result``; says it."""
    from dimo.evaluation import cell_table

    verdict = cell_table.judge(result["dataset"], result["test_accuracy"], setup, config.data.image_size)
    result.update(verdict or {})
    if verdict:
        return (f"{verdict['table_percentile']:.1f}th percentile of {verdict['table_cells']} cells "
                f"(median {verdict['table_median']:.4f}, best {verdict['table_max']:.4f}; the table "
                f"holds means of 2 seeds)")
    return (f"no cell table for {result['dataset']} under this protocol (the table's: --steps "
            f"{cell_table.PROTOCOL['steps']}, sgd at lr {cell_table.PROTOCOL['learning_rate']}, default "
            f"sizes; python -m benchmarks.cell_table builds it)")


def cmd_evaluate(args) -> dict:
    from dimo.evaluation import evaluate
    from dimo.space import search_space

    genotype = search_space.Genotype.from_string(args.genotype)
    meta, lr_scale, weight_decay, config = None, 1.0, None, default_config.get_config()
    seen = None  # only a learned recipe can have seen the dataset
    if args.workdir:
        from dimo.meta import propose
        from dimo.meta import trained

        system = trained.load(args.workdir)
        config, meta = system.config, system.params
        if args.optimizer == "learned":
            proposal = propose.propose(system, args.dataset, args.data_dir)
            lr_scale, weight_decay = proposal["lr_scale"], proposal["weight_decay"]
            seen = system.warn_if_seen(proposal["dataset"])
    elif args.optimizer == "learned" or args.loss == "teacher":
        raise ValueError("--optimizer learned and --loss teacher need --workdir of a meta-training run")
    loss = args.loss or ("teacher" if args.optimizer == "learned" else "ce")
    setup = evaluate.setup_for(config, steps=args.steps, optimizer=args.optimizer, loss=loss,
                               learning_rate=args.lr, seed=args.seed, batch_size=args.batch_size)
    lopt_cfg, teacher_cfg = evaluate.learned_configs(config)
    dataset = _dataset(args, config.data.image_size)
    result = evaluate.train_genotype(genotype, dataset, setup, meta, lopt_cfg, teacher_cfg, lr_scale,
                                     weight_decay, progress=not args.json)
    if seen is not None:
        result["seen_in_meta_training"] = seen
    judged = _judge(result, setup, config)
    if not args.json:
        print(_table([("dataset", result["dataset"]), ("genotype", result["genotype"]),
                      ("training", f"{result['steps']} steps, {result['optimizer']} on {result['loss']}"),
                      ("val accuracy", f"{result['val_accuracy']:.4f}"),
                      ("test accuracy", f"{result['test_accuracy']:.4f} ({result['normalisation']})"),
                      ("cell table", judged),
                      ("final train loss", f"{result['final_train_loss']:.4f}"),
                      ("parameters", f"{result['params']:,}"),
                      ("training time", f"{result['train_s']:.1f} s")]))
    return result


def cmd_search(args) -> dict:
    from dimo.search import discrete as baselines

    for flag, value in (("--budget", args.budget), ("--candidate_steps", args.candidate_steps),
                        ("--steps", args.steps), ("--candidates", args.candidates)):
        if value is not None and value <= 0:
            raise ValueError(f"{flag} must be positive, got {value:g}")
    config = default_config.get_config()
    setup = baselines.SearchSetup.from_config(config, steps=args.steps, seed=args.seed,
                                              num_candidates=args.candidates,
                                              candidate_steps=args.candidate_steps, budget_s=args.budget)
    dataset = _dataset(args, config.data.image_size)
    result = search_methods.run(args.method, dataset, setup)
    result["dataset"] = dataset.name
    rows = [("method", result["method"]), ("dataset", dataset.name), ("genotype", result["genotype"]),
            ("budget", f"{args.budget:g} s" if args.budget else f"{args.steps} inner steps"),
            ("search", f"{result['steps']} inner steps in {result['search_s']:.1f} s"
                       + (f", {len(result['candidates'])} candidate(s)" if "candidates" in result else ""))]
    if args.evaluate_steps:
        # The selected cell, trained afresh and measured on the test split: selection used
        # the validation split (or the architecture weights), never the test split.
        from dimo.evaluation import evaluate
        from dimo.space import search_space

        eval_setup = evaluate.setup_for(config, steps=args.evaluate_steps, seed=args.seed)
        trained_cell = evaluate.train_genotype(search_space.Genotype.from_string(result["genotype"]),
                                               dataset, eval_setup, progress=not args.json)
        evaluation = {k: trained_cell[k] for k in ("dataset", "steps", "test_accuracy", "normalisation",
                                                   "train_s")}
        judged = _judge(evaluation, eval_setup, config)
        result["evaluation"] = evaluation
        rows += [("test accuracy", f"{evaluation['test_accuracy']:.4f} (the cell trained afresh for "
                                   f"{evaluation['steps']} steps)"), ("cell table", judged)]
    if not args.json:
        print(_table(rows))
    return result


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dimo", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)

    def add(name, func, help_text):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--dataset", required=True, help="registry name or folder:/path")
        p.add_argument("--data_dir", default=None, help="raw data folder (default $DIMO_DATA_DIR)")
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument("--seed", type=int, default=0,
                       help="propose: which support set is read; evaluate, search: the training "
                            "seed; ablate: the first of --seeds training seeds")
        p.set_defaults(func=func)
        return p

    p = add("propose", cmd_propose, "propose an architecture and recipe for a dataset")
    p.add_argument("--workdir", required=True,
                   help="a train_meta.py workdir, or several seeds of one config (comma-separated): "
                        "then the cell of their mean decoded mixture")
    p.add_argument("--out", default=None, help="PNG of the cell (default W/cell_<dataset>.png)")
    p.add_argument("--verify", type=int, default=0, metavar="N",
                   help="also train the N most probable cells briefly on the dataset (successive "
                        "halving on its validation split) and return the best")
    p.add_argument("--verify_steps", type=int, default=100, help="--verify: steps of the first rung")
    p = add("evaluate", cmd_evaluate, "train a genotype from scratch, report val/test accuracy")
    p.add_argument("--genotype", required=True)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--optimizer", choices=("sgd", "adam", "learned"), default="sgd")
    p.add_argument("--loss", choices=("ce", "teacher"), default=None)
    p.add_argument("--lr", type=float, default=None, help="sgd/adam learning rate")
    p.add_argument("--batch_size", type=int, default=None)
    p.add_argument("--workdir", default=None, help="meta-training run (sizes, learned optimizer)")
    p = add("search", cmd_search, "baseline architecture search on the same supernet")
    p.add_argument("--method", choices=search_methods.METHODS, required=True)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--candidates", type=int, default=5, help="random search: genotypes tried")
    p.add_argument("--budget", type=float, default=None,
                   help="wall-clock seconds of search, compile included (instead of --steps/--candidates)")
    p.add_argument("--candidate_steps", type=int, default=None,
                   help="random search: training steps per candidate (default: steps / candidates)")
    p.add_argument("--evaluate_steps", type=int, default=1000,
                   help="train the selected cell afresh for this many steps and report its test "
                        "accuracy (1000: the cell table's protocol; 0: skip)")
    p = add("ablate", cli_studies.cmd_ablate, "learned optimizer/loss vs SGD/Adam/CE, and the embedding")
    p.add_argument("--workdir", required=True)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--combos", default="", help="e.g. learned/teacher,sgd/ce (default: all six)")
    p.add_argument("--no_embedding", action="store_true", help="skip the embedding ablation")
    p.add_argument("--no_target_tuning", action="store_true",
                   help="tune SGD/Adam on the meta-training datasets only (skip the rows tuned on the "
                        "evaluated dataset itself)")
    p.add_argument("--tuning_seeds", type=int, default=2,
                   help="training seeds whose mean validation accuracy picks SGD's and Adam's rates")
    p.add_argument("--genotype", default=None, help="ablate this cell instead of the proposed one")
    p.add_argument("--out", default=None, help="PNG of learning curves (default W/ablation_<dataset>.png)")
    p = add("compare", cli_studies.cmd_compare, "DiMO's proposals beside every search method on one budget")
    p.add_argument("--workdir", required=True, help="meta-training run(s), as for propose")
    p.add_argument("--budget", type=float, required=True, help="wall-clock seconds per search, compile included")
    p.add_argument("--seeds", type=int, default=1, help="runs of each seeded method")
    p.add_argument("--methods", default="", help=f"comma-separated (default all: {','.join(search_methods.METHODS)})")
    p.add_argument("--verify", type=int, default=9, help="propose --verify N (0: skip)")
    p.add_argument("--verify_steps", type=int, default=100, help="--verify: steps of the first rung")
    p.add_argument("--candidate_steps", type=int, default=300, help="discrete searches: steps per candidate")
    p.add_argument("--out", default=None, help="folder for compare.md/.json/.png (default W/compare_<dataset>_<budget>s)")
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "lr", None) is None and args.command == "evaluate":
        args.lr = 0.1 if args.optimizer == "sgd" else 3e-3
    from datasets_meta import DatasetError
    from dimo.infra import runtime
    from dimo.space.search_space import GenotypeError
    from dimo.infra.workdir import WorkdirError

    from absl import logging

    logging.set_verbosity(logging.ERROR)  # orbax logs every restore, and a read-only reader's options
    try:
        runtime.enable_compilation_cache()
        result = args.func(args)
    except (DatasetError, WorkdirError, GenotypeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())

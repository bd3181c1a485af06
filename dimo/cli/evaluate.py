"""``dimo evaluate``: train a genotype from scratch, report val/test accuracy."""

from __future__ import annotations

from dimo.cli import common
from dimo.configs import default as default_config

HELP = "train a genotype from scratch, report val/test accuracy"


def add_arguments(parser) -> None:
    parser.add_argument("--genotype", required=True)
    from dimo.evaluation.cell_table import PROTOCOL

    parser.add_argument("--steps", type=int, default=PROTOCOL["steps"],
                        help=f"training steps (default {PROTOCOL['steps']}: the cell table's protocol, so the "
                             "cell's percentile in the table is reported)")
    parser.add_argument("--optimizer", choices=("sgd", "adam", "learned"), default="sgd")
    parser.add_argument("--loss", choices=("ce", "teacher"), default=None,
                        help="default: the meta-training run's inner.loss with --optimizer learned, else ce")
    parser.add_argument("--lr", type=float, default=None, help="sgd/adam learning rate")
    parser.add_argument("--batch_size", type=int, default=None)
    parser.add_argument("--workdir", default=None, help="meta-training run (sizes, learned optimizer)")


def run(args) -> dict:
    from dimo.evaluation import evaluate
    from dimo.space import search_space

    genotype = search_space.Genotype.from_string(args.genotype)
    meta, lr_scale, weight_decay, config = None, 1.0, None, default_config.get_config()
    seen = None  # only a learned recipe can have seen the dataset
    if args.workdir:
        from dimo.meta import propose, trained

        system = trained.load(args.workdir)
        config, meta = system.config, system.params
        if args.optimizer == "learned":
            proposal = propose.propose(system, args.dataset, args.data_dir)
            lr_scale, weight_decay = proposal["lr_scale"], proposal["weight_decay"]
            seen = system.warn_if_seen(proposal["dataset"])
    elif args.optimizer == "learned" or args.loss == "teacher":
        raise ValueError("--optimizer learned and --loss teacher need --workdir of a meta-training run")
    # The learned optimizer was meta-trained on one loss; it runs on that one unless told otherwise.
    loss = args.loss or (config.inner.loss if args.optimizer == "learned" else "ce")
    setup = evaluate.setup_for(config, steps=args.steps, optimizer=args.optimizer, loss=loss,
                               learning_rate=args.lr, seed=args.seed, batch_size=args.batch_size)
    lopt_cfg, teacher_cfg = evaluate.learned_configs(config)
    dataset = common.load_dataset(args, config.data.image_size)
    result = evaluate.train_genotype(genotype, dataset, setup, meta, lopt_cfg, teacher_cfg, lr_scale,
                                     weight_decay, progress=not args.json)
    if seen is not None:
        result["seen_in_meta_training"] = seen
    judged = common.judge_line(result, setup, config)
    if not args.json:
        print(common.table([("dataset", result["dataset"]), ("genotype", result["genotype"]),
                      ("training", f"{result['steps']} steps, {result['optimizer']} on {result['loss']}"),
                      ("val accuracy", f"{result['val_accuracy']:.4f}"),
                      ("test accuracy", f"{result['test_accuracy']:.4f} ({result['normalisation']})"),
                      ("cell table", judged),
                      ("final train loss", f"{result['final_train_loss']:.4f}"),
                      ("parameters", f"{result['params']:,}"),
                      ("training time", f"{result['train_s']:.1f} s")]))
    return result

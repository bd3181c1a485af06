"""``dimo search``: baseline architecture search on the same supernet."""

from __future__ import annotations

from dimo.cli import common
from dimo.configs import default as default_config
from dimo.search import registry as search_methods

HELP = "baseline architecture search on the same supernet"


def add_arguments(parser) -> None:
    parser.add_argument("--method", choices=search_methods.METHODS, required=True)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--candidates", type=int, default=5, help="random search: genotypes tried")
    parser.add_argument("--budget", type=float, default=None,
                        help="wall-clock seconds of search, compile included (instead of --steps/--candidates)")
    parser.add_argument("--candidate_steps", type=int, default=None,
                        help="random search: training steps per candidate (default: steps / candidates)")
    parser.add_argument("--evaluate_steps", type=int, default=1000,
                        help="train the selected cell afresh for this many steps and report its test "
                             "accuracy (1000: the cell table's protocol; 0: skip)")


def run(args) -> dict:
    from dimo.search import discrete

    for flag, value in (("--budget", args.budget), ("--candidate_steps", args.candidate_steps),
                        ("--steps", args.steps), ("--candidates", args.candidates)):
        if value is not None and value <= 0:
            raise ValueError(f"{flag} must be positive, got {value:g}")
    config = default_config.get_config()
    setup = discrete.SearchSetup.from_config(config, steps=args.steps, seed=args.seed,
                                              num_candidates=args.candidates,
                                              candidate_steps=args.candidate_steps, budget_s=args.budget)
    dataset = common.load_dataset(args, config.data.image_size)
    result = search_methods.run(args.method, dataset, setup).to_dict()
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
        judged = common.judge_line(evaluation, eval_setup, config)
        result["evaluation"] = evaluation
        rows += [("test accuracy", f"{evaluation['test_accuracy']:.4f} (the cell trained afresh for "
                                   f"{evaluation['steps']} steps)"), ("cell table", judged)]
    if not args.json:
        print(common.table(rows))
    return result

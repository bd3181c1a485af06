"""``dimo propose``: propose an architecture and recipe for a dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dimo.cli import common

HELP = "propose an architecture and recipe for a dataset"


def add_arguments(parser) -> None:
    parser.add_argument("--workdir", default=None,
                        help="a train_meta.py workdir, or several seeds of one config (comma-separated): "
                             "then the cell of their mean decoded mixture (default: the system shipped "
                             "in the package)")
    parser.add_argument("--out", default=None, help="PNG of the cell (default W/cell_<dataset>.png with "
                                                    "--workdir, none without)")
    parser.add_argument("--rank", type=int, default=None, metavar="N",
                        help="rerank the N most probable cells by the predictor the system's meta-training "
                             "datasets' cell tables teach (the recommended recipe: 9; 0: the decoded cell)")
    parser.add_argument("--verify", type=int, default=0, metavar="N",
                        help="also train the N most probable cells briefly on the dataset (successive "
                             "halving on its validation split) and return the best")
    parser.add_argument("--verify_steps", type=int, default=100, help="--verify: steps of the first rung")


def run(args) -> dict:
    from dimo.meta import propose
    from dimo.search import predictor
    from dimo.space import search_space

    if args.verify < 0:
        raise ValueError(f"--verify takes a number of cells (0 for none), got {args.verify}")
    runs = common.load_runs(args.workdir)
    system = runs[0]
    result = predictor.propose(runs, args.dataset, args.data_dir, args.seed, rank=args.rank)
    system.warn_if_seen(result["dataset"])
    result["meta_training_datasets"] = list(system.meta_training_datasets)
    result["system"] = str(system.workdir) if args.workdir else "pretrained (shipped in the package)"
    out = args.out or (system.workdir / f"cell_{result['dataset']}.png" if args.workdir else None)
    if out:
        propose.draw_cell(search_space.Genotype.from_string(result["genotype"]), Path(out),
                          f"{result['dataset']}: {result['genotype']}")
    result["cell_png"] = str(out) if out else None
    if not args.json:
        print(common.table([("dataset", result["dataset"]), ("genotype", result["genotype"]),
                      *_ranked_lines(result),
                      ("system", f"{result['system']}, meta-trained on "
                                 f"{', '.join(result['meta_training_datasets'])}"),
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
                      ("cell drawing", result["cell_png"] or "none (pass --out cell.png)"),
                      *_transferred_lines(result)]))
        print(common.probabilities(result["edge_op_probabilities"]))
    if args.verify:
        from dimo.search import discrete, verify

        config = system.config
        setup = discrete.SearchSetup.from_config(config, seed=args.seed)
        # The dataset as `dimo evaluate` and the cell table read it, not propose's view of it
        # (meta-training's channels and split seed): the check trains the cells as they will be.
        checked = verify.verify(result["arch_weights"], common.load_dataset(args, config.data.image_size), args.verify,
                                setup, min_steps=args.verify_steps)
        result["verified"] = checked
        if not args.json:
            print(common.table([("verified", checked["genotype"]),
                          ("", f"the {_ordinal(checked['rank_in_distribution'])} most probable of {len(checked['candidates'])} "
                               f"cells, by successive halving on the validation split ("
                               + ", ".join(f"{len(r['candidates'])} x {r['steps']}" for r in checked["rungs"])
                               + f" steps) in {checked['verify_s']:.1f} s")]))
    return result


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _transferred_lines(result: dict) -> list[tuple[str, str]]:
    """The baseline beside the proposal: what the meta-training tables alone would give."""
    beside = result.get("transferred")
    if not beside:
        return [("transferred", "none (no top-judge table of a meta-training dataset other than this one)")]
    figures = lambda accuracy: ", ".join(f"{d} {a:.4f}" for d, a in accuracy.items())  # noqa: E731
    lines = [("transferred", beside["genotype"]),
             ("", f"the best network of the top-judge tables of {', '.join(beside['taught_by'])} "
                  f"(test {figures(beside['test_accuracy'])}), what they give without meta-learning: "
                  f"train both to compare (dimo train --genotype transferred)")]
    if beside["proposed_test_accuracy"]:
        lines.append(("", f"the proposed network in the same tables: test {figures(beside['proposed_test_accuracy'])}"))
    return lines


def _ranked_lines(result: dict) -> list[tuple[str, str]]:
    ranked = result.get("ranked")
    if not ranked:
        return []
    if "note" in ranked:
        return [("ranked", ranked["note"])]
    return [("ranked", f"the {_ordinal(ranked['rank_in_distribution'])} most probable of {len(ranked['candidates'])} "
                       f"cells by the predictor taught by the cell table of {', '.join(ranked['taught_by'])}"),
            ("decoded", f"{result['decoded_genotype']} (--rank 0)")]

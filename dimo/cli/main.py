"""The ``dimo`` command: use a meta-trained system, and the baselines it is measured against.

    dimo propose  --dataset folder:/my/images [--workdir W[,W2,...]] [--rank 9] [--verify 9] [--json]
    dimo train    --dataset folder:/my/images --out MODEL [--genotype G | --rank 9] [--budget 600 | --epochs 30]
                  [--preset small|nas-bench-201] [--optimizer sgd|adam|learned] [--resume]
    dimo predict  --model MODEL --images photo.png|folder/ [--json]
    dimo evaluate --genotype '|nor_conv_3x3~0|+...' --dataset cifar10 [--steps 1000]
                  [--optimizer sgd|adam|learned --workdir W] [--json]
    dimo search   --method random|darts|darts2|gdas|drnas|sdarts|darts-pt|evolution|hyperband|tpe|nao
                  --dataset cifar10 [--steps 300 | --budget 600] [--json]
    dimo ablate   --workdir W --dataset cifar10 [--seeds 3] [--json]
    dimo compare  --workdir W[,W2] --dataset cifar10 --budget 120 [--seeds 2] [--methods ...]

Every subcommand prints a readable table, or one JSON object on stdout with ``--json``.
Bad input ends with one ``error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from dimo.cli import ablate, compare, evaluate, predict, propose, search, train

SUBCOMMANDS = {"propose": propose, "train": train, "predict": predict, "evaluate": evaluate, "search": search,
               "ablate": ablate, "compare": compare}


class UsageError(Exception):
    """A command line argparse refuses: reported as the one ``error:`` line every bad input gets."""


class _Parser(argparse.ArgumentParser):
    # argparse's own error() prints the usage block and exits; `dimo` reports bad input in one line.
    def error(self, message):
        raise UsageError(f"{message} (`{self.prog} --help` lists the arguments)")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="dimo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)
    for name, module in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=module.HELP)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        if getattr(module, "NEEDS_DATASET", True):
            p.add_argument("--dataset", required=True, help="registry name or folder:/path")
            p.add_argument("--data_dir", default=None, help="raw data folder (default $DIMO_DATA_DIR)")
            p.add_argument("--seed", type=int, default=0,
                           help="propose: which support set is read; train, evaluate, search: the "
                                "training seed; ablate: the first of --seeds training seeds")
        module.add_arguments(p)
        p.set_defaults(func=module.run)
    return top


def main(argv=None) -> int:
    try:
        args = parser().parse_args(argv)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if getattr(args, "lr", None) is None and args.command == "evaluate":
        args.lr = 0.1 if args.optimizer == "sgd" else 3e-3
    from absl import logging

    from datasets_meta import DatasetError
    from dimo.infra import runtime
    from dimo.infra.workdir import WorkdirError
    from dimo.space.search_space import GenotypeError

    logging.set_verbosity(logging.ERROR)  # orbax logs every restore, and a read-only reader's options
    try:
        runtime.enable_compilation_cache()
        result = args.func(args)
    except (DatasetError, WorkdirError, GenotypeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `dimo predict ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if args.json:
        print(json.dumps(result, default=float))
    from dimo.infra import looks

    # A test figure on a held-out dataset, from a checkout: one more look in the ledger.
    try:
        held_out_look = (hasattr(args, "dataset") and not (isinstance(result, dict) and result.get("held_out_look_recorded"))
                         and looks.test_figures(result))
        if held_out_look and looks.record(args.dataset, result, what=f"dimo {args.command}"):
            print(f"note: {args.dataset} is held out (research/dataset_roles.json); this look at its "
                  f"test split is appended to {looks.ledger_path()}", file=sys.stderr)
    except OSError as e:
        print(f"warning: this look at {args.dataset}'s test split could not be added to the ledger "
              f"{looks.ledger_path()} ({e.strerror or e}); add it by hand", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Judge a meta-training run's proposals against the cell table: one results row per run.

    DIMO_DATA_DIR=../shared/data python -m research.proposals.judge_proposals --workdir runs/x \\
        --datasets fashion_mnist,cifar10 [--out results/proposals/proposals.jsonl]
    python -m research.proposals.judge_proposals --report     # every row so far, against today's table

For each dataset: the proposal (``dimo.meta.propose``), trained from scratch under the cell
table's protocol with the table's seeds, its mean test accuracy and that mean's percentile
among the table's cells of the dataset (``dimo.evaluation.cell_table``), and whether the dataset was
among the run's meta-training datasets. The row also carries the run's config (datasets,
seed, meta-steps, horizon) and its meta-training wall time, and is appended to ``--out``
as one JSON line, so docs/results.md's variant table is reproduced by re-running this command.
``--report`` prints the rows of ``--out`` as a Markdown table, each mean accuracy's
percentile recomputed against the cell table as it is now (it grows while it is built).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dimo.infra.manifest import write_manifest


def judge(workdir: str, datasets: list[str], data_dir=None, verify: int = 0, verify_steps: int = 100,
          last_iterate: bool = False) -> dict:
    """One row for ``workdir``; with several comma-separated workdirs (runs of one config with
    different seeds) the proposal is the connected cell of their mean decoded mixture."""
    from dimo.evaluation import cell_table
    from dimo.meta import propose, trained
    from dimo.search import discrete
    from dimo.search import verify as verify_lib

    workdirs = [w.strip() for w in workdir.split(",") if w.strip()]
    systems = [trained.load(w, last_iterate=last_iterate) for w in workdirs]
    config = systems[0].config
    _, table = cell_table.read()
    summaries = [json.loads((Path(w) / "summary.json").read_text()) if (Path(w) / "summary.json").is_file()
                 else {} for w in workdirs]
    variant = (f"{config.decoder.get('relaxation', 'softmax')}, lifetime {config.inner.get('lifetime', 0)}"
               + (", unit-scale free ops" if config.model.get("normalize_free_ops") else "")
               + "".join(f", {k}={v}" for k, v in changed_from_default(config).items()
                         if k not in _NAMED_IN_VARIANT)
               + (", proposed from the last iterate" if last_iterate and config.meta.get("ema_decay") else "")
               + (f", mean mixture of {len(systems)} runs" if len(systems) > 1 else ""))
    walls = [s_.get("timing", {}).get("total_s") for s_ in summaries]
    # The runs' names, not their paths: the command line in the manifest holds the paths.
    row = {"meta_training_run": ",".join(Path(w).name for w in workdirs), "meta_datasets": config.datasets,
           "seed": ",".join(str(s_.config.seed) for s_ in systems), "variant": variant,
           "meta_steps": systems[0].step, "horizon": config.inner.steps,
           "meta_train_s": sum(walls) if all(walls) else None, "proposals": {}}
    for name in datasets:
        proposal = propose.propose_from_runs(systems, name, data_dir)
        dataset = ev_dataset(name, data_dir)
        row["proposals"][proposal["dataset"]] = {
            "genotype": proposal["genotype"], "seen_in_meta_training": proposal["seen_in_meta_training"],
            **judge_cell(proposal["genotype"], dataset, table), "lr_scale": proposal["lr_scale"]}
        if verify:
            setup = discrete.SearchSetup.from_config(config)
            checked = verify_lib.verify(proposal["arch_weights"], dataset, verify, setup, min_steps=verify_steps)
            row["proposals"][proposal["dataset"]]["verified"] = {
                "n": verify, "min_steps": verify_steps, "genotype": checked["genotype"],
                "rank_in_distribution": checked["rank_in_distribution"], "verify_s": checked["verify_s"],
                "steps": checked["steps"], **judge_cell(checked["genotype"], dataset, table)}
    return row


def judge_cell(genotype: str, dataset, table: dict) -> dict:
    """``genotype`` trained under the cell table's protocol with its seeds, judged against
    ``table`` (``dimo.evaluation.cell_table.train_and_judge``)."""
    from dimo.evaluation import cell_table

    return cell_table.train_and_judge(genotype, dataset, table)


def judged_columns(genotype: str, judged: dict, cells: dict) -> str:
    """The Markdown columns ``cell | test (seeds) | table percentile`` of a judged cell
    (``judge_cell``'s fields), the percentile against today's table ``cells``."""
    from dimo.evaluation import cell_table

    pct = f"{cell_table.percentile(cells.values(), judged['test_accuracy_mean']):.1f}" if cells else "n/a"
    tests = ", ".join(f"{t:.4f}" for t in judged["test_accuracy_per_seed"])
    return f"`{genotype.replace('|', chr(92) + '|')}` | {judged['test_accuracy_mean']:.4f} ({tests}) | {pct}"


# Already spelled out in the variant's first words, or not a variant at all.
_NAMED_IN_VARIANT = {"decoder.relaxation", "inner.lifetime", "model.normalize_free_ops", "datasets", "seed"}


def changed_from_default(config) -> dict:
    """{dotted key: value} of ``config``'s settings that differ from the default config's."""
    from dimo.configs import default

    def flat(tree, prefix=""):
        out = {}
        for k, v in tree.items():
            out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    base, ours = flat(default.get_config().to_dict()), flat(config.to_dict())
    return {k: v for k, v in ours.items() if base.get(k, object()) != v}


def ev_dataset(name: str, data_dir):
    from datasets_meta import load
    from dimo.evaluation import cell_table

    return load(name, data_dir, image_size=cell_table.PROTOCOL["image_size"])


def report(path: str) -> str:
    """The rows of ``path`` as a Markdown table, percentiles against the current cell table."""
    from dimo.evaluation import cell_table

    _, table = cell_table.read()
    lines = ["| run | meta-training | seed | relaxation / lifetime | proposal | test (2 seeds) | table percentile | cells | meta-train s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for line in Path(path).read_text().splitlines():
        row = json.loads(line)
        for name, p_ in row["proposals"].items():
            cells = table.get(name, {})
            seen = "seen" if p_["seen_in_meta_training"] else "unseen"
            wall = f"{row['meta_train_s']:.0f}" if row.get("meta_train_s") else "?"
            runs = row["meta_training_run"].replace(",", "+")
            run = f"| {runs} | {row['meta_datasets']} | {row['seed']} | {row.get('variant', '')} | "
            lines.append(f"{run}{name} ({seen}): {judged_columns(p_['genotype'], p_, cells)} | {len(cells)} | {wall} |")
            if "verified" in p_:
                v = p_["verified"]
                lines.append(f"{run}{name} ({seen}), `--verify {v['n']}` ({v['verify_s']:.0f} s, cell "
                             f"{v['rank_in_distribution']} of {v['n']}): {judged_columns(v['genotype'], v, cells)} | "
                             f"{len(cells)} | {wall} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", help="a train_meta.py workdir, or several (comma-separated) to judge "
                                     "the cell of their mean decoded mixture")
    p.add_argument("--report", action="store_true", help="print the rows so far as a table")
    p.add_argument("--datasets", default="fashion_mnist,cifar10")
    p.add_argument("--data_dir", default=None)
    p.add_argument("--out", default="results/proposals/proposals.jsonl")
    p.add_argument("--verify", type=int, default=0, metavar="N",
                   help="also judge `dimo propose --verify N`'s cell (and time it)")
    p.add_argument("--verify_steps", type=int, default=100)
    p.add_argument("--last_iterate", action="store_true",
                   help="propose from the last meta-parameters, not the run's moving average (meta.ema_decay)")
    args = p.parse_args(argv)
    if args.report:
        print(report(args.out))
        return 0
    if not args.workdir:
        p.error("--workdir is required (or --report)")
    from dimo.infra import runtime

    runtime.enable_compilation_cache()
    row = judge(args.workdir, [d.strip() for d in args.datasets.split(",") if d.strip()], args.data_dir,
                args.verify, args.verify_steps, args.last_iterate)
    with open(args.out, "a") as f:
        f.write(json.dumps(row) + "\n")
    write_manifest(args.out, append=True)
    for name, p_ in row["proposals"].items():
        pct = "n/a" if p_["table_percentile"] is None else f"{p_['table_percentile']:.1f}"
        print(f"{name:<14} {'seen' if p_['seen_in_meta_training'] else 'unseen':<6} {p_['genotype']}  "
              f"test {p_['test_accuracy_mean']:.4f} ({', '.join(f'{t:.4f}' for t in p_['test_accuracy_per_seed'])})  "
              f"percentile {pct}")
        if "verified" in p_:
            v = p_["verified"]
            vpct = "n/a" if v["table_percentile"] is None else f"{v['table_percentile']:.1f}"
            print(f"{'':<14} verify {v['n']} {v['genotype']}  test {v['test_accuracy_mean']:.4f}  "
                  f"percentile {vpct}  ({v['verify_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

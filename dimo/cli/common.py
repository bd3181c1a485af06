"""What the subcommands share: tables on stdout, loading runs and datasets, the table's verdict."""

from __future__ import annotations


def table(rows: list[tuple[str, object]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def probabilities(entry: dict) -> str:
    lines = ["edge      " + "  ".join(f"{op[:12]:>12}" for op in next(iter(entry.values())))]
    for edge, probs in entry.items():
        lines.append(f"{edge:<8}  " + "  ".join(f"{p:>12.3f}" for p in probs.values()))
    return "\n".join(lines)


def load_runs(spec: str | None) -> list:
    """``--workdir``'s runs, loaded: one workdir, or several seeds of one config, comma-separated;
    without one, the system shipped in the package."""
    from dimo.meta import trained

    if not spec:
        return [trained.load(trained.pretrained_workdir())]
    return trained.load_runs([w.strip() for w in spec.split(",") if w.strip()])

def load_dataset(args, image_size):
    from datasets_meta import load

    return load(args.dataset, args.data_dir, image_size=image_size)


def judge_line(result: dict, setup, config) -> str:
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
            f"sizes; python -m research.cell_table.build builds it)")

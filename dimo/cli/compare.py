"""``dimo compare``: DiMO's proposals beside every search method on one budget."""

from __future__ import annotations

import json
from pathlib import Path

from dimo.cli import common
from dimo.infra import looks
from dimo.infra.manifest import write_manifest
from dimo.search import registry as search_methods

HELP = "DiMO's proposals beside every search method on one budget"
JUDGES = ("table", "A", "B", "C")  # the cell table's protocol, or dimo.evaluation.judge.PROTOCOLS


def add_arguments(parser) -> None:
    parser.add_argument("--workdir", required=True, help="meta-training run(s), as for propose")
    parser.add_argument("--budget", type=float, required=True, help="wall-clock seconds per search, compile included")
    parser.add_argument("--seeds", type=int, default=None,
                        help="runs of each seeded method (default 1; with a top judge, one per meta-training run)")
    parser.add_argument("--methods", default="", help=f"comma-separated (default all: {','.join(search_methods.METHODS)})")
    parser.add_argument("--rank", type=int, default=9, help="propose --rank N: the predictor's rerank (0: the decoded cell)")
    parser.add_argument("--verify", type=int, default=9, help="propose --verify N (0: skip)")
    parser.add_argument("--verify_steps", type=int, default=100, help="--verify: steps of the first rung")
    parser.add_argument("--candidate_steps", type=int, default=300, help="discrete searches: steps per candidate")
    parser.add_argument("--judge", choices=JUDGES, default="table",
                        help="how chosen cells are trained and judged: the cell table's protocol (2 seeds) or a top "
                             "judge's (3 seeds a run; C is research/comparison/PROTOCOL.md's)")
    parser.add_argument("--fixed_cells", default=None,
                        help="cells judged beside, unsearched: 'uniform' and/or NAME=GENOTYPE, comma-separated "
                             "(default: 'uniform' with a top judge, none with the table)")
    parser.add_argument("--judge_runs", default="", help="top judge: trainings to reuse, CSV logs comma-separated "
                        "(e.g. results/cell_table/top_judge_runs.csv: a fixed cell's seeds 0-2)")
    parser.add_argument("--judge_table", default=None, help="top judge: a table of the same protocol for percentiles "
                        "(e.g. results/cell_table/top_judge_cifar10_C_stage2.csv)")
    parser.add_argument("--resume", action="store_true", help="continue the comparison in --out")
    parser.add_argument("--searches_only", action="store_true",
                        help="stop after the searches, the part that needs an idle machine (their budgets are wall "
                             "clock); the same command with --resume then trains and judges their cells")
    parser.add_argument("--out", default=None, help="folder for compare.md/.json/.png (default W/compare_<dataset>_<budget>s)")


def _settings(args, runs, methods) -> dict:
    """What a resumed comparison must share with the one it continues."""
    return {"dataset": args.dataset, "budget": args.budget, "seeds": args.seeds, "methods": methods,
            "rank": args.rank, "verify": args.verify, "verify_steps": args.verify_steps, "candidate_steps": args.candidate_steps,
            "judge": args.judge, "fixed_cells": args.fixed_cells, "runs": [str(r.workdir) for r in runs]}


def run(args) -> dict:
    from dimo.studies import compare

    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else list(
        search_methods.METHODS)
    unknown = [m for m in methods if m not in search_methods.METHODS]
    if unknown:
        raise ValueError(f"--methods: unknown {unknown}; choose from {', '.join(search_methods.METHODS)}")
    runs = common.load_runs(args.workdir)
    top = args.judge != "table"
    args.seeds = args.seeds if args.seeds is not None else (len(runs) if top else 1)
    args.fixed_cells = args.fixed_cells if args.fixed_cells is not None else ("uniform" if top else "")
    if args.rank < 0 or args.verify < 0:
        raise ValueError(f"--rank and --verify take a number of cells (0 for none), got {args.rank}, {args.verify}")
    for flag, value in (("--budget", args.budget), ("--seeds", args.seeds), ("--candidate_steps", args.candidate_steps)):
        if value <= 0:
            raise ValueError(f"{flag} must be positive, got {value:g}")
    if top:  # run r is the run of the r-th smallest meta-training seed, paired with search seed r
        seeds = [r.config.seed for r in runs]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"--judge {args.judge}: --workdir holds runs of one meta-training seed twice "
                             f"({seeds}); pass runs of distinct seeds")
        runs = sorted(runs, key=lambda r: r.config.seed)
    if top and args.seeds != len(runs):
        raise ValueError(f"--judge {args.judge} pairs search seed r with meta-training run r: pass as many "
                         f"--seeds as runs in --workdir (got {args.seeds} seed(s), {len(runs)} run(s))")
    if not top and (args.judge_runs or args.judge_table):
        raise ValueError("--judge_runs and --judge_table belong to a top judge: add --judge C")
    cells = compare.fixed_cells(args.fixed_cells)
    out = Path(args.out or runs[0].workdir / f"compare_{Path(args.dataset).name}_{args.budget:g}s")
    settings = _settings(args, runs, methods)
    if args.resume:
        saved = out / "settings.json"
        if not saved.is_file():
            raise ValueError(f"--resume: {out} holds no comparison to continue; drop --resume")
        if json.loads(saved.read_text()) != settings:
            raise ValueError(f"--resume: the arguments differ from those {out} was started with "
                             f"({saved}); pass the same, or a new --out")
    elif out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} already holds a comparison; pass --resume to continue it, or --out NEW_DIR "
                         "(nothing is overwritten)")
    dataset = common.load_dataset(args, runs[0].config.data.image_size)
    judging = _judging(args, dataset, out) if top else None
    # The searches read no test split. The judging runs for hours and logs test figures as it goes:
    # its look at a held-out test split is recorded before its first training, so a killed run counts.
    recorded = []

    def record_look():
        if top:
            recorded.append(looks.record(args.dataset, {}, what=f"dimo compare --judge {args.judge}: the judged "
                                         f"cells' test accuracies, in {out}"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "settings.json").write_text(json.dumps(settings, indent=1))
    result = compare.compare(runs, dataset, args.budget, args.seeds, methods, args.verify, args.candidate_steps,
                             args.verify_steps, args.data_dir, progress=not args.json, judging=judging,
                             cells=cells, rows_path=out / "rows.jsonl", rank=args.rank,
                             dataset_spec=args.dataset, searches_only=args.searches_only,
                             before_judging=record_look)
    if args.searches_only:
        if not args.json:
            print(f"searched: {result['searched']} entries in {out}/searched.jsonl; the same command with "
                  "--resume (without --searches_only) trains and judges their cells")
        return result
    (out / "compare.json").write_text(json.dumps(result, indent=1, default=float))
    (out / "compare.md").write_text(compare.markdown(result) + "\n")
    compare.plot(result, out / "compare.png")
    write_manifest(out / "compare.json", config=runs[0].config)
    result["out"] = str(out)
    result["held_out_look_recorded"] = any(recorded)
    if not args.json:
        print(compare.markdown(result) + f"\n\nwritten: {out}/compare.md, compare.json, compare.png")
    return result


def _judging(args, dataset, out: Path):
    """A top judge: the dataset at its image size, a training log in ``out`` and the reused ones."""
    from dimo.evaluation import cell_table, judge
    from dimo.studies import compare

    reuse = [Path(p.strip()) for p in args.judge_runs.split(",") if p.strip()]
    missing = [str(p) for p in reuse + ([Path(args.judge_table)] if args.judge_table else []) if not p.is_file()]
    if missing:
        raise ValueError(f"no such file: {', '.join(missing)}")
    table = cell_table.read(args.judge_table)[1].get(dataset.name, {}) if args.judge_table else {}
    if args.judge_table and not table:
        raise ValueError(f"--judge_table {args.judge_table} has no {dataset.name} rows")
    size = judge.PROTOCOLS[args.judge]["image_size"]
    judged = dataset if dataset.image_shape[0] == size else common.load_dataset(args, size)
    return compare.Judging(args.judge, judged, judge.TrainingLog(out / "judge_runs.csv", reuse), table)

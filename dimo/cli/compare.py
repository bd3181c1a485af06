"""``dimo compare``: DiMO's proposals beside every search method on one budget."""

from __future__ import annotations

import json
from pathlib import Path

from dimo.cli import common
from dimo.infra.manifest import write_manifest
from dimo.search import registry as search_methods

HELP = "DiMO's proposals beside every search method on one budget"


def add_arguments(parser) -> None:
    parser.add_argument("--workdir", required=True, help="meta-training run(s), as for propose")
    parser.add_argument("--budget", type=float, required=True, help="wall-clock seconds per search, compile included")
    parser.add_argument("--seeds", type=int, default=1, help="runs of each seeded method")
    parser.add_argument("--methods", default="", help=f"comma-separated (default all: {','.join(search_methods.METHODS)})")
    parser.add_argument("--verify", type=int, default=9, help="propose --verify N (0: skip)")
    parser.add_argument("--verify_steps", type=int, default=100, help="--verify: steps of the first rung")
    parser.add_argument("--candidate_steps", type=int, default=300, help="discrete searches: steps per candidate")
    parser.add_argument("--out", default=None, help="folder for compare.md/.json/.png (default W/compare_<dataset>_<budget>s)")


def run(args) -> dict:
    from dimo.studies import compare

    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else list(
        search_methods.METHODS)
    unknown = [m for m in methods if m not in search_methods.METHODS]
    if unknown:
        raise ValueError(f"--methods: unknown {unknown}; choose from {', '.join(search_methods.METHODS)}")
    for flag, value in (("--budget", args.budget), ("--seeds", args.seeds), ("--candidate_steps", args.candidate_steps)):
        if value <= 0:
            raise ValueError(f"{flag} must be positive, got {value:g}")
    runs = common.load_runs(args.workdir)
    out = Path(args.out or runs[0].workdir / f"compare_{Path(args.dataset).name}_{args.budget:g}s")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} already holds a comparison; pass --out NEW_DIR (nothing is overwritten)")
    dataset = common.load_dataset(args, runs[0].config.data.image_size)
    result = compare.compare(runs, dataset, args.budget, args.seeds, methods, args.verify, args.candidate_steps,
                             args.verify_steps, args.data_dir, progress=not args.json)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(json.dumps(result, indent=1, default=float))
    (out / "compare.md").write_text(compare.markdown(result) + "\n")
    compare.plot(result, out / "compare.png")
    write_manifest(out / "compare.json", config=runs[0].config)
    result["out"] = str(out)
    if not args.json:
        print(compare.markdown(result) + f"\n\nwritten: {out}/compare.md, compare.json, compare.png")
    return result

"""How the cells a run would propose drift over meta-training: ops per window of meta-steps.

    python -m research.proposals.op_drift runs/v7_dirichlet runs/v8_steps300_seed0 [--window 50] [--out T.md]

Reads each workdir's ``metrics.jsonl`` (the genotype decoded for every dataset at every
meta-step) and prints, per window of ``--window`` meta-steps, the mean number of the cell's
6 edges holding each op, over steps and datasets. A rise of ``skip_connect`` and
``avg_pool_3x3`` with training is the collapse toward parameter-free ops that DARTS-style
relaxations are known for (NAS-Bench-201's first-order DARTS ends in the all-skip cell).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from dimo.infra import workdir as workdir_files
from dimo.infra.manifest import write_manifest
from dimo.space import search_space


def drift(workdir: str, window: int) -> list[dict]:
    """[{"steps": (first, last), op: mean edges holding it, ...}] per window of meta-steps."""
    records = workdir_files.read_metrics(Path(workdir))
    out = []
    for start in range(0, len(records), window):
        part = records[start:start + window]
        counts = [[search_space.Genotype.from_string(g).ops.count(op) for op in search_space.OPS]
                  for r in part for g in r.get("genotypes", {}).values()]
        if counts:
            out.append({"steps": (part[0]["step"], part[-1]["step"]),
                        **dict(zip(search_space.OPS, np.mean(counts, axis=0).round(2).tolist()))})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workdirs", nargs="+")
    p.add_argument("--window", type=int, default=50)
    p.add_argument("--out", type=Path, help="also write the table to this .md file, with its manifest")
    args = p.parse_args(argv)
    if args.window < 1:
        print("error: --window must be at least 1", file=sys.stderr)
        return 2
    lines = ["| run | meta-steps | " + " | ".join(search_space.OPS) + " |", "|---|---|" + "---|" * len(search_space.OPS)]
    for workdir in args.workdirs:
        if not (Path(workdir) / "metrics.jsonl").is_file():
            print(f"error: {workdir} has no metrics.jsonl; pass train_meta.py workdirs", file=sys.stderr)
            return 2
        lines += [f"| {Path(workdir).name} | {row['steps'][0]}-{row['steps'][1]} | "
                  + " | ".join(f"{row[op]:.2f}" for op in search_space.OPS) + " |" for row in drift(workdir, args.window)]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
        write_manifest(args.out)
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

"""Build the pretrained DiMO shipped in the package (``dimo/pretrained/``).

    DIMO_DATA_DIR=../shared/data python -m tools.build_pretrained

Meta-trains the recommended config (``dimo/configs/recommended.py``: the default config for 200
meta-steps, ``--steps``) on every meta-training dataset of ``research/dataset_roles.json`` (never a
held-out one), in a workdir
under ``runs/``, then copies its ``config.json`` and newest checkpoint into
``dimo/pretrained/system/`` and writes ``dimo/pretrained/manifest.json`` (command, config, git
revision, wall time, datasets, machine). ``dimo propose`` without ``--workdir`` answers with it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from dimo.infra import looks, manifest

TARGET = Path(__file__).resolve().parents[1] / "dimo" / "pretrained"
DEFAULT_STEPS = 200  # recommended.get_config().meta.steps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="meta-steps")
    parser.add_argument("--workdir", default="runs/pretrained", help="where meta-training runs (resumable)")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)

    from dimo.configs import recommended
    from dimo.infra import integrity
    from dimo.meta import meta_train

    datasets = looks.roles().get("meta_training")
    if not datasets:
        print("error: research/dataset_roles.json names no meta_training datasets; run from a checkout",
              file=sys.stderr)
        return 2
    config = recommended.get_config()
    config.datasets = ",".join(datasets)
    config.meta.steps = args.steps
    revision = manifest.git_revision()
    start = time.perf_counter()
    summary = meta_train.run(config, args.workdir, resume=args.resume, overwrite=not args.resume)
    wall_s = time.perf_counter() - start
    workdir = Path(args.workdir)
    step, _ = integrity.latest_intact(workdir / "checkpoints")
    if step is None or step < args.steps:
        # A run stopped early (a signal, too many bad steps) must not replace the shipped system.
        print(f"error: meta-training stopped at meta-step {step} of {args.steps}; {TARGET} is unchanged. "
              f"Finish it with: python -m tools.build_pretrained --resume --workdir {workdir}", file=sys.stderr)
        return 1
    system = TARGET / "system"
    shutil.rmtree(system, ignore_errors=True)
    (system / "checkpoints").mkdir(parents=True)
    shutil.copy2(workdir / "config.json", system / "config.json")
    shutil.copytree(workdir / "checkpoints" / str(step), system / "checkpoints" / str(step))
    record = {"command": manifest.this_command(), "git_revision": revision, "datasets": datasets,
              "meta_steps": args.steps, "checkpoint_step": step, "wall_s": wall_s,
              "meta_loss_first_10pct": summary.get("meta_loss_first_10pct"),
              "meta_loss_last_10pct": summary.get("meta_loss_last_10pct"), "machine": manifest.machine(),
              "date": time.strftime("%Y-%m-%d"), "config": config.to_dict()}
    (TARGET / "manifest.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    size = sum(p.stat().st_size for p in system.rglob("*") if p.is_file())
    print(f"pretrained system: {system} ({size / 1e6:.2f} MB, meta-step {step} of {args.steps}, "
          f"{wall_s:.0f} s on {', '.join(datasets)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Runs that differ only in their seed share one compiled meta-step program.

    python -m benchmarks.seed_programs        (about a minute here)

Smoke-config meta-training, 2 meta-steps with seed 0 and then with seed 1, in one process
with an empty compilation cache of its own: each run's compile time (``timing.compile_s`` of
its summary.json) and first meta-losses. Before the seed became an argument of the program
(it was a constant in it), the second run compiled again.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def main() -> None:
    scratch = tempfile.mkdtemp()
    os.environ["DIMO_CACHE_DIR"] = str(Path(scratch) / "cache")
    from dimo.configs import smoke
    from dimo.infra import runtime
    from dimo.meta import meta_train

    runtime.enable_compilation_cache()
    for seed in (0, 1):
        config = smoke.get_config()
        config.meta.steps, config.seed = 2, seed
        workdir = Path(scratch) / f"seed{seed}"
        meta_train.run(config, workdir, progress=False)
        compile_s = json.loads((workdir / "summary.json").read_text())["timing"]["compile_s"]
        losses = [json.loads(line)["meta_loss"] for line in (workdir / "metrics.jsonl").read_text().splitlines()]
        print(f"seed {seed}: compile_s {compile_s:5.1f}  meta_loss {losses}")


if __name__ == "__main__":
    main()

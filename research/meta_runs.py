"""Meta-training runs a study starts: ``train_meta.py`` in a subprocess, resumed from its workdir.

    args, overrides = split_overrides(sys.argv[1:])      # "... -- --config.meta.steps=300"
    seconds = meta_train("dimo/configs/recommended.py", ["digits", "mnist"], 0, workdir, overrides)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def split_overrides(argv) -> tuple[list[str], list[str]]:
    """(the script's own arguments, the config overrides after a ``--`` for ``train_meta.py``)."""
    argv = list(argv)
    if "--" not in argv:
        return argv, []
    return argv[:argv.index("--")], argv[argv.index("--") + 1:]


def meta_train(config: str, datasets, seed: int, workdir: Path, overrides=(), data_dir=None) -> float:
    """Runs (or resumes, or finds finished) the meta-training; its elapsed seconds. Raises
    ``subprocess.CalledProcessError`` if it fails (the same call resumes it). A finished run is
    resumed too, so ``train_meta.py`` checks that it is the run asked for (datasets, seed, model;
    a longer ``meta.steps`` continues it); with nothing left to run it leaves the run as it was."""
    workdir = Path(workdir)
    command = [sys.executable, str(REPO / "train_meta.py"), "--config", config, "--datasets", ",".join(datasets),
               f"--config.seed={seed}", "--workdir", str(workdir), "--noprogress", *overrides]
    if data_dir:
        command += ["--data_dir", data_dir]
    if (workdir / "checkpoints").is_dir():
        command.append("--resume")
    subprocess.run(command, check=True, cwd=REPO)
    return _elapsed(workdir)


def _elapsed(workdir: Path) -> float:
    """Meta-training seconds over every session of the run: ``time_s`` counts from its process's
    start, so it restarts after each resume; the sum of each session's last value."""
    times = [float(json.loads(line)["time_s"]) for line in (workdir / "metrics.jsonl").read_text().splitlines()
             if line.strip()]
    ends = [a for a, b in zip(times, times[1:]) if b < a]
    return float(sum(ends) + times[-1])

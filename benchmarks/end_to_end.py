"""Figure 6: wall time of ``train_meta.py`` runs, broken into data, compile and meta-steps.

Runs the real command in a fresh process (with the persistent compilation cache as
``benchmarks.run`` sets it: off, so the compile is a cold one, unless ``--quick``) and reads the breakdown ``dimo.meta.meta_train.run`` writes to
``summary.json``: data loading, initialisation, compiling the meta-step, the meta-steps
themselves, and the rest (checkpoints, metrics, the closing summary and plots).

With ``steps`` below the config's ``meta.steps`` the run is cut short and the full run's
time is projected as ``total - steps_s + config_steps * median_step_s`` (reported as a
projection, never as a measurement).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import ROOT


def measure(workdir: Path, datasets: str | None = None, steps: int | None = None,
            config_steps: int | None = None, data_dir: str | None = None) -> dict:
    """``config_steps``: the full run's meta-steps a projection is for (default: the default config's)."""
    if config_steps is None:
        from dimo.configs import default

        config_steps = default.get_config().meta.steps
    command = [sys.executable, "train_meta.py", f"--workdir={workdir}", "--progress=false"]
    command += [f"--datasets={datasets}"] if datasets else []
    command += [f"--config.meta.steps={steps}"] if steps else []
    command += [f"--data_dir={data_dir}"] if data_dir else []
    start = time.perf_counter()
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{out.stderr.strip()[-2000:]}")
    timing = json.loads((Path(workdir) / "summary.json").read_text())["timing"]
    other = timing["total_s"] - (timing["data_load_s"] + timing["init_s"] + timing["compile_s"]
                                 + timing["steps_s"])
    result = {"process_s": wall, "startup_s": wall - timing["total_s"], **timing, "other_s": other}
    if steps and steps < config_steps:
        result["projected_process_s"] = wall - timing["steps_s"] + config_steps * timing["median_step_s"]
    return result

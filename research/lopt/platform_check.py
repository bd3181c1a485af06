"""Grid points the GPU trained vmapped, retrained alone on this machine: how far apart they are.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.platform_check   # writes platform_check.json

``results/lopt_leave_one_out/trainings/`` mixes lone CPU trainings with trainings
``dimo.studies.prefill`` ran vmapped on a GPU. Each is the same training (initialisation, batches,
schedule); rounding differs. This retrains a few of the GPU's tuning-grid points alone (Adam,
weight decay 5e-4, tuning seed 0, three rates) and writes both figures side by side to
``results/lopt_leave_one_out/platform_check.json``.
"""

from __future__ import annotations

import json
import types

from dimo.infra.manifest import write_manifest
from research.baselines import ALL_3X3
from research.lopt.leave_one_out import CACHE, OUT

POINTS = (("digits", 40), ("cifar10", 200))  # (dataset, steps): short, so the check takes minutes


def main(argv=None) -> int:
    from dimo.space import search_space
    from dimo.studies import schedules
    from research.lopt.configs import scheduled

    config, genotype = scheduled.get_config(), search_space.Genotype.from_string(ALL_3X3)
    trained = types.SimpleNamespace(config=config)
    gpu = {e["key"]: e["metrics"] for e in schedules.TrainingCache(CACHE).entries() if e.get("trained") == "vmapped"}
    rows = []
    for name, steps in POINTS:
        dataset = schedules.load(trained, name)
        alone = schedules.TrainingCache(None)  # in memory: the GPU's figures stay the study's
        for lr in schedules.LEARNING_RATES["adam"][1::2]:
            key = schedules.training_key(config, genotype, dataset, "adam", lr, 5e-4, schedules.train_setup(steps), 0)
            if json.dumps(key, sort_keys=True) not in gpu:
                continue
            setup = schedules.train_setup(steps)
            cpu = alone.get(key, lambda: schedules.kept(_lone(config, genotype, dataset, lr, setup), 0))
            rows.append({"dataset": name, "steps": steps, "learning_rate": lr, "cpu_lone": cpu,
                         "gpu_vmapped": gpu[json.dumps(key, sort_keys=True)]})
            print(json.dumps(rows[-1]), flush=True)
    out = OUT / "platform_check.json"
    out.write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    write_manifest(out)
    return 0


def _lone(config, genotype, dataset, lr, schedule: dict) -> dict:
    from dimo.evaluation import evaluate
    from dimo.studies import schedules

    return evaluate.train_genotype(genotype, dataset, schedules.baseline_setup(config, "adam", schedule, seed=0),
                                   lr_scale=lr, weight_decay=5e-4, progress=False)


if __name__ == "__main__":
    from research import script

    script.run(main)

"""Figure 4: how long DiMO takes to propose an architecture and recipe for a dataset.

In a fresh process: ``propose_cold_s`` is restoring the meta-trained checkpoint plus the
first ``dimo.meta.propose.propose`` call (support-set load, embed, decode with their compile,
discretize, cost count); ``propose_warm_s`` is the median of later calls in the same
process (the dataset is read again each time, from its decode cache). Importing JAX and
DiMO is reported apart (``import_s``); the whole ``dimo propose`` command, process start
to exit, is timed by ``benchmarks.run`` as ``propose_cli_process_s``.

    python -m benchmarks.propose_latency '{"workdir": "runs/x", "dataset": "fashion_mnist"}'
"""

from __future__ import annotations

import sys
import time

from benchmarks.common import point_main


def measure(workdir: str, dataset: str, data_dir: str | None = None, reps: int = 5) -> dict:
    start = time.perf_counter()
    from dimo.meta import propose, trained

    imported = time.perf_counter()
    system = trained.load(workdir)
    first = propose.propose(system, dataset, data_dir)
    cold = time.perf_counter() - imported
    warm = []
    for _ in range(reps):
        tick = time.perf_counter()
        propose.propose(system, dataset, data_dir)
        warm.append(time.perf_counter() - tick)
    warm.sort()
    return {"dataset": first["dataset"], "genotype": first["genotype"], "import_s": imported - start,
            "seen_in_meta_training": first["seen_in_meta_training"],
            "propose_cold_s": cold, "propose_cold_load_s": first["load_s"],
            "propose_cold_embed_decode_s": first["embed_decode_s"],
            "propose_warm_s": warm[len(warm) // 2], "propose_warm_times_s": warm}


if __name__ == "__main__":
    sys.exit(point_main(measure))

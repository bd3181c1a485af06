"""One process's share of the study's baselines on a lent GPU machine (``run.sh`` starts one a
dataset, or with ``SERIAL=1`` one for all of them in turn).

    python3 -m research.lopt.device.worker grids|evaluations|learned DATASET[,DATASET...] PARTS   # several: in turn

It runs ``leave_one_out --baselines PHASE --tested DATASET`` (``ahead.baselines``), or for ``learned``
``leave_one_out --learned`` (``ahead.learned``: the learned optimizer's rows of every meta-training
kept in ``results/lopt_leave_one_out/systems/``, which travels with the checkout; with ``STUDY=ten`` in
the environment, the second judged run's, kept in ``results/lopt_leave_one_out/ten/systems/``), with the datasets ``pack`` left in
``.devdata/``, on a cache of its own, one file: the committed ``trainings/`` plus the grids parts in
PARTS; ``before`` says how many lines it started from, so ``run.sh`` takes the new ones after
any stop. The held-out looks are written to the ledger on the development machine before the
call (the copy there is not the repository's), so this process records none.
"""

from __future__ import annotations

import lzma
import os
import pickle
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    from dimo.studies import schedules
    from research import protocol
    from research.lopt import ahead, leave_one_out

    phase, name, parts = (argv if argv is not None else sys.argv[1:])
    parts = Path(parts)
    source = schedules.load

    def load(trained, dataset, data_dir=None):
        packed = Path(".devdata") / f"{dataset}.pkl.xz"
        if packed.is_file():
            with lzma.open(packed) as f:
                return pickle.load(f)
        return source(trained, dataset, ".devdata/data")

    schedules.load = load
    protocol.record_look = lambda *a, **k: True  # recorded before the call, on the development machine
    wanted = name.split(",")  # several: one after another in this process (run.sh's SERIAL=1)
    mine = parts / f"{phase}_{'+'.join(wanted)}"
    mine.mkdir(parents=True, exist_ok=True)
    committed = sorted(leave_one_out.CACHE.glob("*.jsonl"))  # a file per dataset
    with open(mine / "trainings.jsonl", "w") as out:  # one file: run.sh takes the lines past "before"
        for part in [*committed, *sorted(parts.glob("grids_*/new.jsonl"))]:
            text = part.read_text()
            out.write(text if not text or text.endswith("\n") else text + "\n")  # a cut last line stays alone
    (mine / "before").write_text(str((mine / "trainings.jsonl").read_text().count("\n")))
    leave_one_out.OUT, leave_one_out.CACHE = mine, mine / "trainings.jsonl"
    start = time.perf_counter()
    width = int(os.environ.get("WIDTH") or 0) or None  # run.sh's WIDTH=42: a grid's horizon a program
    if phase == "learned":  # units whose rows it trained
        done = ahead.learned(wanted, leave_one_out.RUNS, None, os.environ.get("STUDY", ""))  # run.sh's STUDY=ten
    else:
        done = ahead.baselines("research/lopt/configs/scheduled.py", phase, wanted, leave_one_out.RUNS, None,
                               width=width)
    print(f"{phase} {name}: {done} {'units' if phase == 'learned' else 'trainings'} in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The top judge's protocols: a cell trained from scratch, longer and larger than the cell table.

The 1,000-step cell table (``cell_table``) ranks cells but not its own top (its two seeds
disagree among its 20 best). Stage 2 of the table (``research/cell_table/top_judge.py``,
pre-registered in research/PROTOCOL.md) trains cells under one of ``PROTOCOLS`` with 3+ seeds;
its pilot chose C. ``dimo compare --judge C`` judges every entry of a comparison the same way.

    from dimo.evaluation import judge
    log = judge.TrainingLog(Path("runs.csv"), reuse=[Path("results/cell_table/top_judge_runs.csv")])
    figures = log.judge(genotype, dataset_at_32x32, "C", seeds=judge.run_seeds(0))

Every finished training is appended (and fsynced) to a CSV, one row per (dataset, protocol,
genotype, seed), so a killed run loses at most the training under way, and a training already
in a log (this one or a ``reuse`` one, e.g. stage 2's) is read rather than repeated: one
(genotype, seed, protocol) trains alike whoever asks.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

COMMON = {"optimizer": "sgd", "loss": "ce", "learning_rate": 0.1, "weight_decay": 5e-4, "batch_size": 32,
          "channels": 8, "cells_per_stage": 1, "schedule": "cosine", "warmup_steps": 0}
# Cheapest first; research/PROTOCOL.md pre-registers the rule that picked C.
PROTOCOLS = {"A": {"image_size": 16, "steps": 4000}, "B": {"image_size": 32, "steps": 2000},
             "C": {"image_size": 32, "steps": 4000}}
RUN_FIELDS = ("dataset", "protocol", "genotype", "seed", "val_accuracy", "test_accuracy", "val_loss",
              "test_loss", "final_train_loss", "params", "train_s")


def run_seeds(run: int, count: int = 3) -> list[int]:
    """The training seeds of meta-training run ``run``'s evaluations (research/PROTOCOL.md):
    ``1000 (run + 1) + k``, so no two runs share one, and none is a table's 0, 1, 2."""
    if run < 0 or count < 1:
        raise ValueError(f"run_seeds needs a run >= 0 and a count >= 1, got {run} and {count}")
    return [1000 * (run + 1) + k for k in range(count)]


def describe(protocol: str) -> dict:
    """Everything that defines ``protocol``'s training, for manifests and result files."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown judge protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    return {"name": protocol, **COMMON, **PROTOCOLS[protocol], "momentum": 0.9,
            "accuracy": "whole test split"}


def read_runs(path: Path) -> list[dict]:
    """Finished trainings. A row is finished when its line ends and every field is there: a last
    line without its newline is cut short by a kill or still being written by another process,
    and a line cut by a kill and ended by the next process's first append lacks its last fields;
    both are skipped (a number cut inside would otherwise parse; a cut inside the last field,
    ``train_s``, leaves the figures whole)."""
    if not path.is_file():
        return []
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    runs = []
    for row in csv.DictReader(lines):
        if None in row or None in row.values():  # more or fewer fields than the header: torn
            continue
        try:
            runs.append({**row, "seed": int(row["seed"]), "test_accuracy": float(row["test_accuracy"]),
                         "val_accuracy": float(row["val_accuracy"])})
        except (TypeError, ValueError):
            continue
    return runs


def append_run(path: Path, run: dict, fields=RUN_FIELDS) -> None:
    new = not path.is_file() or path.stat().st_size == 0
    with path.open("a", newline="") as f:
        if not new and not path.read_bytes().endswith(b"\n"):
            f.write("\n")  # the previous process died mid-line
        writer = csv.DictWriter(f, fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(run)
        f.flush()
        os.fsync(f.fileno())


def train(genotype: str, dataset, protocol: str, seed: int, steps: int | None = None) -> dict:
    """``genotype`` trained once under ``protocol`` (``dataset`` loaded at its image size);
    ``steps`` shortens it, the cosine then ending there (``dimo.search.verify``'s rungs)."""
    from dimo.evaluation import evaluate
    from dimo.space import search_space

    size = PROTOCOLS[protocol]["image_size"]
    if dataset.image_shape[0] != size:
        raise ValueError(f"protocol {protocol} trains at {size}x{size}; {dataset.name} is loaded at "
                         f"{dataset.image_shape[0]}x{dataset.image_shape[1]}")
    setup = evaluate.TrainSetup(seed=seed, steps=steps or PROTOCOLS[protocol]["steps"], **COMMON)
    return evaluate.train_genotype(search_space.Genotype.from_string(genotype), dataset, setup, progress=False)


class TrainingLog:
    """Trainings under the judge's protocols, appended to ``path``; ``reuse`` logs are read too."""

    def __init__(self, path: Path, reuse=()):
        self.path = Path(path)
        self.done = {}
        self._read_size = -1
        for log in map(Path, reuse):
            self._add(read_runs(log))
        self.refresh()

    def _add(self, runs) -> None:
        for r in runs:
            self.done[(r["dataset"], r["protocol"], r["genotype"], r["seed"])] = r

    def refresh(self) -> None:
        """Reads rows another process appended to ``path`` since the last read, so two processes
        sharing a log (e.g. one taking the cells from each end) do not train one twice."""
        size = self.path.stat().st_size if self.path.is_file() else 0
        if size != self._read_size:
            self._add(read_runs(self.path))
            self._read_size = size

    def judge(self, genotype: str, dataset, protocol: str, seeds) -> dict:
        """Test and validation accuracies of ``genotype`` over ``seeds``, training what no log has."""
        rows, cleared = [], False
        for seed in seeds:
            key = (dataset.name, protocol, genotype, int(seed))
            if key not in self.done:
                self.refresh()
            if key not in self.done:
                if not cleared:  # a cell's programs are its own: free the last cell's (see research/cell_table/build.py)
                    import jax

                    jax.clear_caches()
                    cleared = True
                result = train(genotype, dataset, protocol, int(seed))
                row = {**result, "dataset": dataset.name, "protocol": protocol, "seed": int(seed)}
                append_run(self.path, row)
                self.done[key] = row
                self._read_size = -1  # re-read at the next miss: others may have appended too
            rows.append(self.done[key])
        tests = [float(r["test_accuracy"]) for r in rows]
        return {"judge": protocol, "training_seeds": [int(s) for s in seeds], "test_accuracy_per_seed": tests,
                "val_accuracy_per_seed": [float(r["val_accuracy"]) for r in rows],
                "test_accuracy_mean": float(np.mean(tests))}

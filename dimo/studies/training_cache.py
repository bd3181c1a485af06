"""Finished trainings' metrics, one JSON line each, keyed by everything that defines a training.

A study trains thousands of baselines; the cache makes it resumable (a killed process loses
the training it was in, nothing else), lets runs and folds that share a tuning train it once, and
is the record every judged figure is read from. Its path is a file, or a directory that holds
one file per dataset (``<dataset>.jsonl``, by the key's ``"dataset"``); an existing path is what
it is, a new one a file if it ends in ``.jsonl``. A directory keeps a study's cache of
thousands of lines stays in files that git diffs and a reader opens, and a device's part can be
a single file of its own.

    cache = TrainingCache("results/study/trainings")        # a directory: one file per dataset
    metrics = cache.get(key, lambda: train(...), trained="lone")   # trains once, ever
"""

from __future__ import annotations

import json
import os
from pathlib import Path

OTHER = "other"  # the file of a key without a dataset


def _entries(path: Path):
    for line in path.read_text().splitlines():
        try:
            yield json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a kill
            continue


def _shard(key) -> str:
    name = key.get("dataset", OTHER) if isinstance(key, dict) else OTHER
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"dataset name {name!r} cannot name a cache file: no separators, no leading dot")
    return name


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1)


class TrainingCache:
    """Finished trainings' metrics (``done``: key name -> metrics), read from ``path`` (a file, or
    a directory of per-dataset files; ``None``: in memory) and appended to as trainings finish."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path, self.done = (Path(path) if path else None), {}
        # what is there decides; a new path is one file if it ends in .jsonl, else a directory
        self.sharded = self.path is not None and (self.path.is_dir() or (
            not self.path.is_file() and self.path.suffix != ".jsonl"))
        single = self.path.with_suffix(".jsonl") if self.path is not None else None
        if self.sharded and not self.path.exists() and single.is_file():  # an older cache: never start afresh beside it
            raise ValueError(f"{self.path} does not exist but {single} does: split it into {self.path}/ "
                             f"(TrainingCache(dir).append(entry) for each of its lines) or pass {single}")
        for entry in self.entries():
            self.done[entry["key"]] = entry["metrics"]

    def files(self) -> list[Path]:
        """The files it reads, in order (a directory's by name)."""
        if self.path is None:
            return []
        if self.sharded:
            return sorted(self.path.glob("*.jsonl")) if self.path.is_dir() else []
        return [self.path] if self.path.is_file() else []

    def entries(self):
        """Every complete line as written (the key's name, metrics and provenance), file by file."""
        for path in self.files():
            yield from _entries(path)

    def get(self, key: dict, train, **provenance) -> dict:
        name = json.dumps(key, sort_keys=True)
        if name not in self.done:
            self.put(key, train(), **provenance)
        return self.done[name]

    def __contains__(self, key: dict) -> bool:
        return json.dumps(key, sort_keys=True) in self.done

    def put(self, key: dict, metrics: dict, **provenance) -> None:
        """Records a finished training (``provenance``, e.g. how it was run, goes beside its metrics)."""
        name = json.dumps(key, sort_keys=True)
        self.append({"key": name, "metrics": {k: float(v) for k, v in metrics.items()}, **provenance})

    def append(self, entry: dict) -> None:
        """Writes a line as it is (``entry["key"]`` a key's name), to its dataset's file if sharded."""
        path = self.path / f"{_shard(json.loads(entry['key']))}.jsonl" if self.sharded else self.path
        self.done[entry["key"]] = entry["metrics"]
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        cut = path.is_file() and path.stat().st_size and _last_byte(path) != b"\n"
        with path.open("a") as f:
            f.write(("\n" if cut else "") + json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())

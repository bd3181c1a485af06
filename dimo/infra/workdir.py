"""What a meta-training run leaves in its workdir, written so that a crash loses nothing.

    config.json     the full config (compared on --resume)
    metrics.jsonl   one JSON line per meta-step, appended and flushed each step
    checkpoints/    orbax checkpoints (written to a temporary folder, then renamed), each
                    with the SHA-256 of its files (dimo.infra.integrity)
    .lock           held by the live run (dimo.infra.lock)
    summary.json    per dataset: genotype, edge x op probabilities, hyperparameters
    meta_loss.png, arch_<dataset>.png
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

from dimo.infra import integrity
from dimo.infra.lock import LOCK_NAME, WorkdirLock

# Keys that may change on resume: run length, bookkeeping, step sizes, device count, the
# test fault hook. Every other key alters array shapes or what the checkpoint means
# (model, tasks, datasets, seed) and a resume with it changed is refused.
RESUMABLE_KEYS = ("meta.steps", "meta.checkpoint_every", "meta.max_consecutive_bad",
                  "meta.learning_rate", "meta.clip_norm", "meta.num_devices", "inner.learning_rate",
                  "debug.inject_faults")


class WorkdirError(ValueError):
    """A workdir that cannot be used as asked; the message names the fix."""


def flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def claim(workdir: Path) -> WorkdirLock:
    """Creates ``workdir`` and takes its lock, before anything there is read or written."""
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        return WorkdirLock(workdir).acquire()
    except OSError as e:  # read-only file system, a file in the path, no permission
        raise WorkdirError(f"cannot write to workdir {workdir} ({e.strerror or e}); choose a "
                           f"writable --workdir") from None


def prepare(workdir: Path, config_dict: dict, resume: bool, overwrite: bool,
            migrate: Callable[[dict], dict] = lambda saved: saved) -> dict:
    """Checks the workdir against the run that is asked for, then writes config.json.

    ``migrate`` brings the saved config of an older run up to date before the comparison
    (``dimo.meta.config.migrate``). Returns the resumable keys a resume changes,
    {key: (old, new)}.
    """
    changed = {}
    workdir.mkdir(parents=True, exist_ok=True)
    saved = workdir / "config.json"
    occupied = any(p.name != LOCK_NAME for p in workdir.iterdir())
    if resume:
        if not saved.is_file():
            raise WorkdirError(f"{workdir} has no config.json to resume; start without --resume")
        old, new = flatten(migrate(json.loads(saved.read_text()))), flatten(json.loads(json.dumps(config_dict)))
        differ = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        changed = {k: (old.get(k), new.get(k)) for k in differ if k in RESUMABLE_KEYS}
        differ = [k for k in differ if k not in RESUMABLE_KEYS]
        if differ:
            detail = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in differ[:6])
            raise WorkdirError(f"cannot resume {workdir} with a different config ({detail}); "
                               f"use the saved config or start a new workdir")
    elif occupied and not overwrite:
        raise WorkdirError(f"workdir {workdir} is not empty; pass --resume to continue the run "
                           f"there, --overwrite to replace it, or choose another --workdir")
    elif occupied and overwrite:
        for name in ("metrics.jsonl", "summary.json"):
            (workdir / name).unlink(missing_ok=True)
        for name in ("checkpoints", integrity.QUARANTINE):
            shutil.rmtree(workdir / name, ignore_errors=True)
    write_json_atomic(saved, config_dict)
    return changed


def write_json_atomic(path: Path, obj) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_jsonable))
    os.replace(tmp, path)


def _jsonable(x):
    if isinstance(x, (np.generic, np.ndarray)):
        return x.tolist()
    return str(x)


# Wall-clock fields of a metrics record: everything else is a function of (config, seed, step).
TIMING_KEYS = ("time_s", "step_s")


class MetricsLog:
    """Append-only JSON lines; on resume, lines after the restored step are dropped first."""

    def __init__(self, path: Path, keep_through_step: int | None):
        self.path = path
        if keep_through_step is not None and path.exists():
            kept = []
            for line in path.read_text().splitlines():
                try:  # a line torn by a crash mid-write is dropped with the rest
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if record.get("step", 0) <= keep_through_step:
                    kept.append(line)
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(k + "\n" for k in kept))
            os.replace(tmp, path)
        self._file = open(path, "a")

    def write(self, record: dict) -> None:
        self._file.write(json.dumps(record, default=_jsonable) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def read_metrics(workdir: Path) -> list[dict]:
    path = Path(workdir) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def checkpoint_manager(workdir: Path, every: int, read_only: bool = False) -> ocp.CheckpointManager:
    """Orbax's manager over ``workdir/checkpoints``; ``read_only`` for readers such as
    ``dimo propose`` (it creates and cleans nothing)."""
    options = ocp.CheckpointManagerOptions(max_to_keep=3, save_interval_steps=every,
                                           enable_async_checkpointing=False, create=not read_only,
                                           read_only=read_only, cleanup_tmp_directories=not read_only)
    return ocp.CheckpointManager(Path(workdir).absolute() / "checkpoints", options=options)


def save_checkpoint(manager: ocp.CheckpointManager, step: int, state, force: bool = False) -> bool:
    """Saves at ``step`` when the interval (or ``force``) says so and it is not saved yet,
    then writes the checksums of what was saved."""
    if step in manager.all_steps() or not (force or manager.should_save(step)):
        return False
    _ensure_space(Path(manager.directory), state)
    saved = manager.save(step, args=ocp.args.StandardSave(state), force=force)
    if saved:
        manager.wait_until_finished()
        integrity.write_manifest(Path(manager.directory) / str(step))
    return saved


def checkpoint_space_needed(checkpoints: Path, array_bytes: int) -> int:
    """Bytes a save into ``checkpoints`` is let start with: the last checkpoint's size, or
    for the first twice the arrays' bytes plus room for orbax's metadata, with a margin (a
    checkpoint's size varies by a quarter with how orbax's writes were batched)."""
    steps = integrity.saved_steps(checkpoints)
    if steps:
        needed = sum(p.stat().st_size for p in (checkpoints / str(steps[-1])).rglob("*") if p.is_file())
    else:
        needed = 2 * array_bytes + (256 << 10)
    return int(needed * 1.25) + (64 << 10)


def _ensure_space(checkpoints: Path, state) -> None:
    """Raises ENOSPC before a save that would not fit: orbax's writer threads meet a full disk
    in the middle of a write and print a traceback from each (the handler in
    ``dimo.infra.guards`` still catches a disk that fills during the write itself)."""
    needed = checkpoint_space_needed(checkpoints, sum(x.nbytes for x in jax.tree.leaves(state)))
    free = shutil.disk_usage(checkpoints).free
    if free < needed:
        raise OSError(errno.ENOSPC, f"No space left on device: a checkpoint needs about {needed >> 10} KiB, "
                      f"{free >> 10} KiB are free", str(checkpoints))


def checkpoint_shapes_match(manager: ocp.CheckpointManager, abstract_state, step: int) -> bool:
    """Whether the saved arrays have the shapes of ``abstract_state`` (read from metadata).

    Checked before restoring: orbax, handed a mismatched tree, fails with background reads
    left pending. Shapes are compared as sorted lists (the two trees name fields differently).
    """
    from absl import logging

    level = logging.get_verbosity()
    logging.set_verbosity(logging.ERROR)  # orbax warns of a metadata file StandardSave omits
    try:
        saved = ocp.StandardCheckpointer().metadata(manager.directory / str(step) / "default")
    finally:
        logging.set_verbosity(level)
    saved = getattr(saved, "item_metadata", saved)
    shapes = sorted(tuple(x.shape) for x in jax.tree.leaves(saved))
    return shapes == sorted(tuple(x.shape) for x in jax.tree.leaves(abstract_state))


def restore_checkpoint(manager: ocp.CheckpointManager, abstract_state, step: int | None = None):
    step = manager.latest_step() if step is None else step
    if step is None:
        return None
    return manager.restore(step, args=ocp.args.StandardRestore(abstract_state))

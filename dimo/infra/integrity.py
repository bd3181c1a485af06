"""Checksums beside each checkpoint, so that damaged bytes are found before they are restored.

Orbax writes a checkpoint into a temporary folder and renames it when complete, which covers
a crash mid-write, but not bytes changed afterwards (a bad disk sector, a faulty copy).
Measured on the smoke run's checkpoints: a flipped byte in tensorstore's data files fails
the restore with a long ``DATA_LOSS ... CRC-32C checksum verification failed`` ValueError,
one in orbax's ``_METADATA`` with a ``UnicodeDecodeError``; neither names the checkpoint, and a
resume stopped there instead of falling back. So every saved step folder gets a
``dimo_sha256.json`` listing the SHA-256 of each of its files, checked before anything is
read: a step whose files do not match is damaged, and the newest intact one is used. A step
without the list (written by an older DiMO, or cut short between orbax's rename and the
list) is trusted as orbax left it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

MANIFEST = "dimo_sha256.json"
QUARANTINE = "damaged_checkpoints"  # beside checkpoints/: damaged steps are moved, never deleted


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(step_dir: Path) -> None:
    files = {str(p.relative_to(step_dir)): _sha256(p) for p in sorted(step_dir.rglob("*"))
             if p.is_file() and p.name != MANIFEST}
    tmp = step_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(files, indent=1, sort_keys=True))
    os.replace(tmp, step_dir / MANIFEST)


def damage(step_dir: Path) -> str | None:
    """Why ``step_dir``'s bytes are not the ones saved, or None when they are (or unlisted)."""
    manifest = step_dir / MANIFEST
    if not manifest.is_file():
        return None
    try:
        expected = json.loads(manifest.read_text())
    except ValueError:
        return f"its {MANIFEST} is unreadable"
    for name, digest in sorted(expected.items()):
        path = step_dir / name
        if not path.is_file():
            return f"{name} is missing"
        if _sha256(path) != digest:
            return f"{name} does not match its checksum"
    return None


def saved_steps(checkpoints: Path) -> list[int]:
    """Complete steps, oldest first (orbax's temporary folders are not digits only)."""
    if not checkpoints.is_dir():
        return []
    return sorted(int(p.name) for p in checkpoints.iterdir() if p.is_dir() and p.name.isdigit())


def latest_intact(checkpoints: Path) -> tuple[int | None, dict[int, str]]:
    """(newest intact step or None, {newer damaged step: why}); reads, changes nothing."""
    damaged = {}
    for step in reversed(saved_steps(checkpoints)):
        reason = damage(checkpoints / str(step))
        if reason is None:
            return step, damaged
        damaged[step] = reason
    return None, damaged


def quarantine(checkpoints: Path, step: int) -> Path:
    """Moves a damaged step out of orbax's sight (a resumed run saves that step again)."""
    target = checkpoints.parent / QUARANTINE / f"{step}-{time.strftime('%Y%m%d-%H%M%S')}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(checkpoints / str(step)), str(target))
    return target


def set_aside_damaged(checkpoints: Path) -> list[str]:
    """Quarantines the damaged steps newer than the newest intact one; one line for each."""
    intact, damaged = latest_intact(checkpoints)
    resume_from = f"checkpoint {intact}" if intact is not None else "the start (no intact checkpoint is left)"
    return [f"checkpoint {step} is damaged ({why}); moved to {quarantine(checkpoints, step)}, "
            f"resuming from {resume_from}" for step, why in sorted(damaged.items(), reverse=True)]

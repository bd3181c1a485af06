"""Provenance for every result file: the command that wrote it, its config, the code's revision.

A result ``X.json`` (or ``.jsonl``, ``.csv``, ``.md``) gets ``X.manifest.json`` beside it;
``dimo ... --json`` objects carry the same fields under ``"manifest"``. A figure in a
document is then traceable to a committed command at a known revision.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


MAX_LISTED = 20  # changed results a manifest names; beyond, a count


def _changed(repo: Path, *paths: str) -> list[str] | None:
    """Tracked files under ``paths`` that differ from HEAD; None outside a checkout."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *paths], cwd=repo,
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [line[3:] for line in out.splitlines() if line.strip()]


def git_revision(repo: Path = REPO) -> str | None:
    """HEAD's hash, with ``-dirty`` when tracked files outside ``results/`` differ from it; None
    outside a checkout. Results are left out: a study writing its files (or the looks ledger) one
    after another would otherwise mark its own later manifests dirty, though the code is HEAD's;
    ``changed_results`` names them instead (a manifest carries the list)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    dirty = _changed(repo, ".", ":!results")
    return None if dirty is None else head + ("-dirty" if dirty else "")


def changed_results(repo: Path = REPO) -> list[str]:
    """Tracked files under ``results/`` that differ from HEAD (at most ``MAX_LISTED``, then a count)."""
    changed = _changed(repo, "results") or []
    return changed[:MAX_LISTED] + ([f"... and {len(changed) - MAX_LISTED} more"] if len(changed) > MAX_LISTED else [])


def machine() -> str:
    devices = ""
    if "jax" in sys.modules:  # only when the run used JAX: importing it here costs seconds
        import jax

        devices = f", JAX {jax.__version__} on {jax.device_count()} {jax.default_backend()} device(s)"
    return f"{platform.node()} ({platform.machine()}, {os.cpu_count()} CPU cores{devices})"


def this_command() -> str:
    """This process's command line as a user would type it."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None:  # python -m package.module
        argv = ["python", "-m", spec.name.removesuffix(".__main__")]
    elif sys.argv[0].endswith(".py"):
        argv = ["python", os.path.relpath(sys.argv[0])]
    elif sys.argv[0] == "-c":  # python -c CODE leaves no trace of CODE in sys.argv: say so, not "-c"
        argv = ["python", "-c", "<code not recorded: give write_manifest a command>"]
    else:  # a console script such as dimo
        argv = [Path(sys.argv[0]).name]
    return shlex.join(argv + sys.argv[1:])


def manifest(command: str | None = None, config=None, **extra) -> dict:
    """The fields every result carries; ``command`` defaults to this process's command line."""
    if config is not None and hasattr(config, "to_dict"):
        config = config.to_dict()
    changed = changed_results()
    return {"command": command or this_command(),
            "config": config, "git_revision": git_revision(),
            **({"results_changed_since_revision": changed} if changed else {}),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(), **extra}


def manifest_path(result: str | os.PathLike) -> Path:
    result = Path(result)
    return result.with_name(result.name.split(".")[0] + ".manifest.json")


def covering_manifest(result: str | os.PathLike) -> Path:
    """The manifest that covers ``result``: its own, or, for a file of a directory that is one
    result (a study's cache, a file per dataset; a kept meta-training run), the directory's, beside it."""
    own, folder = manifest_path(result), manifest_path(Path(result).parent)
    return own if own.is_file() or not folder.is_file() else folder


def uncommitted_paths(text: str) -> list[str]:
    """Paths under ``runs/`` (the ignored folder of workdirs) that a result's text names."""
    found = {p for word in text.split('"') for p in word.split(",") if p.startswith("runs/")}
    return sorted(found)


def _text(result: Path) -> str:
    """A result's text, where paths into runs/ would be named; a binary result (a plot) names none."""
    try:
        return result.read_text()
    except UnicodeDecodeError:
        return ""


def write_manifest(result: str | os.PathLike, command: str | None = None, config=None, append: bool = False,
                   **extra) -> Path:
    """Writes ``result``'s manifest beside it; returns its path.

    Paths under ``runs/`` that the result names are listed as ``uncommitted_inputs``. With
    ``append`` (a log that grows by rows), an existing manifest is kept and this command is
    added to its ``appended`` list instead of replacing it.
    """
    path, result = manifest_path(result), Path(result)
    record = manifest(command, config, result=result.name, **extra)
    if path.is_file():  # `a.jsonl` and `a.png` share `a.manifest.json`: never take another command's
        previous = json.loads(path.read_text())
        owner = previous.get("result")
        if (owner not in (None, result.name) and (path.parent / owner).exists()  # a result still there
                and previous.get("command") != record["command"]):
            raise ValueError(f"{path} is the manifest of {previous['result']}, written by another command; "
                             f"give {result.name} a name of its own")
    inputs = uncommitted_paths(_text(result)) if result.is_file() else []
    if append and path.is_file():
        previous = json.loads(path.read_text())
        record = {**previous, "appended": previous.get("appended", []) + [record]}
        inputs = sorted(set(inputs) | set(previous.get("uncommitted_inputs", [])))
    if inputs:
        record["uncommitted_inputs"] = inputs
    path.write_text(json.dumps(record, indent=1, default=str) + "\n")
    return path

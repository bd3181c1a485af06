"""Replaces paths into the ignored ``runs/`` in committed results by the runs' names (issue #34).

A result names the meta-training workdir it judged (``workdir``/``workdirs``) and, for
``dimo ablate --json``, the plot it drew (``curves_png``). Those paths point at files that
were never committed, so a reader following them finds nothing. This rewrites them once:
``workdir: "runs/X"`` becomes ``meta_training_run: "X"`` (a label, reproduced by the
meta-training command in the manifest's ``config``), ``workdirs`` becomes
``meta_training_runs`` and a ``curves_png`` under ``runs/`` is dropped. No figure changes.
Each rewritten file's manifest gets an ``edits`` entry (this command, revision, date, what
changed) and keeps the original paths in ``uncommitted_inputs``.

    python -m tools.detach_run_paths            # rewrite; a second run changes nothing
    python -m tools.detach_run_paths --check    # list what would change, exit 1 if anything
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dimo.infra import manifest

ROOT = Path(__file__).resolve().parents[1]
RUNS = "runs/"


def _name(path: str) -> str:
    return path.removeprefix(RUNS).rstrip("/")


def detach(record):
    """``record`` with its ``runs/`` paths replaced by run names; the changes, in words."""
    if isinstance(record, list):
        pairs = [detach(item) for item in record]
        return [r for r, _ in pairs], [c for _, cs in pairs for c in cs]
    if not isinstance(record, dict):
        return record, []
    out, changes = {}, []
    for key, value in record.items():
        if key == "curves_png" and isinstance(value, str) and value.startswith(RUNS):
            changes.append(f"dropped curves_png {value!r} (the plot was never committed)")
        elif key == "workdir" and isinstance(value, str) and RUNS in value:
            out["meta_training_run"] = ",".join(_name(p) for p in value.split(","))
            changes.append(f"workdir {value!r} -> meta_training_run {out['meta_training_run']!r}")
        elif key == "workdirs" and isinstance(value, list) and any(RUNS in str(v) for v in value):
            out["meta_training_runs"] = [_name(str(p)) for p in value]
            changes.append(f"workdirs {value!r} -> meta_training_runs {out['meta_training_runs']!r}")
        else:
            out[key], inner = detach(value)
            changes += inner
    return out, changes


def rewrite(path: Path, write: bool, provenance: dict | None = None) -> list[str]:
    text = path.read_text()
    if path.suffix == ".jsonl":
        pairs = [detach(json.loads(line)) for line in text.splitlines() if line.strip()]
        new = "".join(json.dumps(r) + "\n" for r, _ in pairs)
        changes = [c for _, cs in pairs for c in cs]
    else:
        record, changes = detach(json.loads(text))
        indent = 1 if text.startswith(("{\n", "[\n")) else None  # keep the file's layout
        new = json.dumps(record, indent=indent) + ("\n" if text.endswith("\n") else "")
    if changes and write:
        path.write_text(new)
        _record_edit(path, changes, provenance)
    return changes


def _record_edit(path: Path, changes: list[str], provenance: dict) -> None:
    record_path = manifest.manifest_path(path)
    record = json.loads(record_path.read_text())
    edit = dict(provenance)
    edit["what"] = (f"{len(changes)} path(s) under runs/ replaced by run names or dropped; no figure "
                    f"changed: " + "; ".join(sorted(set(changes))[:6]) + (" ..." if len(set(changes)) > 6 else ""))
    record["edits"] = record.get("edits", []) + [edit]
    record_path.write_text(json.dumps(record, indent=1, default=str) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list what would change; change nothing")
    args = parser.parse_args(argv)
    results = sorted(p for p in (ROOT / "results").rglob("*") if p.suffix in (".json", ".jsonl")
                     and not p.name.endswith(".manifest.json"))
    # Read once, before the first write makes the checkout dirty.
    provenance = {k: v for k, v in manifest.manifest().items() if k in ("command", "git_revision", "date")}
    touched = 0
    for path in results:
        changes = rewrite(path, write=not args.check, provenance=provenance)
        if changes:
            touched += 1
            print(f"{path.relative_to(ROOT)}: {len(changes)} path(s)")
    print(f"{touched} file(s) {'would change' if args.check else 'rewritten'}")
    return 1 if (args.check and touched) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Every look at a held-out dataset's test split, appended to a ledger when run from a checkout.

DiMO's research fixes each dataset's role once, in ``research/dataset_roles.json``: the
held-out datasets are read by no meta-training, tuning or choice, and each time a held-out test
split is evaluated while developing, that look is written down, so a claim can say how many
looks stand behind it (research/PROTOCOL.md). From a checkout, ``dimo`` commands that report a
test figure on a held-out dataset append an entry here by themselves, and research scripts call
``record``. An installed DiMO (no ``research/`` beside the package) records nothing.
``$DIMO_LOOKS_LEDGER`` names another ledger file, or ``off`` for none (the test suite's setting).
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from dimo.infra import manifest

REPO = Path(__file__).resolve().parents[2]
ROLES = REPO / "research" / "dataset_roles.json"
MAX_FIGURES = 40  # a ledger line stays readable: the test figures, not the whole result


def roles() -> dict:
    """The roles file's content; empty outside a checkout."""
    return json.loads(ROLES.read_text()) if ROLES.is_file() else {}


def ledger_path() -> Path | None:
    chosen = os.environ.get("DIMO_LOOKS_LEDGER")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    ledger = roles().get("ledger")
    return REPO / ledger if ledger else None


def test_figures(result, prefix: str = "") -> dict:
    """Every number in ``result`` under a key that starts with ``test`` (its path as the key)."""
    found = {}
    items = result.items() if isinstance(result, dict) else enumerate(result) if isinstance(result, list) else ()
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else str(key)
        numbers = isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value)
        if str(key).startswith("test") and numbers:  # per-seed figures
            found[path] = value
        elif isinstance(value, (dict, list)):
            found.update(test_figures(value, path))
        elif str(key).startswith("test") and isinstance(value, (int, float)) and not isinstance(value, bool):
            found[path] = value
    return found


def record(dataset: str, result, command: str | None = None, config=None, what: str = "",
           git_revision: str | None = None) -> bool:
    """Appends a look at ``dataset``'s test split if the dataset is held out; says whether it did.
    ``git_revision``: the code that ran, for a long run whose checkout moved on meanwhile."""
    path = ledger_path()
    if path is None or dataset not in roles().get("held_out", ()):
        return False
    figures = test_figures(result) if not isinstance(result, (int, float)) else {"test": result}
    entry = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
             "git_revision": git_revision or manifest.git_revision(), "command": command or manifest.this_command(),
             "config": config.to_dict() if hasattr(config, "to_dict") else config,
             "dataset": dataset, "split": "test", "what": what,
             "result": dict(list(figures.items())[:MAX_FIGURES]),
             "figures_left_out": max(0, len(figures) - MAX_FIGURES)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(entry, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())
    if not manifest.manifest_path(path).is_file():
        manifest.write_manifest(path, command="appended line by line by dimo.infra.looks.record (dimo "
                                "commands from a checkout, research scripts); each line names its command",
                                roles=str(ROLES.relative_to(REPO)))
    return True

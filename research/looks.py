"""How many looks at a held-out test split stand behind a claim (research/PROTOCOL.md).

    python -m research.looks              # every held-out dataset
    python -m research.looks cifar10 --since 2026-12-02
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from research import protocol


class LedgerError(ValueError):
    pass


def read(path=protocol.LEDGER) -> list[dict]:
    """The ledger's entries; a line that is not a JSON object is a ``LedgerError`` naming it
    (a look must not vanish from the count because its line was damaged)."""
    entries = []
    for number, line in enumerate(path.read_text().splitlines() if path.is_file() else [], 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as e:
            entry = e
        if not isinstance(entry, dict) or "dataset" not in entry or "time" not in entry:
            raise LedgerError(f"line {number} of {path} is not a look (a JSON object with dataset and time); "
                              f"repair it from git history (git log -p {path.name}) before counting")
        entries.append(entry)
    return entries


def count(entries: list[dict], dataset: str, since: str = "") -> dict:
    mine = [e for e in entries if e["dataset"] == dataset and str(e["time"]) >= since]
    return {"dataset": dataset, "looks": len(mine), "reconstructed": sum(bool(e.get("reconstructed")) for e in mine),
            "by_source": dict(Counter(_study(e) for e in mine))}


def _study(entry: dict) -> str:
    """Where a look came from: a results/ study folder, docs/results.md, or its live ``what``."""
    source = entry.get("source")
    if source and source.startswith("results/"):
        return "/".join(source.split("/")[:2]) + "/"
    return source or entry.get("what", "?").split(":")[0]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("datasets", nargs="*", default=list(protocol.HELD_OUT))
    p.add_argument("--since", default="", help="only looks at or after this ISO date")
    args = p.parse_args(argv)
    unknown = [d for d in args.datasets if d not in protocol.HELD_OUT]
    if unknown:
        print(f"error: {', '.join(unknown)} is not held out; the held-out datasets are "
              f"{', '.join(protocol.HELD_OUT)} (research/dataset_roles.json)", file=sys.stderr)
        return 2
    try:
        entries = read()
    except LedgerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for dataset in args.datasets:
        c = count(entries, dataset, args.since)
        print(f"{dataset}: {c['looks']} looks at its test split ({c['reconstructed']} reconstructed)"
              + "".join(f"\n  {n:>4}  {s}" for s, n in sorted(c["by_source"].items(), key=lambda kv: -kv[1])))
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

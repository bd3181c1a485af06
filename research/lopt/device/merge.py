"""Appends a device call's new cache lines to the study's cache, keys it has dropped, with a manifest entry.

    python -m research.lopt.device.merge /work/.device/N/new_trainings.jsonl [...] --command "what ran there"
"""

from __future__ import annotations

import argparse
import json

from dimo.infra.manifest import write_manifest
from dimo.studies.training_cache import TrainingCache
from research.lopt.leave_one_out import CACHE


def merge(paths, cache=None) -> dict:
    """Counts of the lines: appended (to their dataset's file), already there (or twice in the
    files), cut short."""
    cache = TrainingCache(cache or CACHE)
    counts = {"appended": 0, "known": 0, "cut": 0}
    for path in paths:
        for line in open(path):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                counts["cut"] += 1
                continue
            if entry["key"] in cache.done:
                counts["known"] += 1
                continue
            cache.append(entry)
            counts["appended"] += 1
    return counts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+")
    p.add_argument("--command", required=True, help="the device call, for the cache's manifest")
    args = p.parse_args(argv)
    counts = merge(args.files)
    write_manifest(CACHE, append=True, command=args.command, merged=counts,
                   protocol="research/lopt/PROTOCOL.md (dimo.studies.schedules)")
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

"""How much of the test suite's time is XLA compilation, per test: a pytest plugin and its report.

The suite's time is mostly compiling (issue #17's and #19's 10-minute budget). This plugin
listens to JAX's own compile events (``jax.monitoring``: tracing, lowering to MLIR, XLA's
backend compile, persistent-cache loads) and charges each to the test running when it fired,
fixture setup included; every pytest-xdist worker appends its totals to one JSON-lines file.
Programs compiled in ``train_meta.py`` subprocesses (the reliability tests) are not seen.

    rm -f suite_compile.jsonl
    PYTHONPATH=. DIMO_SUITE_COMPILE_OUT=suite_compile.jsonl python -m pytest -q -p tools.suite_compile_time
    python -m tools.suite_compile_time suite_compile.jsonl          # totals, by file, top tests
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys

OUT_ENV = "DIMO_SUITE_COMPILE_OUT"
_EVENTS = {"jaxpr_trace_duration": "trace_s", "jaxpr_to_mlir_module_duration": "lower_s",
           "backend_compile_duration": "backend_s", "cache_retrieval_time_sec": "cache_load_s"}
_current = ["(collection)"]
_totals: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


def _listener(event: str, duration: float, **_) -> None:
    key = _EVENTS.get(event.rsplit("/", 1)[-1])
    if key:
        _totals[_current[0]][key] += duration
        if key == "backend_s":
            _totals[_current[0]]["programs"] += 1


def pytest_configure(config) -> None:
    import jax.monitoring

    jax.monitoring.register_event_duration_secs_listener(_listener)


def pytest_runtest_logstart(nodeid, location) -> None:
    _current[0] = nodeid


def pytest_unconfigure(config) -> None:
    if not _totals:
        return  # the xdist controller runs no test
    with open(os.environ.get(OUT_ENV, "suite_compile.jsonl"), "a") as f:
        for test, counts in _totals.items():
            f.write(json.dumps({"test": test, **counts}) + "\n")


def compile_s(row: dict) -> float:
    return row.get("trace_s", 0.0) + row.get("lower_s", 0.0) + row.get("backend_s", 0.0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Report of a suite run with this plugin.")
    parser.add_argument("path", nargs="?", default="suite_compile.jsonl")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    try:
        rows = [json.loads(line) for line in open(args.path)]
    except OSError as e:
        print(f"error: cannot read {args.path} ({e.strerror}); run the suite with "
              f"-p tools.suite_compile_time first", file=sys.stderr)
        return 2
    total = collections.Counter()
    by_file = collections.Counter()
    for row in rows:
        total.update({k: v for k, v in row.items() if k != "test"})
        by_file[row["test"].split("::")[0]] += compile_s(row)
    print(f"compiling, summed over workers: {compile_s(total):.0f} s (tracing {total['trace_s']:.0f}, "
          f"lowering {total['lower_s']:.0f}, XLA {total['backend_s']:.0f} s for "
          f"{total['programs']:.0f} programs); persistent-cache loads {total['cache_load_s']:.0f} s")
    print("\nby file:")
    for name, seconds in by_file.most_common():
        if seconds >= 1:
            print(f"  {seconds:7.1f} s  {name}")
    print(f"\nthe {args.top} tests (fixture setup included) that compile longest:")
    for row in sorted(rows, key=compile_s, reverse=True)[:args.top]:
        print(f"  {compile_s(row):7.1f} s  {row.get('programs', 0):4.0f} programs  {row['test']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does a program loaded from JAX's persistent compilation cache run slower than the same
program compiled in the process? (issue #17; the quick benchmark once measured the learned
optimizer's step at 75 ms loaded against 58 ms compiled.)

    python -m benchmarks.cache_slowdown [--rounds 3] [--out results/benchmarks/cache_slowdown.json]

Each round runs ``benchmarks.inner_step`` (the four inner-step programs: SGD, Adam, learned
optimizer with cross-entropy and with the teacher) in fresh processes, one after another,
alone on the machine, in three states of the cache:

* ``compiled``: cache off, every program compiled in the process;
* ``written``: an empty cache directory, so each program is compiled *and* written to it;
* ``loaded``: a cache filled by another process just before, so every program is deserialised.

Same programs, same process layout, same measurement; the order of the states rotates from
round to round, so drift in the machine's speed falls on all three alike. Prints the median
step time of each program per state and the loaded/compiled ratio; ``--out`` keeps every
round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.common import run_point
from dimo.infra.manifest import write_manifest

PROGRAMS = ("sgd_ce", "adam_ce", "learned_ce", "learned_teacher")
STATES = ("compiled", "written", "loaded")


def one_round(order: tuple[str, ...], reps: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="dimo_cache_filled_") as filled, \
            tempfile.TemporaryDirectory(prefix="dimo_cache_empty_") as empty:
        # The cache ``loaded`` reads, filled by a process of its own before the round.
        run_point("benchmarks.inner_step", [json.dumps({"reps": 1})], {"DIMO_COMPILATION_CACHE": filled})
        caches = {"compiled": "off", "written": empty, "loaded": filled}
        return {state: run_point("benchmarks.inner_step", [json.dumps({"reps": reps})],
                                 {"DIMO_COMPILATION_CACHE": caches[state]}) for state in order}


def summarize(rounds: list[dict]) -> dict:
    summary = {}
    for state in STATES:
        for program in PROGRAMS:
            summary[f"{state}_step_ms_{program}"] = statistics.median(r[state][f"step_ms_{program}"] for r in rounds)
        summary[f"{state}_compile_s_learned_teacher"] = statistics.median(
            r[state]["step_compile_s_learned_teacher"] for r in rounds)
    for program in PROGRAMS:
        summary[f"loaded_over_compiled_{program}"] = (summary[f"loaded_step_ms_{program}"]
                                                      / summary[f"compiled_step_ms_{program}"])
    summary["lopt_over_sgd_compiled"] = (summary["compiled_step_ms_learned_teacher"]
                                         / summary["compiled_step_ms_sgd_ce"])
    summary["lopt_over_sgd_loaded"] = (summary["loaded_step_ms_learned_teacher"]
                                       / summary["loaded_step_ms_sgd_ce"])
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=5, help="repetitions inside each inner_step process")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.rounds < 1 or args.reps < 1:
        print("error: --rounds and --reps must be at least 1", file=sys.stderr)
        return 2
    rounds = []
    for i in range(args.rounds):
        order = STATES[i % 3:] + STATES[:i % 3]
        rounds.append(one_round(order, args.reps))
        print(f"round {i + 1} ({', '.join(order)}): " + "  ".join(
            f"{state} lopt {rounds[-1][state]['step_ms_learned_teacher']:.1f} ms sgd "
            f"{rounds[-1][state]['step_ms_sgd_ce']:.1f} ms" for state in STATES), flush=True)
    summary = summarize(rounds)
    for key, value in summary.items():
        print(f"{key:<40} {value:.4g}")
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summary, "rounds": rounds}, indent=1) + "\n")
        write_manifest(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory of one meta-gradient for K in {10, 20, 40}, with and without remat.

    python -m benchmarks.memory [--dataset mnist] [--ks 10,20,40]

Each point runs in its own subprocess so peaks do not mix. Two figures per point:
``peak_rss_mb`` (the process's maximum resident memory: compilation included) and
``xla_buffers_mb`` (XLA's own analysis of the compiled program: arguments, outputs and
temporaries it allocates while running).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def measure_point(dataset: str, steps: int, remat: bool) -> dict:
    import jax

    from benchmarks.common import Setup, build

    loop, meta, recipe, task = build(Setup(dataset=dataset, steps=steps, remat=remat))
    grad_fn = jax.jit(jax.value_and_grad(loop.meta_loss, argnums=(0, 1), has_aux=True))
    compiled = grad_fn.lower(meta, recipe, task, jax.random.key(0)).compile()
    analysis = compiled.memory_analysis()
    start = time.perf_counter()
    jax.block_until_ready(compiled(meta, recipe, task, jax.random.key(1)))
    buffers = (analysis.temp_size_in_bytes + analysis.argument_size_in_bytes
               + analysis.output_size_in_bytes) if analysis is not None else float("nan")
    return {"steps": steps, "remat": remat, "seconds": time.perf_counter() - start,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "xla_buffers_mb": buffers / 2 ** 20}


def run(dataset: str = "digits", ks=(10, 20, 40), remats=(True, False)) -> list[dict]:
    points = []
    for remat in remats:
        for k in ks:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.memory", "--point", str(k), str(int(remat)),
                 "--dataset", dataset], capture_output=True, text=True, check=True)
            points.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  K={k:>3} remat={str(remat):<5} peak RSS {points[-1]['peak_rss_mb']:8.0f} MB   "
                  f"XLA buffers {points[-1]['xla_buffers_mb']:8.0f} MB", file=sys.stderr, flush=True)
    return points


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--ks", default="10,20,40")
    parser.add_argument("--point", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.point:
        print(json.dumps(measure_point(args.dataset, args.point[0], bool(args.point[1]))))
        return 0
    ks = tuple(int(k) for k in args.ks.split(","))
    points = run(args.dataset, ks)
    by = {(p["steps"], p["remat"]): p for p in points}
    for remat in (True, False):
        lo, hi = by[(min(ks), remat)], by[(max(ks), remat)]
        print(f"remat={remat}: K={max(ks)} / K={min(ks)} peak RSS ratio "
              f"{hi['peak_rss_mb'] / lo['peak_rss_mb']:.2f}, XLA buffer ratio "
              f"{hi['xla_buffers_mb'] / lo['xla_buffers_mb']:.2f}")
    print(json.dumps(points))
    return 0


if __name__ == "__main__":
    sys.exit(main())

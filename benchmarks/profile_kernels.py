"""Where a meta-gradient's device time goes: XLA kernels by kind, from a ``jax.profiler`` trace.

Compiles the K-step meta-gradient of ``benchmarks.meta_gradient`` (sgd + cross-entropy, the
reference supernet), runs it once to warm up, traces one more call and sums the trace's
kernel events by kind (``conv_general_dilated.123`` -> ``conv_general_dilated``). On CPU the
kernels run on several threads, so the total can exceed the wall time; the shares are what
to read.

    python -m benchmarks.profile_kernels            # K=10, remat
    python -m benchmarks.profile_kernels --steps 20 --no_remat --top 15
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile

# Per-kernel trace events on XLA:CPU; must be set before JAX starts its backend.
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_enable_xprof_traceme=true"

_HOST_EVENTS = re.compile(r"^\$|Thunk|Slinky|PjitFunction|^end: ")


def kernel_kinds(trace_events: list[dict]) -> collections.Counter:
    """Microseconds per kernel kind over the complete ('X') events of a trace."""
    totals = collections.Counter()
    for event in trace_events:
        if event.get("ph") == "X" and not _HOST_EVENTS.search(event["name"]):
            totals[re.sub(r"[._]\d+$", "", event["name"])] += event["dur"]
    return totals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--no_remat", action="store_true")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)

    import jax

    from benchmarks.common import Setup, build

    loop, meta, recipe, task = build(Setup(steps=args.steps, remat=not args.no_remat,
                                           optimizer="sgd", loss="ce"))
    grad = jax.jit(jax.value_and_grad(loop.meta_loss, argnums=1, has_aux=True))
    compiled = grad.lower(meta, recipe, task, jax.random.key(0)).compile()
    jax.block_until_ready(compiled(meta, recipe, task, jax.random.key(1)))
    with tempfile.TemporaryDirectory() as trace_dir:
        with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
            jax.block_until_ready(compiled(meta, recipe, task, jax.random.key(1)))
        [path] = glob.glob(f"{trace_dir}/**/*.trace.json.gz", recursive=True)
        with gzip.open(path) as f:
            totals = kernel_kinds(json.load(f)["traceEvents"])
    total = sum(totals.values())
    print(f"meta-gradient K={args.steps} remat={not args.no_remat}: {total / 1e3:.0f} ms of kernel time")
    for kind, micros in totals.most_common(args.top):
        print(f"{100 * micros / total:5.1f} %  {micros / 1e3:8.1f} ms  {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

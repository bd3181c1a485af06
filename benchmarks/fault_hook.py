"""What the test-only fault hook (``dimo.infra.faults``) cost in a meta-gradient when it was always on.

Since issue #14 the hook is static (``InnerConfig.inject_faults``, on only when
``debug.inject_faults`` is set); this point measures what compiling it out saves: one
K-step meta-gradient (learned optimizer, teacher loss, remat, as a meta-step's per-task
work) with the hook in the program and without, called alternately so that machine noise
falls on both alike.

    python -m benchmarks.fault_hook '{"steps": 10, "reps": 7}'
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time

from benchmarks.common import Setup, build, compile_timed, phase, point_main


def measure(steps: int = 10, reps: int = 7, dataset: str = "digits") -> dict:
    import jax

    from dimo.inner.unroll import InnerLoop

    with phase("compile"):
        loop, meta, recipe, task = build(Setup(dataset=dataset, steps=steps))
        programs, compile_s = {}, {}
        for hook in (False, True):
            variant = InnerLoop(loop.model, dataclasses.replace(loop.cfg, inject_faults=hook))
            grad = jax.jit(jax.value_and_grad(variant.meta_loss, argnums=(0, 1), has_aux=True))
            programs[hook], compile_s[hook] = compile_timed(grad, meta, recipe, task, jax.random.key(0))
    with phase("measure"):
        times = {False: [], True: []}
        for rep in range(reps + 1):
            for hook in ((False, True) if rep % 2 else (True, False)):
                start = time.perf_counter()
                jax.block_until_ready(programs[hook](meta, recipe, task, jax.random.key(1)))
                if rep:  # the first round warms up
                    times[hook].append(time.perf_counter() - start)
    without, with_hook = statistics.median(times[False]), statistics.median(times[True])
    return {"steps": steps, "reps": reps, "meta_grad_without_hook_s": without,
            "meta_grad_with_hook_s": with_hook, "hook_over_no_hook": with_hook / without,
            "compile_without_hook_s": compile_s[False], "compile_with_hook_s": compile_s[True]}


if __name__ == "__main__":
    sys.exit(point_main(measure))

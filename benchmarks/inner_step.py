"""Figure 2: one inner training step with the learned optimizer against optax's SGD and Adam.

Same supernet, same batch size, same data; each combination runs ``chain`` steps of
``InnerLoop.step`` (sample a batch, forward, backward, optimizer update) as one jitted
``InnerLoop.unroll``, a ``lax.scan``, because that is how DiMO trains everywhere
(meta-training's truncations, ``dimo evaluate``, ``dimo ablate``); a step's time is the
call's over ``chain``. ``learned/teacher`` is what DiMO trains with; ``learned/ce``
separates the optimizer's cost from the teacher loss's.

``"scan": false`` times one jitted step per Python call instead (what this benchmark did
until 2026-11-30). Per call, every step also pays for the learned optimizer's state
(twelve numbers a coordinate, the GRU's hidden state included) going out of one program
and into the next; inside the scan it stays in the loop's buffers. docs/benchmarks.md gives
both on one machine.

    python -m benchmarks.inner_step '{"reps": 5}'
    python -m benchmarks.inner_step '{"reps": 5, "scan": false}'
    python -m benchmarks.inner_step '{"reps": 5, "lopt": {"base": "adam", "init_lr": 0.003, "fixed_rate": true}}'

``lopt`` sets the learned optimizer's fields (dimo.inner.learned_optimizer.LOptConfig) for the
learned rows, e.g. the ones a recipe config uses; by default LOptConfig's own defaults.
"""

from __future__ import annotations

import statistics
import sys

from benchmarks.common import (
    Setup,
    build,
    chained_step_seconds,
    compile_timed,
    phase,
    point_main,
)

COMBOS = (("sgd", "ce"), ("adam", "ce"), ("learned", "ce"), ("learned", "teacher"))


def measure(reps: int = 5, chain: int = 20, dataset: str = "digits", scan: bool = True,
            lopt: dict | None = None) -> dict:
    import jax

    from dimo.inner.unroll import init_inner_state

    steps_per_call = chain if scan else 1
    with phase("compile"):
        result, programs = {}, {}
        for optimizer, loss in COMBOS:
            loop, meta, recipe, task = build(Setup(dataset=dataset, optimizer=optimizer, loss=loss,
                                                   lopt=tuple(sorted((lopt or {}).items()))))
            if scan:
                step = jax.jit(lambda state, loop=loop, meta=meta, recipe=recipe, task=task:
                               loop.unroll(meta, recipe, task, state, chain)[0])
            else:
                step = jax.jit(lambda state, loop=loop, meta=meta, recipe=recipe, task=task:
                               loop.step(meta, recipe, task, state)[0])
            state = init_inner_state(loop, jax.random.key(0), meta, recipe, task)
            name = f"{optimizer}_{loss}"
            step, result[f"step_compile_s_{name}"] = compile_timed(step, state)
            programs[name] = (step, state)
    with phase("measure"):
        # Interleaved, one rep of each in turn, so that drift in the machine's speed hits all alike.
        times = {name: [] for name in programs}
        for _ in range(reps):
            for name, (step, state) in programs.items():
                times[name].append(chained_step_seconds(step, state, chain // steps_per_call, reps=1)
                                   / steps_per_call)
    for name, seconds in times.items():
        result[f"step_ms_{name}"] = 1e3 * statistics.median(seconds)
    result["inner_step_timing"] = "scan" if scan else "per_call"
    result["lopt_over_sgd"] = result["step_ms_learned_teacher"] / result["step_ms_sgd_ce"]
    result["lopt_over_adam"] = result["step_ms_learned_teacher"] / result["step_ms_adam_ce"]
    result["lopt_ce_over_sgd"] = result["step_ms_learned_ce"] / result["step_ms_sgd_ce"]
    return result


if __name__ == "__main__":
    sys.exit(point_main(measure))

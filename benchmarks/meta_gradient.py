"""Figures 1 and 3: what one meta-gradient costs against plain training, in time and memory.

For one (K, remat) point, in a process of its own so that memory peaks do not mix:

* ``meta_grad_s``: one ``jax.value_and_grad`` of the validation loss after K inner steps
  with respect to the recipe (architecture weights, learning-rate scale, weight decay);
  the inner loop uses ``optax.sgd`` and cross-entropy, so the ratio measures
  differentiation through the unroll alone (the learned optimizer's own cost is figure 2);
* ``plain_step_s``: one jitted training step (forward, backward, ``optax.sgd`` update) of
  the same supernet on a batch of the same size drawn the same way;
* ``meta_over_plain = meta_grad_s / (K * plain_step_s)``;
* ``peak_rss_mb``: the process's peak resident memory right after the meta-gradient runs
  (compilation included, before the plain step is compiled); ``xla_buffers_mb``: XLA's own
  analysis of the compiled meta-gradient (arguments + outputs + temporaries).

    python -m benchmarks.meta_gradient '{"steps": 10, "remat": true, "reps": 3}'
"""

from __future__ import annotations

import sys

from benchmarks.common import (
    Setup,
    build,
    chained_step_seconds,
    compile_timed,
    median_seconds,
    peak_rss_mb,
    phase,
    point_main,
)


def measure(steps: int, remat: bool, reps: int = 3, dataset: str = "digits") -> dict:
    import jax

    from dimo.inner.unroll import init_inner_state

    with phase("compile"):
        loop, meta, recipe, task = build(Setup(dataset=dataset, steps=steps, remat=remat,
                                               optimizer="sgd", loss="ce"))
        grad = jax.jit(jax.value_and_grad(loop.meta_loss, argnums=1, has_aux=True))
        compiled, meta_compile_s = compile_timed(grad, meta, recipe, task, jax.random.key(0))
    with phase("measure"):
        analysis = compiled.memory_analysis()
        meta_s, meta_times = median_seconds(
            lambda: jax.block_until_ready(compiled(meta, recipe, task, jax.random.key(1))), reps)
        peak = peak_rss_mb()

        step = jax.jit(lambda state: loop.step(meta, recipe, task, state)[0])
        state = init_inner_state(loop, jax.random.key(2), meta, recipe, task)
        step, plain_compile_s = compile_timed(step, state)
        plain_s = chained_step_seconds(step, state, steps, reps)
    buffers = (analysis.temp_size_in_bytes + analysis.argument_size_in_bytes
               + analysis.output_size_in_bytes) / 2 ** 20 if analysis is not None else None
    return {"steps": steps, "remat": remat, "meta_grad_s": meta_s, "meta_grad_times_s": meta_times,
            "meta_compile_s": meta_compile_s, "plain_step_s": plain_s,
            "plain_compile_s": plain_compile_s, "meta_over_plain": meta_s / (steps * plain_s),
            "peak_rss_mb": peak, "xla_buffers_mb": buffers}


if __name__ == "__main__":
    sys.exit(point_main(measure))

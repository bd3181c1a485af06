"""Figure 5: one meta-step of 4 tasks on 1 device against the same step spread over 4.

The default config with ``meta.tasks_per_step=4``; each device count runs in its own
process (on CPU the devices are virtual, ``--xla_force_host_platform_device_count``, and
share the same cores: the figure shows that sharding is correct and what it costs, not a
speed-up; on a machine with several accelerators it is the speed-up). The meta-loss of
the first step is returned too: it must agree across device counts.

    XLA_FLAGS=--xla_force_host_platform_device_count=4 \\
        python -m benchmarks.scaling '{"num_devices": 4, "reps": 3}'
"""

from __future__ import annotations

import sys

from benchmarks.common import compile_timed, median_seconds, phase, point_main


def measure(num_devices: int, reps: int = 3, tasks: int = 4, datasets: str = "digits") -> dict:
    import jax

    from datasets_meta import load
    from dimo.configs import default
    from dimo.meta import meta_train
    from dimo.meta import state as meta_state
    from dimo.meta import system as system_lib
    from dimo.meta import tasks as task_sampler
    from dimo.meta.outer_optimizer import meta_optimizer

    with phase("compile"):
        config = default.get_config()
        config.meta.update(tasks_per_step=tasks, num_devices=num_devices)
        names = datasets.split(",")
        data = [load(n, image_size=config.data.image_size, channels=config.data.channels,
                     val_fraction=config.data.val_fraction, seed=config.seed) for n in names]
        system = system_lib.from_config(config)
        outer = meta_optimizer(config.meta.learning_rate, config.meta.clip_norm)
        mesh = meta_train.make_mesh(num_devices)
        state = jax.device_put(meta_state.init_state(system, outer, config.seed),
                               jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))
        batch = task_sampler.sample_tasks(
            data, task_sampler.parse_weights("", names), step=0, seed=config.seed, tasks_per_step=tasks,
            classes_per_task=config.task.classes_per_task, per_class=config.task.per_class,
            support_shots=config.task.support_shots)
        args = (state, batch.tasks, batch.support_images, batch.support_labels, batch.weights,
                meta_train.seed_key_data(config.seed))
        step, compile_s = compile_timed(meta_train.make_meta_step(system, outer, mesh), *args)
    with phase("measure"):
        first_loss = float(step(*args)[1]["meta_loss"])  # the warm-up call
        seconds, times = median_seconds(lambda: jax.block_until_ready(step(*args)), reps, warm_up=False)
    return {"num_devices": mesh.size, "backend": jax.default_backend(), "tasks": tasks,
            "meta_step_s": seconds, "meta_step_times_s": times, "compile_s": compile_s,
            "meta_loss": first_loss}


if __name__ == "__main__":
    sys.exit(point_main(measure))

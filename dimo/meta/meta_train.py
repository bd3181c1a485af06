"""Meta-training: minimise the weighted expected validation loss over datasets' tasks.

    min_{embedding, decoder, optimizer, teacher}  sum_i w_i ValLoss_i(
        Train_{optimizer, teacher}(Supernet(Decode(Embed(support_i)))))

One meta-step: sample ``tasks_per_step`` tasks on the host (``task_sampler``), compute each
task's meta-gradient through its K-step unroll, average them with the task weights,
and apply the outer optimizer (Adam on clipped gradients; a non-finite meta-gradient is
skipped and counted). Tasks are spread over a 1-D device mesh with ``jax.shard_map``:
each device takes its share of tasks, and the weighted gradients are summed with
``psum``. The same code runs on one CPU, several GPUs or TPU cores, and several hosts
after ``jax.distributed.initialize()`` (``--distributed``).
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from jax.sharding import PartitionSpec as P

from datasets_meta import load
from dimo.infra import faults, integrity
from dimo.infra import guards as run_guards
from dimo.infra import workdir as workdirs
from dimo.inner import truncation
from dimo.meta import report
from dimo.meta import system as system_lib
from dimo.meta import tasks as task_sampler
from dimo.meta.config import ConfigError, migrate, validate, validate_for_run
from dimo.meta.outer_optimizer import OuterSettings
from dimo.meta.state import AXIS, MetaState, checkpoint_tree, from_checkpoint_tree, init_state, place, population_size
from dimo.meta.support_sets import PROPOSAL_SHOTS, propose_for


class TrainingError(RuntimeError):
    """Meta-training cannot go on (e.g. too many non-finite meta-gradients in a row)."""


def make_mesh(num_devices: int = 0) -> jax.sharding.Mesh:
    """A 1-D mesh over the first ``num_devices`` devices (0: all of them)."""
    available = jax.devices()
    n = num_devices or len(available)
    if n > len(available):
        raise ConfigError(f"meta.num_devices={n} but only {len(available)} "
                          f"{jax.default_backend()} device(s) exist; use at most {len(available)} (0 = all)")
    # Auto axes: inputs arrive unsharded from the host and XLA splits them over the mesh.
    return jax.make_mesh((n,), (AXIS,), axis_types=(jax.sharding.AxisType.Auto,),
                         devices=available[:n])


def make_meta_step(system: system_lib.System, outer: optax.GradientTransformation,
                   mesh: jax.sharding.Mesh, ema_decay: float = 0.0):
    """The jitted ``meta_step(state, tasks, support_images, support_labels, weights, seed_key)``
    (``seed_key``: ``seed_key_data(config.seed)``); with a state that carries ``ema``, the
    average moves by ``1 - ema_decay`` toward the new params. The seed is an argument, not a
    constant of the program, so that runs that differ only in their seed share one program."""

    life = truncation.meta_steps_per_life(system.loop.cfg.lifetime, system.loop.cfg.steps)

    def device_share(params, tasks, support_images, support_labels, weights, keys, carried, restart, shadows):
        def one_task(args):
            task, images, labels, key, state, restart_i, shadow = args
            (loss, aux), grads = jax.value_and_grad(system.task_loss, has_aux=True)(
                params, task, images, labels, key, state, restart_i, shadow)
            return loss, aux, grads

        # Tasks on one device run in sequence: batching tasks with different network
        # weights would turn every convolution into a grouped one, slow on XLA:CPU.
        losses, aux, grads = jax.lax.map(
            one_task, (tasks, support_images, support_labels, keys, carried, restart, shadows))
        weighted = jax.tree.map(lambda g: jnp.tensordot(weights, g, axes=1), grads)
        return (jax.lax.psum(jnp.sum(weights * losses), AXIS), jax.lax.psum(weighted, AXIS),
                losses, aux)

    # check_vma=False: the inner scan's carry starts device-invariant (a fresh student)
    # and becomes per-device; everything in a device's share is per-task anyway, and the
    # only cross-device values are the explicit psums.
    sharded = jax.shard_map(
        device_share, mesh=mesh,
        in_specs=(P(), P(AXIS), P(AXIS), P(AXIS), P(AXIS), P(AXIS), P(AXIS), P(AXIS), P(AXIS)),
        out_specs=(P(), P(), P(AXIS), P(AXIS)), check_vma=False)

    @jax.jit
    def meta_step(state: MetaState, tasks, support_images, support_labels, weights, seed_key):
        step_key = jax.random.fold_in(jax.random.wrap_key_data(seed_key), state.step)
        slots = weights.shape[0]
        keys = jax.vmap(lambda i: jax.random.fold_in(step_key, i))(jnp.arange(slots))
        restart = truncation.fresh(state.step, slots, life) if life else jnp.zeros(slots, bool)
        loss, grads, losses, aux = sharded(state.params, tasks, support_images, support_labels,
                                           weights, keys, state.inner, restart, state.shadow)
        inner, shadow = aux.pop("inner_state"), aux.pop("shadow")
        updates, opt_state = outer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        ema = None if state.ema is None else optax.incremental_update(params, state.ema, 1.0 - ema_decay)
        metrics = {"meta_loss": loss, "grad_norm": optax.tree.norm(grads),
                   "group_grad_norms": {k: optax.tree.norm(v) for k, v in grads.items()},
                   "skipped": jnp.logical_not(opt_state.last_finite),
                   "bad_in_a_row": opt_state.notfinite_count, "skipped_total": opt_state.total_notfinite,
                   "task_losses": losses, "tasks": aux, "grads": grads}
        return MetaState(params, opt_state, state.step + 1, inner, ema, shadow), metrics

    return meta_step


def seed_key_data(seed: int) -> np.ndarray:
    """The run's PRNG key as host data, the meta-step's ``seed_key`` argument (any int seed)."""
    return np.asarray(jax.random.key_data(jax.random.key(seed)))


@functools.lru_cache(maxsize=4)
def cached_meta_step(system: system_lib.System, outer: OuterSettings, mesh: jax.sharding.Mesh,
                     ema_decay: float = 0.0):
    """The outer optimizer and ``make_meta_step`` with it, memoised on their static inputs: a
    second run in the same process (a resume, a test) reuses the traced and compiled program
    instead of tracing again. Returns ``(outer_optimizer, meta_step)``."""
    optimizer = outer.build()
    return optimizer, make_meta_step(system, optimizer, mesh, ema_decay)


def run(config: ml_collections.ConfigDict, workdir, resume: bool = False, overwrite: bool = False,
        data_dir=None, progress: bool = True) -> dict:
    """Meta-trains under ``config`` into ``workdir``; returns the summary dict.

    The workdir is locked for the run (one live run each, ``dimo.infra.lock``), and a full
    disk ends it with one line (``run_guards.DiskFull``). A workdir this call created is
    removed again if the run fails before its config.json is written."""
    config = migrate(config)
    validate(config)
    workdir = Path(workdir)
    created = not workdir.exists()
    lock = workdirs.claim(workdir)
    try:
        with run_guards.disk_full_stops(workdir):
            return _run(config, workdir, resume, overwrite, data_dir, progress)
    except BaseException:
        if created and not (workdir / "config.json").exists():
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        lock.release()


def _run(config, workdir: Path, resume: bool, overwrite: bool, data_dir, progress: bool) -> dict:
    names = [n.strip() for n in config.datasets.split(",") if n.strip()]
    started = time.perf_counter()
    datasets = [load(n, data_dir, image_size=config.data.image_size, channels=config.data.channels,
                     val_fraction=config.data.val_fraction, seed=config.seed) for n in names]
    load_seconds = time.perf_counter() - started
    weights = task_sampler.parse_weights(config.meta.dataset_weights, [d.name for d in datasets])
    fault_schedule = faults.parse_schedule(config.debug.inject_faults)
    mesh = make_mesh(config.meta.num_devices)
    validate_for_run(config, mesh.size, min(d.num_classes for d in datasets))

    system = system_lib.from_config(config)
    outer, meta_step = cached_meta_step(system, OuterSettings.from_config(config), mesh, config.meta.ema_decay)
    tick = time.perf_counter()
    state = init_state(system, outer, config.seed, population_size(config), ema=config.meta.ema_decay > 0)
    timing = {"data_load_s": load_seconds, "init_s": time.perf_counter() - tick}
    state, manager = _open_workdir(config, workdir, resume, overwrite, state)
    # On the mesh from the start, as meta_step returns it: otherwise the first
    # call (single-device input) and the second (mesh-replicated input) compile twice.
    state = place(state, mesh)
    log = workdirs.MetricsLog(workdir / "metrics.jsonl", keep_through_step=int(state.step) if resume else None)
    state, step_seconds = _meta_steps(config, workdir, system, meta_step, state, datasets, weights, fault_schedule,
                                      manager, log, timing, started, progress)
    if int(state.step) == config.meta.steps:
        workdirs.save_checkpoint(manager, int(state.step), checkpoint_tree(state), force=True)
    manager.wait_until_finished()
    log.close()
    if not step_seconds and (workdir / "summary.json").is_file():
        # A resume of a finished run changes nothing: its summary (and timing) stays the run's.
        return json.loads((workdir / "summary.json").read_text())
    tick = time.perf_counter()
    summary = write_summary(system, state.answer_params, datasets, config, workdir)
    timing.update(summary_s=time.perf_counter() - tick, steps_run=len(step_seconds),
                  steps_s=float(np.sum(step_seconds)),
                  median_step_s=float(np.median(step_seconds)) if step_seconds else None,
                  total_s=time.perf_counter() - started)
    summary["timing"] = timing
    workdirs.write_json_atomic(workdir / "summary.json", summary)
    return summary


def _open_workdir(config, workdir: Path, resume: bool, overwrite: bool, state: MetaState):
    """Checks and writes the workdir's config; on resume, the newest intact checkpoint's state.
    Returns (state, checkpoint manager)."""
    changed = workdirs.prepare(workdir, config.to_dict(), resume, overwrite, lambda saved: migrate(saved).to_dict())
    for key, (old, new) in changed.items():
        print(f"resuming with {key} changed: {old!r} -> {new!r}", file=sys.stderr)
    if resume:  # damaged checkpoints are moved aside, so the newest intact one is restored
        for line in integrity.set_aside_damaged(workdir / "checkpoints"):
            print(line, file=sys.stderr)
    manager = workdirs.checkpoint_manager(workdir, config.meta.checkpoint_every)
    if resume:
        restored = workdirs.restore_checkpoint(manager, checkpoint_tree(state))
        if restored is not None:
            state = from_checkpoint_tree(restored)
    return state, manager


def _meta_steps(config, workdir: Path, system, meta_step, state: MetaState, datasets, weights, fault_schedule,
                manager, log, timing: dict, started: float, progress: bool):
    """The meta-steps from ``state.step`` to ``meta.steps``: a metrics line and a checkpoint
    each, a stop on a signal or a run of non-finite steps. Returns (state, step seconds)."""
    from tqdm.auto import tqdm

    seed_key = seed_key_data(config.seed)
    start = int(state.step)
    task_args = dict(seed=config.seed, tasks_per_step=config.meta.tasks_per_step,
                     classes_per_task=config.task.classes_per_task, per_class=config.task.per_class,
                     support_shots=config.task.support_shots, transforms=config.task.transforms)
    bar = tqdm(range(start, config.meta.steps), initial=start, total=config.meta.steps,
               desc="meta-training", disable=not progress, dynamic_ncols=True)
    step_seconds = []
    life = truncation.meta_steps_per_life(system.loop.cfg.lifetime, system.loop.cfg.steps)
    with run_guards.StopRequested() as stop:
        for step in bar:
            draw_steps = truncation.task_steps(step, config.meta.tasks_per_step, life) if life else None
            batch = task_sampler.sample_tasks(datasets, weights, step=step, draw_steps=draw_steps,
                                              fault=fault_schedule.get(step + 1, 0), **task_args)
            args = (state, batch.tasks, batch.support_images, batch.support_labels, batch.weights, seed_key)
            if not step_seconds:
                # Compiled ahead of time so that compile and run are timed apart; every later
                # batch has the same shapes, so this one program serves the whole run.
                tick = time.perf_counter()
                meta_step = meta_step.lower(*args).compile()
                timing["compile_s"] = time.perf_counter() - tick
            tick = time.perf_counter()
            state, metrics = meta_step(*args)
            metrics = jax.device_get({k: v for k, v in metrics.items() if k != "grads"})
            step_seconds.append(time.perf_counter() - tick)
            record = _record(step + 1, time.perf_counter() - started, metrics, batch, datasets)
            record["step_s"] = round(step_seconds[-1], 4)  # one of workdirs.TIMING_KEYS
            log.write(record)
            bar.set_postfix(meta_loss=f"{record['meta_loss']:.4f}", skipped=record["skipped_total"])
            if int(metrics["bad_in_a_row"]) >= config.meta.max_consecutive_bad:
                workdirs.save_checkpoint(manager, step + 1, checkpoint_tree(state), force=True)
                log.close()
                raise TrainingError(
                    f"{config.meta.max_consecutive_bad} non-finite meta-gradients in a row at step "
                    f"{step + 1}; stopped with the last good parameters checkpointed in {workdir}. "
                    f"Lower meta.learning_rate or inner.learning_rate, then --resume")
            workdirs.save_checkpoint(manager, step + 1, checkpoint_tree(state))
            if stop.signal:
                workdirs.save_checkpoint(manager, step + 1, checkpoint_tree(state), force=True)
                bar.write(f"{stop.signal}: stopped after step {step + 1}, checkpoint saved; "
                          f"continue with --resume", file=sys.stderr)
                break
    bar.close()
    return state, step_seconds


def _record(step, elapsed, metrics, batch, datasets) -> dict:
    tasks = metrics["tasks"]
    per_task, genotypes = [], {}
    for i, d in enumerate(batch.dataset_index):
        name = datasets[d].name
        per_task.append({"dataset": name, "weight": float(batch.weights[i]),
                         "val_loss": float(tasks["val_loss"][i]),
                         "val_accuracy": float(tasks["val_accuracy"][i]),
                         "age": int(tasks["age"][i]),  # inner steps the network had before
                         "lr_scale": float(tasks["lr_scale"][i]),
                         # dL/d log lr_scale over the slot's life (0 unless inner.rate_gradient = "shadow")
                         "rate_derivative": float(tasks["rate_derivative"][i]),
                         "shadow_failed": bool(tasks["shadow_failed"][i]),  # the rate took the truncated gradient
                         "weight_decay": float(tasks["weight_decay"][i])})
        genotypes.setdefault(name, report.arch_summary(tasks["arch_weights"][i], 0, 0)["genotype"])
    # Does the decoder tell datasets apart? The spread, across the step's datasets, of each
    # dataset's mean proposal (largest over edges x ops; 0 when the decoder ignores the code).
    by_dataset = [np.mean(tasks["arch_weights"][batch.dataset_index == d], axis=0)
                  for d in np.unique(batch.dataset_index)]
    spread = float(np.max(np.std(by_dataset, axis=0))) if len(by_dataset) > 1 else 0.0
    return {"step": step, "time_s": round(elapsed, 3), "meta_loss": float(metrics["meta_loss"]),
            "between_dataset_arch_std": spread,
            "grad_norm": float(metrics["grad_norm"]),
            "group_grad_norms": {k: float(v) for k, v in metrics["group_grad_norms"].items()},
            "skipped": bool(metrics["skipped"]), "skipped_total": int(metrics["skipped_total"]),
            "tasks": per_task, "genotypes": genotypes}


def write_summary(system, params, datasets, config, workdir: Path) -> dict:
    records = workdirs.read_metrics(workdir)
    summary = {"datasets": {}, "steps": len(records)}
    for dataset in datasets:
        recipe = propose_for(system, params, dataset, PROPOSAL_SHOTS, config.seed)
        summary["datasets"][dataset.name] = report.arch_summary(
            recipe.arch_weights, recipe.lr_scale, recipe.weight_decay)
        report.plot_arch_heatmap(recipe.arch_weights, f"{dataset.name}: {summary['datasets'][dataset.name]['genotype']}",
                             workdir / f"arch_{dataset.name}.png")
    if records:
        report.plot_meta_loss(records, workdir / "meta_loss.png")
        n = max(len(records) // 10, 1)
        first = float(np.mean([r["meta_loss"] for r in records[:n]]))
        last = float(np.mean([r["meta_loss"] for r in records[-n:]]))
        summary["meta_loss_first_10pct"], summary["meta_loss_last_10pct"] = first, last
    workdirs.write_json_atomic(workdir / "summary.json", summary)
    return summary

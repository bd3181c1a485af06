"""Many trainings of one network setup at once: rates, weight decays and seeds vmapped together.

A tuning grid (7 rates x 3 weight decays x 2 seeds) of the study's small networks is bound by
dispatch one training at a time: a step of a C=8 network on 32 images is a few dozen tiny
kernels. ``train_many`` runs every member as one vmapped program, one dispatch per chunk for
all of them, and measures each member as ``evaluate.train_genotype`` does (``evaluate.measure``).

    results = train_many(genotype, dataset, setup, members=[(1e-3, 5e-4, 0), (3e-3, 5e-4, 0)])

A member (``Member``) is ``(lr_scale, weight_decay, seed)``, and optionally its own length and
warm-up: with ``setup.learning_rate = 1`` its rate is ``lr_scale``, as in
``dimo.studies.schedules``. The optimizer and network are shared, the static part of the
program; a warm-up and cosine runs per member over its own length (``warmup_cosine``, traced), so
a grid at every horizon is one program, its shorter members measured when they end. A member's
training is the one ``train_genotype`` runs with its seed and length (same initialisation, same
batches, same schedule); the arithmetic of a batched convolution may round differently, so
figures agree to rounding, not bit for bit (``tests/test_many.py``). ``width`` pads the members
to a fixed count, so grids of any size reuse one compiled program.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
from datasets_meta import Dataset
from dimo.evaluation import evaluate
from dimo.inner.learned_optimizer import LOptConfig
from dimo.inner.teacher_loss import TeacherConfig
from dimo.inner.types import Recipe, make_task
from dimo.inner.unroll import InnerLoop, all_finite
from dimo.space import search_space
from dimo.space.supernet import Supernet


_all_finite = jax.jit(all_finite)


@functools.partial(jax.jit, static_argnums=0)
def _init_many(loop: InnerLoop, meta, recipes: Recipe, task, seeds):
    keys = jax.vmap(jax.random.key)(seeds)
    return jax.vmap(lambda key, recipe: loop.init(key, meta, recipe, task))(keys, recipes)


class Member(NamedTuple):
    """One training of ``train_many``: its rate (``lr_scale``), weight decay, seed and, if not the
    setup's, its length (where it is measured and, with a cosine, where its schedule ends) and warm-up."""

    lr_scale: float
    weight_decay: float
    seed: int
    steps: int | None = None
    warmup_steps: int | None = None


def warmup_cosine(step, warmup, steps):
    """``optax.warmup_cosine_decay_schedule(0, 1, warmup, steps, 0)`` at ``step`` with traced
    lengths (optax checks them as Python numbers), so trainings of several lengths share a program."""
    step = step.astype(jnp.float32)
    rise = jnp.clip(step, 0, warmup) / warmup
    fall = 0.5 * (1 + jnp.cos(jnp.pi * jnp.minimum(step - warmup, steps - warmup) / (steps - warmup)))
    return jnp.where(step < warmup, rise, fall)


@functools.partial(jax.jit, static_argnums=(0, 5, 8))
def _unroll_many(loop: InnerLoop, meta, recipes: Recipe, task, states, n: int, warmups, lengths, scheduled: bool):
    def one(recipe, state, warmup, length):
        def step(s, _):  # the rate's schedule through lr_scale: the loop itself runs at a constant rate
            factor = warmup_cosine(s.step, warmup, length) if scheduled else 1.0
            return loop.step(meta, recipe._replace(lr_scale=recipe.lr_scale * factor), task, s)

        return jax.lax.scan(step, state, None, length=n)

    return jax.vmap(one)(recipes, states, warmups, lengths)


def _member(tree, i: int):
    return jax.tree.map(lambda x: x[i], tree)


def train_many(genotype: search_space.Genotype, dataset: Dataset, setup: evaluate.TrainSetup, members,
               meta=None, lopt_cfg=None, teacher_cfg=None, width: int | None = None,
               chunk: int | None = None) -> list[dict]:
    """Trains ``genotype`` on ``dataset`` once per member (``Member`` or its first three fields),
    all in one vmapped program; a result per member, measured at its own length (validation and
    test accuracy and loss as ``evaluate.measure`` gives them, ``diverged``, ``final_train_loss``,
    the shared ``train_s``). With ``setup.schedule == "cosine"`` (SGD and Adam) each member warms
    up and decays over its own length, as ``evaluate.train_genotype`` of that length would.

    ``width`` (default: the number of members) pads with copies of the last member, whose
    results are dropped; ``chunk`` (default ``setup.chunk``) is the most steps per dispatch."""
    if not members:
        return []
    members = [Member(*m) for m in members]
    members = [m._replace(steps=m.steps or setup.steps, warmup_steps=m.warmup_steps or setup.warmup_steps)
               for m in members]
    width = width or len(members)
    if width < len(members):
        raise ValueError(f"width {width} is smaller than the {len(members)} members: raise it or split the members")
    padded = members + [members[-1]] * (width - len(members))
    scheduled = setup.schedule == "cosine"
    constant = dataclasses.replace(setup, schedule="constant", warmup_steps=0)  # the schedule goes per member
    loop = InnerLoop(Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage, affine=setup.affine,
                              genotype=genotype),
                     evaluate.inner_config(constant, lopt_cfg or LOptConfig(), teacher_cfg or TeacherConfig()))
    meta = meta if meta is not None else {"optimizer": None, "teacher": None}
    arch = jnp.asarray(genotype.one_hot())
    column = lambda field, dtype: jnp.asarray([getattr(m, field) for m in padded], dtype)  # noqa: E731
    recipes = Recipe(jnp.broadcast_to(arch, (width,) + arch.shape), column("lr_scale", jnp.float32),
                     column("weight_decay", jnp.float32))
    warmups, lengths = column("warmup_steps", jnp.float32), column("steps", jnp.float32)
    task = make_task(dataset)
    start = time.perf_counter()
    states = _init_many(loop, meta, recipes, task, column("seed", jnp.uint32))
    chunk, done, train_s, out = chunk or setup.chunk, 0, 0.0, {}
    for stop in sorted({m.steps for m in members}):
        while done < stop:
            n = min(chunk, stop - done)
            states, metrics = _unroll_many(loop, meta, recipes, task, states, n, warmups, lengths, scheduled)
            done += n
        jax.block_until_ready(states.params)
        train_s += time.perf_counter() - start
        for i, m in enumerate(members):
            if m.steps == stop:
                params, recipe = _member(states.params, i), _member(recipes, i)
                out[i] = {**evaluate.measure(loop, params, recipe, dataset, setup.eval_batch),
                          "diverged": not bool(_all_finite(params)), "steps": stop,
                          "final_train_loss": float(metrics["train_loss"][i, -1])}  # its last step's
        start = time.perf_counter()
    return [{**out[i], "train_s": train_s, "members": width} for i in range(len(members))]

"""Many trainings of one network setup at once: rates, weight decays and seeds vmapped together.

A tuning grid (7 rates x 3 weight decays x 2 seeds) of the study's small networks is bound by
dispatch one training at a time: a step of a C=8 network on 32 images is a few dozen tiny
kernels. ``train_many`` runs every member as one vmapped program, one dispatch per chunk for
all of them, and measures each member as ``evaluate.train_genotype`` does (``evaluate.measure``).

    results = train_many(genotype, dataset, setup, members=[(1e-3, 5e-4, 0), (3e-3, 5e-4, 0)])

A member is ``(lr_scale, weight_decay, seed)``: with ``setup.learning_rate = 1`` its rate is
``lr_scale``, as in ``dimo.studies.schedules``. The setup (optimizer, schedule, length) is shared:
it is the static part of the program. A member's training is the one ``train_genotype`` runs with
its seed (same initialisation, same batches); the arithmetic of a batched convolution may round
differently, so figures agree to rounding, not bit for bit (``tests/test_many.py``).
``width`` pads the members to a fixed count, so grids of any size reuse one compiled program.
"""

from __future__ import annotations

import functools
import time

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


@functools.partial(jax.jit, static_argnums=(0, 5))
def _unroll_many(loop: InnerLoop, meta, recipes: Recipe, task, states, n: int):
    return jax.vmap(lambda recipe, state: loop.unroll(meta, recipe, task, state, n))(recipes, states)


def _member(tree, i: int):
    return jax.tree.map(lambda x: x[i], tree)


def train_many(genotype: search_space.Genotype, dataset: Dataset, setup: evaluate.TrainSetup,
               members: list[tuple[float, float, int]], meta=None, lopt_cfg=None, teacher_cfg=None,
               width: int | None = None, chunk: int | None = None) -> list[dict]:
    """Trains ``genotype`` on ``dataset`` once per member ``(lr_scale, weight_decay, seed)``, all
    in one vmapped program; a result per member (validation and test accuracy and loss as
    ``evaluate.measure`` gives them, ``diverged``, ``final_train_loss``, the shared ``train_s``).

    ``width`` (default: the number of members) pads with copies of the last member, whose
    results are dropped; ``chunk`` (default ``setup.chunk``) is the steps per dispatch."""
    if not members:
        return []
    width = width or len(members)
    if width < len(members):
        raise ValueError(f"width {width} is smaller than the {len(members)} members: raise it or split the members")
    padded = list(members) + [members[-1]] * (width - len(members))
    lopt_cfg = lopt_cfg or LOptConfig()
    teacher_cfg = teacher_cfg or TeacherConfig()
    loop = InnerLoop(Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage, affine=setup.affine,
                              genotype=genotype), evaluate.inner_config(setup, lopt_cfg, teacher_cfg))
    meta = meta if meta is not None else {"optimizer": None, "teacher": None}
    arch = jnp.asarray(genotype.one_hot())
    recipes = Recipe(jnp.broadcast_to(arch, (width,) + arch.shape),
                     jnp.asarray([m[0] for m in padded], jnp.float32), jnp.asarray([m[1] for m in padded], jnp.float32))
    task = make_task(dataset)
    start = time.perf_counter()
    states = _init_many(loop, meta, recipes, task, jnp.asarray([m[2] for m in padded], jnp.uint32))
    chunk, done, losses = chunk or setup.chunk, 0, None
    while done < setup.steps:
        n = min(chunk, setup.steps - done)
        states, metrics = _unroll_many(loop, meta, recipes, task, states, n)
        losses, done = metrics["train_loss"], done + n
    jax.block_until_ready(states.params)
    train_s = time.perf_counter() - start
    out = []
    for i in range(len(members)):
        params, recipe = _member(states.params, i), _member(recipes, i)
        out.append({**evaluate.measure(loop, params, recipe, dataset, setup.eval_batch),
                    "diverged": not bool(_all_finite(params)),
                    "final_train_loss": float(jnp.mean(losses[i])), "train_s": train_s, "members": width})
    return out

"""Persistent inner states: truncated unrolls with staggered resets.

learned_optimization's ``TruncatedStep``: instead of training a fresh network for K steps
at every meta-step (which rewards whatever learns fastest in K steps, the short-horizon
bias), each of the meta-batch's task slots keeps its inner state (network, optimizer
state, student statistics) across meta-steps. A meta-step unrolls K more steps from each
slot's state and differentiates the validation loss after them (gradients stop at the
carried state, as in truncated backpropagation through time). A slot lives ``lifetime``
inner steps, ``L = lifetime / K`` meta-steps, then restarts from a fresh initialisation
on a newly drawn task. Slots are staggered by ``offset_i = i * L // slots`` meta-steps, so
one meta-batch mixes early and late training.

Everything here is a pure function of the meta-step, so a resumed run draws the same
tasks and resets the same slots as an uninterrupted one. ``lifetime = 0`` turns it off.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from datasets_meta.samplers import make_split
from dimo.inner.types import Recipe, Task, default_recipe
from dimo.inner.unroll import all_finite


def meta_steps_per_life(lifetime: int, steps: int) -> int:
    """L: meta-steps a slot lives (0 when persistence is off)."""
    return lifetime // steps if lifetime else 0


def offsets(slots: int, life: int) -> np.ndarray:
    return (np.arange(slots) * life) // slots


def fresh(step, slots: int, life: int):
    """[slots] bool: which slots start over at meta-step ``step`` (0-based; jit-able).

    Every slot starts at step 0; slot ``i`` then restarts whenever ``step + offset_i`` is a
    multiple of ``L``, so its first life is shortened by its offset and the ages stay mixed.
    """
    return ((step + jnp.asarray(offsets(slots, life))) % life == 0) | (step == 0)


def task_steps(step: int, slots: int, life: int) -> list[int]:
    """The meta-step at which each slot's current task was drawn (its last restart)."""
    return [max(0, int(step - (step + o) % life)) for o in offsets(slots, life)]


def age_weight(age, steps: int, lifetime: int):
    """A slot's meta-loss weight, ``2 (age + K) / (lifetime + K)``: proportional to the age its
    network is scored at (``age`` steps old when the segment starts, ``age + K`` at its end), 1 on
    average over a life (ages 0, K, ..., lifetime - K). The meta-loss of a fresh-network unroll
    scores what learns fastest in K steps; this one leans on what old networks make of a recipe,
    the end of training a full training is judged at, without dropping the young (#36,
    hypothesis 1: a meta-loss weighted toward old networks)."""
    return 2.0 * (age + steps) / (lifetime + steps)


def placeholder_task(image_shape, num_classes: int, dtype=jnp.float32) -> Task:
    """A task of the right shapes, for building a population before any task is drawn."""
    images = jnp.zeros((num_classes,) + tuple(image_shape), jnp.uint8)
    split = make_split(images, np.arange(num_classes), num_classes)
    return Task(split, split, jnp.arange(num_classes, dtype=jnp.int32), jnp.zeros(image_shape[-1:], dtype),
                jnp.ones(image_shape[-1:], dtype), jnp.int32(0))


def init_population(loop, meta, slots: int, image_shape, num_classes: int, key):
    """[slots]-stacked inner states of the right shapes (every slot resets at its first step)."""
    task = placeholder_task(image_shape, num_classes)
    recipe: Recipe = default_recipe()
    return jax.vmap(lambda k: loop.init(k, meta, recipe, task))(jax.random.split(key, slots))


def keep_if_finite(state, start):
    """``state``, or ``start`` (the state the segment began from) if ``state`` has a NaN or Inf.

    A slot whose K steps went non-finite (a diverging network, a corrupt batch) would carry
    it into every later meta-step of its life, each then skipped as non-finite, until the
    run stops for too many bad steps in a row. Keeping the segment's starting state instead
    (a fresh init where the slot restarted) leaves the slot on its task and schedule.
    """
    finite = all_finite(state)
    return jax.tree.map(lambda a, b: jnp.where(finite, a, b), state, start)


def continue_or_restart(loop, meta, recipe: Recipe, task: Task, carried, restart, key):
    """The state a slot's segment starts from: ``carried``, or a fresh init where ``restart``."""
    new = loop.init(key, meta, recipe, task)
    return jax.tree.map(lambda a, b: jnp.where(restart, a, b), new, carried)

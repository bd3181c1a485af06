"""The small types every layer above the search space shares: a task and a recipe.

``Recipe`` is what a decoder proposes for a dataset (soft architecture weights and two
training hyperparameters); ``Task`` is a classification task the inner loop trains on.
They live here, below the inner loop and meta-learning, so that neither imports the other
for them.
"""

from __future__ import annotations

from typing import NamedTuple

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from datasets_meta.samplers import Split, fixed_size_split
from dimo.infra import faults
from dimo.space import search_space


class Recipe(NamedTuple):
    """What a decoder proposes: the architecture and how to train it."""

    arch_weights: jax.Array  # [6, 5], rows on the simplex
    lr_scale: jax.Array  # multiplies the optimizer's learning rate
    weight_decay: jax.Array  # L2 coefficient added to the gradient


def default_recipe(dtype=jnp.float32) -> Recipe:
    return Recipe(jnp.asarray(search_space.uniform_arch_weights(), dtype), jnp.ones([], dtype), jnp.zeros([], dtype))


@flax.struct.dataclass
class Task:
    """A classification task: a dataset's train/val splits restricted to ``classes``."""

    train: Split
    val: Split
    classes: jax.Array  # [k] original labels; the position is the task label
    mean: jax.Array
    std: jax.Array
    fault: jax.Array  # int32 code of a test-injected numerical fault (dimo.infra.faults); 0 = none

    @property
    def num_classes(self) -> int:
        return self.classes.shape[0]


def make_task(dataset, classes=None, per_class: int | None = None, seed: int = 0) -> Task:
    """The task of ``dataset`` (a ``datasets_meta.Dataset``) on ``classes`` (default: all).

    With ``per_class``, each split keeps that many examples of each class, relabelled
    0..k-1: the task's shapes then depend only on (k, per_class, image shape), and a
    jitted meta-gradient compiled for one such task serves all of them. Without it, the
    whole splits are used (shapes follow the dataset).
    """
    classes = np.arange(dataset.num_classes) if classes is None else np.asarray(classes)
    if per_class is None:
        return Task(dataset.split("train"), dataset.split("val"), jnp.asarray(classes, jnp.int32),
                    jnp.asarray(dataset.mean), jnp.asarray(dataset.std), jnp.int32(faults.NONE))
    rng = np.random.default_rng(seed)
    train, val = (fixed_size_split(*dataset.arrays(s), classes, per_class, rng) for s in ("train", "val"))
    return Task(train, val, jnp.arange(len(classes), dtype=jnp.int32),
                jnp.asarray(dataset.mean), jnp.asarray(dataset.std), jnp.int32(faults.NONE))

"""What the rest of DiMO samples from a dataset, as pure, jit-able functions of a PRNG key.

* ``sample_batch``: minibatches uniform over a split's examples (inner-loop training).
* ``sample_classes`` + ``sample_task_batch``: class-subset tasks -- ``k`` of a dataset's
  classes, relabelled 0..k-1 in the order drawn -- so one dataset yields many
  meta-training tasks (as MetaD2A draws ImageNet subsets); their batches are class-balanced.
* ``support_set``: ``shots`` distinct examples of each task class, for the dataset embedding.
* ``fixed_size_split`` (host side, numpy): ``per_class`` examples of each of ``k`` classes,
  relabelled 0..k-1. Its shapes depend only on (k, per_class, image shape), so one
  compiled meta-step serves every dataset and every class subset.

>>> import jax, numpy as np
>>> split = make_split(np.zeros((6, 4, 4, 3), np.uint8), np.array([0, 1, 2, 0, 1, 2]), 3)
>>> x, y = support_set(jax.random.key(0), split, jax.numpy.arange(3), shots=2)
>>> x.shape, sorted(y.tolist())
((6, 4, 4, 3), [0, 0, 1, 1, 2, 2])
"""

from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np


@flax.struct.dataclass
class Split:
    images: jax.Array  # uint8 [N, H, W, C]
    labels: jax.Array  # int32 [N]
    class_index: jax.Array  # int32 [num_classes, max_count]: example indices per class, padded
    class_count: jax.Array  # int32 [num_classes]

    @property
    def num_classes(self) -> int:
        return self.class_index.shape[0]


def make_split(images, labels, num_classes: int) -> Split:
    labels = np.asarray(labels, np.int32)
    counts = np.bincount(labels, minlength=num_classes).astype(np.int32)
    index = np.zeros((num_classes, max(int(counts.max()), 1)), np.int32)
    for c in range(num_classes):
        members = np.flatnonzero(labels == c)
        index[c, :len(members)] = members
    return Split(jnp.asarray(images), jnp.asarray(labels), jnp.asarray(index), jnp.asarray(counts))


def fixed_size_split(images, labels, classes, per_class: int, rng: np.random.Generator) -> Split:
    """``per_class`` examples of each class in ``classes`` (without replacement where the
    class has enough), labelled by position in ``classes``."""
    labels = np.asarray(labels)
    chosen = []
    for cls in classes:
        members = np.flatnonzero(labels == cls)
        if len(members) == 0:
            raise ValueError(f"class {cls} has no examples in this split")
        chosen.append(rng.choice(members, per_class, replace=len(members) < per_class))
    idx = np.concatenate(chosen)
    return make_split(np.asarray(images)[idx], np.repeat(np.arange(len(classes)), per_class), len(classes))


def normalize(images, mean, std):
    """uint8 images -> float32, standardised per channel (mean/std on the [0, 1] scale)."""
    return (images.astype(jnp.float32) / 255.0 - mean) / std


def sample_batch(key, split: Split, batch_size: int):
    """``batch_size`` examples drawn uniformly (with replacement) from the whole split."""
    idx = jax.random.randint(key, (batch_size,), 0, split.labels.shape[0])
    return split.images[idx], split.labels[idx]


def sample_classes(key, num_classes: int, k: int):
    """A class-subset task: ``k`` distinct classes; position in the result is the new label."""
    return jax.random.permutation(key, num_classes)[:k]


def _example_in_class(key, split: Split, cls):
    slot = jax.random.randint(key, cls.shape, 0, split.class_count[cls])
    return split.class_index[cls, slot]


def sample_task_batch(key, split: Split, classes, batch_size: int):
    """A class-balanced batch of the task ``classes``, labels relabelled to 0..k-1."""
    label_key, example_key = jax.random.split(key)
    labels = jax.random.randint(label_key, (batch_size,), 0, classes.shape[0])
    idx = _example_in_class(example_key, split, classes[labels])
    return split.images[idx], labels


def support_set(key, split: Split, classes, shots: int):
    """``shots`` distinct examples of each class in ``classes`` (labels 0..k-1), class-major.

    Sampling without replacement is a top-k of random scores over each class's slots.
    A class with fewer than ``shots`` examples repeats some (real classes have plenty).
    """
    keys = jax.random.split(key, classes.shape[0])

    def per_class(key, cls):
        count = split.class_count[cls]
        slots = jnp.arange(split.class_index.shape[1])
        scores = jnp.where(slots < count, jax.random.uniform(key, slots.shape), -1.0)
        _, chosen = jax.lax.top_k(scores, shots)
        chosen = jnp.where(chosen < count, chosen, chosen % jnp.maximum(count, 1))
        return split.class_index[cls, chosen]

    idx = jax.vmap(per_class)(keys, classes).reshape(-1)
    labels = jnp.repeat(jnp.arange(classes.shape[0]), shots)
    return split.images[idx], labels

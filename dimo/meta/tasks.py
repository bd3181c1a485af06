"""Host-side sampling of the tasks of one meta-step, a pure function of (seed, step).

Each meta-step trains on ``tasks_per_step`` class-subset tasks. Task ``i`` of step ``s``
comes from dataset ``(s * tasks_per_step + i) % num_datasets`` (so every dataset is
visited equally often; datasets of weight 0 are skipped), with ``classes_per_task`` of its classes drawn at random,
``per_class`` train and validation examples of each, and the first ``support_shots`` of
each class's train examples as the support set the embedding reads. All arrays have
fixed shapes, so one compiled meta-step serves every dataset.

``transforms`` (``task.transforms``, ``dimo.meta.task_transforms``) turns some grey tasks into
colour ones, drawn from a generator of their own so the class and example draws stay as they were.

Because the draw depends only on (seed, step), a resumed run sees the same tasks as an
uninterrupted one.

The expectation over datasets is weighted: a task's weight is its dataset's importance
weight (uniform by default) shared among that dataset's tasks in the step, normalised
so the weights of a step sum to one.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import jax
import numpy as np

from datasets_meta import Dataset
from dimo.inner.types import Task, make_task
from dimo.meta import task_transforms
from dimo.meta.name_values import name_values


class TaskBatch(NamedTuple):
    tasks: Task  # every leaf has a leading [tasks_per_step] axis
    support_images: np.ndarray  # [T, k * shots, H, W, C] uint8
    support_labels: np.ndarray  # [T, k * shots]
    weights: np.ndarray  # [T], sums to 1
    dataset_index: np.ndarray  # [T]


def parse_weights(text: str, names: Sequence[str]) -> np.ndarray:
    """'mnist:2,cifar10:1' -> weights in ``names`` order (unlisted: 1); '' -> uniform."""
    weights = {name: 1.0 for name in names}
    weights.update(name_values(text, "meta.dataset_weights", names, "WEIGHT", lambda w: w >= 0, ">= 0"))
    w = np.asarray([weights[n] for n in names], np.float64)
    if w.sum() <= 0:
        raise ValueError("meta.dataset_weights: at least one weight must be positive")
    return w / w.sum()


def support_from(task: Task, classes: int, per_class: int, shots: int):
    """The first ``shots`` train examples of each class (fixed_size_split is class-major)."""
    idx = (np.arange(classes)[:, None] * per_class + np.arange(shots)[None]).reshape(-1)
    return np.asarray(task.train.images)[idx], np.repeat(np.arange(classes), shots)


def sample_tasks(datasets: Sequence[Dataset], dataset_weights: np.ndarray, step: int, seed: int,
                 tasks_per_step: int, classes_per_task: int, per_class: int,
                 support_shots: int, fault: int = 0, draw_steps: Sequence[int] | None = None,
                 transforms: str = "") -> TaskBatch:
    """The tasks of meta-step ``step``; ``fault`` marks them all (test-only, ``dimo.infra.faults``).

    ``draw_steps[i]``: slot ``i`` holds the task drawn at that meta-step instead (a
    persistent slot keeps its task until it restarts, ``dimo.inner.truncation``).
    """
    spec = task_transforms.parse(transforms)
    tasks, images, labels, which = [], [], [], []
    active = np.flatnonzero(dataset_weights > 0)  # a weight of 0 leaves a dataset out
    for i in range(tasks_per_step):
        drawn = step if draw_steps is None else draw_steps[i]
        d = int(active[(drawn * tasks_per_step + i) % len(active)])
        rng = np.random.default_rng([seed, drawn, i])
        classes = rng.choice(datasets[d].num_classes, classes_per_task, replace=False)
        task = make_task(datasets[d], classes, per_class, seed=int(rng.integers(2 ** 31)))
        if spec:
            task = task_transforms.apply(task, spec, np.random.default_rng([seed, drawn, i, 1]))
        task = task.replace(fault=np.int32(fault))
        x, y = support_from(task, classes_per_task, per_class, support_shots)
        tasks.append(task)
        images.append(x)
        labels.append(y)
        which.append(d)
    which = np.asarray(which)
    counts = np.bincount(which, minlength=len(datasets))
    weights = dataset_weights[which] / counts[which]
    weights = weights / weights.sum()
    stacked = jax.tree.map(lambda *leaves: np.stack([np.asarray(l) for l in leaves]), *tasks)
    return TaskBatch(stacked, np.stack(images), np.stack(labels), weights.astype(np.float32), which)

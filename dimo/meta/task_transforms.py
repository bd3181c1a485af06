"""Colour and texture versions of grey tasks: a wider meta-training task family (#36/#38, hypothesis 2).

Every meta-training dataset is grey, and both held-out datasets are colour. A network, a
learned optimizer and a dataset embedding meta-trained on grey digits and clothes alone have
never seen a colour image; the leave-one-out study found the optimizer level with scheduled Adam
on unseen grey data and behind it on colour data. These transforms make colour tasks out of the
grey datasets at hand, without reading a held-out image:

* ``colour:P`` -- with probability P a grey task becomes a colour task: each image's ink and
  paper (its grey level x in [0, 1]) take colours, ``paper * (1 - x) + ink * x``. A task draws a
  palette (an ink and a paper colour), each image a jittered copy of it, so a task has colour
  statistics of its own, as a dataset does, and images within it still differ.
* ``texture:P`` -- with probability P a colour task's paper is a smooth random colour field
  (a 4x4 grid of colours, bilinearly upsampled) instead of one colour: backgrounds that carry
  signal-free structure, as natural images' do.

The task's normalisation statistics are recomputed from its transformed training images, as a
dataset's are from its training split. Draws come from the task's own generator, so a run is
still a pure function of (seed, step). Grey is told by the images, not the dataset's name:
a colour dataset's tasks pass through unchanged.
"""

from __future__ import annotations

import jax
import numpy as np

from dimo.inner.types import Task
from dimo.meta.name_values import name_values

TRANSFORMS = ("colour", "texture")
JITTER = 0.15  # std of an image's colours around its task's palette, on the [0, 1] scale
TEXTURE_GRID = 4


def parse(text: str) -> dict[str, float]:
    """'colour:0.5,texture:0.5' -> {name: probability}; '' -> {} (no transform)."""
    return name_values(text, "task.transforms", TRANSFORMS, "PROBABILITY", lambda p: 0 <= p <= 1, "in [0, 1]")


def is_grey(images: np.ndarray) -> bool:
    return images.shape[-1] == 3 and bool(np.all(images[..., :1] == images[..., 1:]))


def _smooth_field(rng: np.random.Generator, base: np.ndarray, n: int, size: int) -> np.ndarray:
    """[n, size, size, 3]: per image a TEXTURE_GRID^2 grid of colours around ``base``, upsampled."""
    grid = np.clip(base + 0.3 * rng.standard_normal((n, TEXTURE_GRID, TEXTURE_GRID, 3)), 0, 1)
    # On the host CPU, where the sampler runs: on an accelerator this would be a device round
    # trip per task every meta-step, queued behind the meta-step in flight.
    with jax.default_device(jax.local_devices(backend="cpu")[0]):
        return np.asarray(jax.image.resize(grid, (n, size, size, 3), "bilinear"))


def colourise(images: np.ndarray, palette: np.ndarray, rng: np.random.Generator,
              textured: bool) -> np.ndarray:
    """Grey uint8 [n, H, W, 3] -> colour uint8: paper * (1 - x) + ink * x, colours per image
    jittered around ``palette`` ([2, 3]: paper, ink), the paper a smooth field if ``textured``."""
    n, size = images.shape[0], images.shape[1]
    x = images[..., :1].astype(np.float32) / 255.0
    colours = np.clip(palette[None] + JITTER * rng.standard_normal((n, 2, 3)), 0, 1)
    paper = colours[:, None, None, 0]
    if textured:
        paper = _smooth_field(rng, paper[:, 0, 0, None, None], n, size)
    ink = colours[:, None, None, 1]
    return np.round(255 * (paper * (1 - x) + ink * x)).astype(np.uint8)


def apply(task: Task, spec: dict[str, float], rng: np.random.Generator) -> Task:
    """``task`` with ``spec``'s transforms drawn by ``rng`` (all or none of its images)."""
    train_images = np.asarray(task.train.images)
    # Every draw is made whether or not it is used, so one task's transform never shifts the next's.
    colour, textured = rng.random() < spec.get("colour", 0.0), rng.random() < spec.get("texture", 0.0)
    palette = rng.random((2, 3))
    image_rng = np.random.default_rng(rng.integers(2 ** 31))
    if not colour or not is_grey(train_images):
        return task
    train = colourise(train_images, palette, image_rng, textured)
    val = colourise(np.asarray(task.val.images), palette, image_rng, textured)
    scaled = train.astype(np.float32) / 255.0
    mean, std = scaled.mean((0, 1, 2)), scaled.std((0, 1, 2)) + 1e-3
    return task.replace(train=task.train.replace(images=train), val=task.val.replace(images=val),
                        mean=np.asarray(mean, np.asarray(task.mean).dtype),
                        std=np.asarray(std, np.asarray(task.std).dtype))

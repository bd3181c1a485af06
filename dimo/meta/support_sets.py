"""Support sets the dataset embedding reads when DiMO proposes for a whole dataset."""

from __future__ import annotations

import jax
import numpy as np

from dimo.meta import system as system_lib

# Examples per class the embedding reads when proposing (meta-training reads
# task.support_shots). The code is a function of class means: more shots estimate the same
# means with less noise, so that the code tells datasets apart rather than support draws
# (measured in issue #14's note: 5 shots, codes of one dataset spread as far as codes of
# two; 50 shots, every code nearest its own dataset's centre).
PROPOSAL_SHOTS = 50


def reference_support(dataset, shots: int, seed: int):
    """A fixed class-balanced support set over *all* of a dataset's classes (at most as many
    shots as its smallest class has training examples)."""
    rng = np.random.default_rng(seed)
    images, labels = dataset.arrays("train")
    shots = min(shots, int(np.bincount(labels, minlength=dataset.num_classes).min()))
    idx = np.concatenate([rng.choice(np.flatnonzero(labels == c), shots, replace=False)
                          for c in range(dataset.num_classes)])
    return images[idx], np.repeat(np.arange(dataset.num_classes), shots)


def propose_for(system, params, dataset, shots: int, seed: int = 0):
    """(arch weights, lr scale, weight decay) proposed for ``dataset`` (numpy)."""
    images, labels = reference_support(dataset, shots, seed)
    recipe = system_lib.propose(system, params, images, labels, dataset.mean, dataset.std,
                                dataset.num_classes)
    return jax.device_get(recipe)
